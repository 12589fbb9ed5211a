"""The embedded demo: SQLite under var/, local-memory cache, console e-mail."""

import os

from .base import *  # noqa: F403

DEBUG = True
SECRET_KEY = os.environ.get("SECRET_KEY") or "dev-only-insecure-key-never-used-in-production"  # noqa: S105
EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"
MASTHEAD_SERVE_MEDIA = True
