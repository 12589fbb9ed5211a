"""The document title: the page's own title, then the publication's name, exactly once."""

SEPARATOR = " | "


def page_title(title: str, site_name: str) -> str:
    """`title` followed by the publication's name, unless it is empty or already says it
    (the home page, or a title an editor ended with the name): never the name twice."""
    title = " ".join(title.split())
    if not title or title == site_name:
        return site_name
    suffix = SEPARATOR + site_name
    return title if title.endswith(suffix) else title + suffix
