"""The embedded demo: SQLite under var/, local-memory cache, console e-mail."""

import os

from .base import *  # noqa: F403

# Off unless asked for (DEBUG=true): the demo shows readers the site's own 404 and 500 pages,
# not Django's debug page with every URL of the site.
DEBUG = env_bool("DEBUG", False)  # noqa: F405
SECRET_KEY = os.environ.get("SECRET_KEY") or "dev-only-insecure-key-never-used-in-production"  # noqa: S105
EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"
MASTHEAD_SERVE_MEDIA = True
