"""Site-wide pieces that belong to no single domain: the site context and error pages."""
