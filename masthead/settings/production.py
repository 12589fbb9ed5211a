"""Production: every secret and host comes from the environment; HTTPS everywhere.

The app runs behind a TLS-terminating proxy that sets X-Forwarded-Proto."""

import os

from django.core.exceptions import ImproperlyConfigured

from .base import *  # noqa: F403
from .base import LOGGING, MASTHEAD_DEMO, MASTHEAD_PAYMENT_PROVIDER, SECRET_KEY, env_bool

if not SECRET_KEY or len(SECRET_KEY) < 50:
    raise ImproperlyConfigured("SECRET_KEY must be set to at least 50 random characters.")
# The offline test provider takes card 4242… as payment: only a demo may run it.
if not MASTHEAD_DEMO and MASTHEAD_PAYMENT_PROVIDER in (
    "test",
    "masthead.subscriptions.payments.test_provider",
):
    raise ImproperlyConfigured(
        "MASTHEAD_PAYMENT_PROVIDER is 'test' (the default when it is unset): the offline test "
        "provider gives a subscription for test card 4242 4242 4242 4242. Set "
        "MASTHEAD_PAYMENT_PROVIDER=stripe with STRIPE_SECRET_KEY and STRIPE_WEBHOOK_SECRET, "
        "or MASTHEAD_DEMO=true for a demo that takes no real payments."
    )

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
