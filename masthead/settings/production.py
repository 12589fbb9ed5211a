"""Production: every secret and host comes from the environment; HTTPS everywhere.

The app runs behind a TLS-terminating proxy that sets X-Forwarded-Proto."""

import os

from django.core.exceptions import ImproperlyConfigured

from .base import *  # noqa: F403
from .base import LOGGING, SECRET_KEY, env_bool

if not SECRET_KEY or len(SECRET_KEY) < 50:
    raise ImproperlyConfigured("SECRET_KEY must be set to at least 50 random characters.")

DEBUG = False
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env_bool("MASTHEAD_SSL_REDIRECT", True)
# Health probes talk to an app server directly, over plain HTTP (masthead.core.health).
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$"]
SECURE_HSTS_SECONDS = 31_536_000
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = True
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
# One JSON object per log line, and one access-log line per request at INFO
# (masthead.core.logging and .middleware); MASTHEAD_ACCESS_LOG=false when nginx's is enough.
LOGGING["handlers"]["console"]["formatter"] = os.environ.get("MASTHEAD_LOG_FORMAT") or "json"
if env_bool("MASTHEAD_ACCESS_LOG", True):
    LOGGING["loggers"]["masthead.requests"] = {"level": "INFO"}
