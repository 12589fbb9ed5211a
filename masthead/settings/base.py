"""Settings shared by every environment. Everything a deployment changes comes from the
environment, so one code base serves the demo, the tests and production."""

import copy
import os
from email.utils import formataddr
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

from masthead.core.release import release
from masthead.settings.caching import redis_caches

PROJECT_DIR = Path(__file__).resolve().parent.parent
BASE_DIR = PROJECT_DIR.parent
VAR_DIR = Path(os.environ.get("MASTHEAD_VAR_DIR", BASE_DIR / "var"))
# The embedded database, media and collected static files live here; a fresh clone has none.
VAR_DIR.mkdir(parents=True, exist_ok=True)


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    if value.lower() in {"1", "true", "yes", "on"}:
        return True
    if value.lower() in {"0", "false", "no", "off"}:
        return False
    raise ImproperlyConfigured(f"{name} must be true or false, not {value!r}")


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


SECRET_KEY = os.environ.get("SECRET_KEY", "")
DEBUG = False
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]")

INSTALLED_APPS = [
    "masthead.core",
    "masthead.readers",
    "masthead.news",
    "masthead.access",
    "masthead.campaigns",
    "masthead.subscriptions",
    "masthead.notices",
    "masthead.api",
    "masthead.demo",
    "wagtail.contrib.redirects",
    "wagtail.contrib.routable_page",
    "wagtail.contrib.settings",
    "wagtail.embeds",
    "wagtail.sites",
    "wagtail.users",
    "wagtail.snippets",
    "wagtail.documents",
    "wagtail.images",
    "wagtail.search",
    "wagtail.admin",
    "wagtail",
    "modelcluster",
    "taggit",
    "django_filters",
    # The task queue: django_tasks' checks and signals, django_tasks_db's table and worker.
    "django_tasks",
    "django_tasks_db",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
]

MIDDLEWARE = [
    # First, so the request id and the access log cover every response.
    "masthead.core.middleware.RequestIdMiddleware",
    # Next, so its response half sees every cookie the others set (masthead.core.middleware).
    "masthead.core.middleware.PrivateResponseMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "masthead.core.middleware.ContentSecurityPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "masthead.core.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "wagtail.contrib.redirects.middleware.RedirectMiddleware",
    "masthead.access.middleware.ReaderMiddleware",
]

ROOT_URLCONF = "masthead.urls"
WSGI_APPLICATION = "masthead.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [PROJECT_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "masthead.core.context_processors.site",
                "masthead.campaigns.context_processors.campaigns",
                "wagtail.contrib.settings.context_processors.settings",
            ],
        },
    },
]

DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL") or f"sqlite:///{VAR_DIR / 'masthead.sqlite3'}",
        conn_max_age=int(os.environ.get("DATABASE_CONN_MAX_AGE", "0")),
        # A kept connection that died (PostgreSQL restarted) is replaced, not an error.
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Take the write lock at BEGIN, so concurrent meter writes queue instead of failing.
    # WAL lets readers run beside the writer; synchronous=NORMAL is durable across a crash
    # of the app, which is what a meter write needs.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            "transaction_mode": "IMMEDIATE",
            "timeout": 10,
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        }
    )
elif DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # A stopped or unreachable server fails the request within seconds (a branded 503,
    # masthead.core.errors) instead of holding a worker.
    DATABASES["default"].setdefault("OPTIONS", {}).setdefault(
        "connect_timeout", int(os.environ.get("DATABASE_CONNECT_TIMEOUT", "3"))
    )
    # The app server cannot interrupt a request (granian), so PostgreSQL cancels a statement
    # that runs longer than this; deploy/granian.sh sets it for the app servers only (0: off).
    _statement_timeout_ms = int(os.environ.get("DATABASE_STATEMENT_TIMEOUT_MS") or 0)
    if _statement_timeout_ms:
        DATABASES["default"]["OPTIONS"]["options"] = " ".join(
            filter(
                None,
                [
                    DATABASES["default"]["OPTIONS"].get("options"),
                    f"-c statement_timeout={_statement_timeout_ms}",
                ],
            )
        )
    # The meter's tables, on the same database through connections whose commits do not
    # wait for the disk (masthead.access.meter.router; "The meter alias" in docs/production.md).
    DATABASES["meter"] = copy.deepcopy(DATABASES["default"])
    DATABASES["meter"]["OPTIONS"]["options"] = " ".join(
        filter(None, [DATABASES["meter"]["OPTIONS"].get("options"), "-c synchronous_commit=off"])
    )
DATABASE_ROUTERS = ["masthead.access.meter.router.MeterRouter"]
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = os.environ.get("REDIS_URL", "")
# Every cache key starts with the release (masthead.core.release: the version and the
# migrations), so no value pickled by one release is read by another whose rows differ.
CACHE_KEY_PREFIX = f"masthead:{release()}"
# What the fail-soft cache ignored goes to the log, not unseen.
DJANGO_REDIS_LOG_IGNORED_EXCEPTIONS = True
DJANGO_REDIS_LOGGER = "masthead.cache"
# django-redis's default, named: its close() on every request's end asks for this setting,
# and a setting that is not there costs Django's lazy settings an exception each time.
DJANGO_REDIS_CLOSE_CONNECTION = False
if REDIS_URL:
    # django-redis: "default" fails soft, "strict" raises (masthead.settings.caching).
    CACHES = redis_caches(REDIS_URL, CACHE_KEY_PREFIX)
    # Sessions read from Redis, written to both; a lost Redis falls back to the database.
    # Django's cached_db, whose keys name the signed-in account so the account comes in the
    # same round trip as the session (masthead.readers.sessions).
    SESSION_ENGINE = "masthead.readers.sessions"
else:
    # One process's memory (make demo); both names share one store.
    CACHES = {
        name: {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "KEY_PREFIX": CACHE_KEY_PREFIX,
        }
        for name in ("default", "strict")
    }

AUTH_USER_MODEL = "readers.User"
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTHENTICATION_BACKENDS = ["masthead.readers.backends.EmailBackend"]
LOGIN_URL = "readers:sign-in"
LOGIN_REDIRECT_URL = "/"
PASSWORD_RESET_TIMEOUT = 3600
# The SMTP server for reader e-mails (production; dev prints them, tests keep them in memory).
EMAIL_HOST = os.environ.get("EMAIL_HOST", "localhost")
EMAIL_PORT = int(os.environ.get("EMAIL_PORT", "25"))
EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
EMAIL_TIMEOUT = 10
# Background tasks (django-tasks). "default" runs Wagtail's own tasks (the reference index,
# deleting a replaced file) inside the request, as Wagtail does when nothing is configured.
# "mail" is the database queue that a worker runs: a row per task, run by
# `manage.py db_worker --backend mail --queue-name default,search` (docs/production.md). Its
# "default" queue sends the e-mails (masthead.core.mail); "search" reindexes the archive
# when the teaser length changes (masthead.news.search_index), minutes on a large site.
TASKS = {
    "default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"},
    "mail": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default", "search"]},
}
# A send that fails is tried again after each of these delays in seconds (1 min, 5 min,
# 30 min, 2 h, 6 h, 12 h: 7 attempts over about 21 hours); after the last it is Failed.
MASTHEAD_MAIL_RETRY_DELAYS = [
    int(delay) for delay in env_list("MASTHEAD_MAIL_RETRY_DELAYS", "60,300,1800,7200,21600,43200")
]
# E-mail-sending attempts (links, resets, sign-up): (attempts, window in seconds) per address
# typed and per client IP.
MASTHEAD_RATE_LIMIT_ACCOUNT = (5, 15 * 60)
MASTHEAD_RATE_LIMIT_IP = (20, 15 * 60)
# Failed passwords (web and API; masthead.readers.ratelimit, docs/readers-glossary.md):
# (failures, window in seconds) per account and client network and per account, both only
# from networks and browsers the account never signed in from, and per client network.
MASTHEAD_SIGN_IN_LIMIT_ACCOUNT_NETWORK = (10, 60 * 60)
MASTHEAD_SIGN_IN_LIMIT_ACCOUNT = (100, 60 * 60)
MASTHEAD_SIGN_IN_LIMIT_NETWORK = (30, 15 * 60)
# How long a browser or network that signed in to an account stays exempt for that account.
MASTHEAD_SIGN_IN_KNOWN_DAYS = 90
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = os.environ.get("TIME_ZONE", "Asia/Tokyo")
USE_I18N = True
USE_TZ = True
# One date format for readers, "7 December 2026" (masthead.core.formats).
FORMAT_MODULE_PATH = ["masthead.core.formats"]

STATIC_URL = "/static/"
STATICFILES_DIRS = [PROJECT_DIR / "static"]
STATIC_ROOT = VAR_DIR / "static"
MEDIA_URL = "/media/"
MEDIA_ROOT = Path(os.environ.get("MEDIA_ROOT", VAR_DIR / "media"))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}

DATA_UPLOAD_MAX_NUMBER_FIELDS = 10_000

SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "strict-origin-when-cross-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
# Content-Security-Policy (masthead.core.middleware): the public site has no inline script
# or style. frame-src admits the video players an article's embed block may show (their
# scripts stay out); form-action admits Stripe's hosted pages, because browsers apply it to
# the redirect that follows our checkout form. Wagtail's admin needs inline script: exempt.
MASTHEAD_CSP = {
    "default-src": ["'self'"],
    "script-src": ["'self'"],
    "style-src": ["'self'"],
    "img-src": ["'self'", "data:"],
    "frame-src": env_list(
        "MASTHEAD_CSP_FRAME_SRC",
        "https://www.youtube-nocookie.com,https://www.youtube.com,https://player.vimeo.com",
    ),
    "frame-ancestors": ["'none'"],
    "base-uri": ["'self'"],
    "form-action": ["'self'", "https://checkout.stripe.com", "https://billing.stripe.com"],
    "object-src": ["'none'"],
}
MASTHEAD_CSP_REPORT_ONLY = env_bool("MASTHEAD_CSP_REPORT_ONLY", False)
MASTHEAD_CSP_EXEMPT_PATHS = ["/admin/"]

# The paywall
MASTHEAD_METER_STORE = os.environ.get("MASTHEAD_METER_STORE", "masthead.access.meter.db")
MASTHEAD_METER_REDIS_URL = os.environ.get("MASTHEAD_METER_REDIS_URL", "")
MASTHEAD_READER_COOKIE = "mh_reader"
MASTHEAD_SUBSCRIBE_URL = os.environ.get("MASTHEAD_SUBSCRIBE_URL", "/subscribe/")
# How long a process trusts the cache generation tokens it read (masthead.core.generations):
# a publish in another worker reaches this one's pages at most this many seconds later.
MASTHEAD_GENERATION_LOCAL_SECONDS = float(os.environ.get("MASTHEAD_GENERATION_LOCAL_SECONDS", "1"))
# Seconds a worker keeps the Wagtail site it found for a host (masthead.core.sites).
MASTHEAD_SITE_SECONDS = float(os.environ.get("MASTHEAD_SITE_SECONDS", "5"))
# How long a generation token lives: the bound on a publish whose cache writes all failed
# (every cached page is rendered again this often). docs/production.md.
MASTHEAD_GENERATION_MAX_AGE = int(os.environ.get("MASTHEAD_GENERATION_MAX_AGE", "300"))
# Buckets of listing families (a series, a topic): a publish forgets the related-articles
# lists of its own families' buckets only (masthead.core.generations). More buckets, fewer
# lists rendered again after a publish, and more tokens each process reads once a second.
MASTHEAD_LISTING_BUCKETS = int(os.environ.get("MASTHEAD_LISTING_BUCKETS", "256"))
# How many reverse proxies in front of the app append to X-Forwarded-For (nginx: 1).
MASTHEAD_TRUSTED_PROXY_HOPS = int(os.environ.get("MASTHEAD_TRUSTED_PROXY_HOPS", "0"))
MASTHEAD_CRAWLER_DNS_TIMEOUT = float(os.environ.get("MASTHEAD_CRAWLER_DNS_TIMEOUT", "1.0"))
# How long a subscription whose renewal failed (past due) keeps access.
MASTHEAD_PAST_DUE_GRACE_DAYS = int(os.environ.get("MASTHEAD_PAST_DUE_GRACE_DAYS", "3"))
# Subscription e-mails (manage.py send_notices): warn this many days before an unpaid trial
# ends; a run looks this many days back for payments and ended access (see notices/outbox.py).
MASTHEAD_TRIAL_ENDING_NOTICE_DAYS = int(os.environ.get("MASTHEAD_TRIAL_ENDING_NOTICE_DAYS", "3"))
MASTHEAD_NOTICE_LOOKBACK_DAYS = int(os.environ.get("MASTHEAD_NOTICE_LOOKBACK_DAYS", "7"))
# The one opt-in for demo conveniences: the offline test payment provider, `load_demo` and
# its accounts with a published password. `make demo`, `make prod-up`, the system tests and
# the bench set it; production settings refuse those conveniences without it, and
# `check --deploy` names each one it finds (masthead.E022, E023, E031).
MASTHEAD_DEMO = env_bool("MASTHEAD_DEMO", False)
# `load_demo` makes every rendition its pages show ahead (masthead.demo.renditions; about
# a second of CPU per article). The tests turn it off except where they test it.
MASTHEAD_DEMO_RENDITIONS = env_bool("MASTHEAD_DEMO_RENDITIONS", True)
# Articles on a page of a listing (sections, series, author and topic pages). The demo's
# sections hold seven stories each, so a demo lists five a page and shows its pagination.
MASTHEAD_LISTING_PAGE_SIZE = int(
    os.environ.get("MASTHEAD_LISTING_PAGE_SIZE") or (5 if MASTHEAD_DEMO else 20)
)
# Who takes payments: "stripe", or "test" (offline: card 4242… pays; the default, which
# production settings accept only with MASTHEAD_DEMO), or a dotted path.
MASTHEAD_PAYMENT_PROVIDER = os.environ.get("MASTHEAD_PAYMENT_PROVIDER") or "test"
# Stripe (MASTHEAD_PAYMENT_PROVIDER=stripe); STRIPE_API_BASE points at localstripe in tests.
STRIPE_SECRET_KEY = os.environ.get("STRIPE_SECRET_KEY", "")
STRIPE_WEBHOOK_SECRET = os.environ.get("STRIPE_WEBHOOK_SECRET", "")
STRIPE_API_BASE = os.environ.get("STRIPE_API_BASE", "https://api.stripe.com")
# Seconds any one Stripe call may take (the SDK's own default is 80): checkout then shows
# "payments are unavailable" (503) instead of holding a worker.
STRIPE_TIMEOUT_SECONDS = float(os.environ.get("STRIPE_TIMEOUT_SECONDS", "10"))

# Wagtail
MASTHEAD_SITE_NAME = os.environ.get("MASTHEAD_SITE_NAME", "The Meridian Ledger")
WAGTAIL_SITE_NAME = MASTHEAD_SITE_NAME
# Readers see the publication as the sender: a name (the publication's by default) and an
# address of your domain. `check --deploy` refuses a placeholder address (masthead.E040).
MASTHEAD_MAIL_FROM_NAME = os.environ.get("MASTHEAD_MAIL_FROM_NAME") or MASTHEAD_SITE_NAME
MASTHEAD_MAIL_FROM_ADDRESS = os.environ.get("MASTHEAD_MAIL_FROM_ADDRESS", "no-reply@localhost")
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL") or formataddr(
    (MASTHEAD_MAIL_FROM_NAME, MASTHEAD_MAIL_FROM_ADDRESS)
)
WAGTAILADMIN_BASE_URL = os.environ.get("WAGTAILADMIN_BASE_URL", "http://127.0.0.1:8000")
# Site search (docs/search.md): the database backend picks the engine's full-text search,
# SQLite's FTS5 or PostgreSQL's; on PostgreSQL with English stemming whatever the server's
# default_text_search_config (SQLite's backend has no such setting).
WAGTAILSEARCH_BACKENDS = {
    "default": {"BACKEND": "wagtail.search.backends.database", "SEARCH_CONFIG": "english"}
}
WAGTAILDOCS_EXTENSIONS = ["csv", "docx", "odt", "pdf", "pptx", "rtf", "txt", "xlsx", "zip"]
WAGTAILIMAGES_EXTENSIONS = ["gif", "jpg", "jpeg", "png", "webp"]
WAGTAILEMBEDS_RESPONSIVE_HTML = True
# The admin calls no third party by itself (embeds an editor adds are the editor's choice):
# no Gravatar (staff addresses' hashes stay here; avatars show offline) and no update check
# against Wagtail's release server.
WAGTAIL_GRAVATAR_PROVIDER_URL = None
WAGTAIL_ENABLE_UPDATE_CHECK = False
# Serve uploaded media from Django (the demo and the tests); nginx serves it in production.
MASTHEAD_SERVE_MEDIA = False

# Readable lines by default; production switches to one JSON object per line
# (masthead.core.logging) and turns on the per-request access log (`masthead.requests`).
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "text": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
        "json": {"()": "masthead.core.logging.JsonFormatter"},
        "django.server": {
            "()": "django.utils.log.ServerFormatter",
            "format": "[{server_time}] {message}",
            "style": "{",
        },
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": os.environ.get("MASTHEAD_LOG_FORMAT") or "text",
        },
        "django.server": {"class": "logging.StreamHandler", "formatter": "django.server"},
    },
    # Django's own default configuration gives the "django" logger a console handler of its
    # own (with DEBUG on) besides passing records up to ours: every line twice. Here it only
    # passes them up, at the root's level. Configuring it resets its children, so runserver's
    # request lines ("django.server") get their handler back as Django's defaults have it.
    "loggers": {
        "django": {"handlers": [], "level": "NOTSET", "propagate": True},
        "django.server": {"handlers": ["django.server"], "level": "INFO", "propagate": False},
    },
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "WARNING")},
}
