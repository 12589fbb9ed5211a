"""Settings as deployments use them, checked in subprocesses with a clean environment."""

import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from django.db import connection

ROOT = Path(__file__).resolve().parents[2]


def run(code_or_args, **env):
    environment = {k: v for k, v in os.environ.items() if not k.startswith("DJANGO_")}
    environment.update(env)
    args = code_or_args if isinstance(code_or_args, list) else ["-c", code_or_args]
    return subprocess.run(
        [sys.executable, *args], cwd=ROOT, env=environment, capture_output=True, text=True
    )


def production_env(**extra):
    """A real deployment's: live Stripe keys, and no demo opt-in whatever the caller's shell
    has."""
    return {
        "DJANGO_SETTINGS_MODULE": "masthead.settings.production",
        "SECRET_KEY": secrets.token_urlsafe(60),
        "ALLOWED_HOSTS": "news.example",
        "DATABASE_URL": "sqlite:///:memory:",
        "MASTHEAD_DEMO": "",
        "MASTHEAD_PAYMENT_PROVIDER": "stripe",
        "STRIPE_SECRET_KEY": f"sk_live_{secrets.token_hex(12)}",
        "STRIPE_WEBHOOK_SECRET": f"whsec_{secrets.token_hex(12)}",
        "MASTHEAD_MAIL_FROM_ADDRESS": "no-reply@ledger.news",
        **extra,
    }


def test_production_settings_pass_the_deploy_check_at_warning_level():
    result = run(["manage.py", "check", "--deploy", "--fail-level", "WARNING"], **production_env())
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_production_deploy_check_fails_on_the_placeholder_sender():
    env = production_env()
    del env["MASTHEAD_MAIL_FROM_ADDRESS"]  # the settings' fallback, no-reply@localhost
    result = run(["manage.py", "check", "--deploy"], **env)
    assert result.returncode != 0
    assert "masthead.E040" in result.stderr, result.stdout + result.stderr
    assert "no-reply@localhost" in result.stderr


def test_production_refuses_to_start_without_a_strong_secret_key():
    for key in ["", "short"]:
        result = run(["manage.py", "check"], **production_env(SECRET_KEY=key))
        assert result.returncode != 0
        assert "SECRET_KEY must be set" in result.stderr


def test_production_is_https_only_with_secure_cookies():
    result = run(
        "import django; django.setup(); from django.conf import settings as s; "
        "print(s.DEBUG, s.SECURE_SSL_REDIRECT, s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE, "
        "s.SECURE_HSTS_SECONDS >= 31536000, "
        "s.PASSWORD_HASHERS[0].endswith('Argon2PasswordHasher'))",
        **production_env(),
    )
    assert result.stdout.split() == ["False", "True", "True", "True", "True", "True"], result.stderr


def test_environment_chooses_database_time_zone_and_site_name():
    result = run(
        "import django; django.setup(); from django.conf import settings as s; "
        "print(s.DATABASES['default']['ENGINE'], s.TIME_ZONE, s.MASTHEAD_SITE_NAME, "
        "s.ALLOWED_HOSTS)",
        **production_env(
            DATABASE_URL="postgres://u@db.example:5432/news",
            TIME_ZONE="Europe/Berlin",
            MASTHEAD_SITE_NAME="Die Zeitung",
            ALLOWED_HOSTS="a.example,b.example",
        ),
    )
    assert result.stdout.strip() == (
        "django.db.backends.postgresql Europe/Berlin Die Zeitung ['a.example', 'b.example']"
    ), result.stderr


@pytest.mark.parametrize(("value", "kept"), [(None, "5.0"), ("86400", "86400.0")])
def test_a_worker_keeps_its_sites_as_long_as_the_environment_says(value, kept):
    # given a deployment that sets MASTHEAD_SITE_SECONDS, or leaves it alone
    env = production_env() if value is None else production_env(MASTHEAD_SITE_SECONDS=value)
    # when a worker starts
    result = run(
        "import django; django.setup(); from masthead.core import sites; print(sites._sites.ttl)",
        **env,
    )
    # then it keeps each site it finds that long
    assert result.stdout.strip() == kept, result.stderr


def test_cache_uses_redis_when_redis_url_is_set(redis_service):
    result = run(
        "import django; django.setup(); from django.core.cache import caches; "
        "cache = caches['default']; cache.set('masthead-test', 'round trip', 30); "
        "print(cache.get('masthead-test')); print(type(cache).__module__)",
        **production_env(REDIS_URL=redis_service),
    )
    assert result.stdout.split("\n")[:2] == ["round trip", "django_redis.cache"], result.stderr


@pytest.mark.sqlite
@pytest.mark.django_db
def test_suite_runs_on_the_database_that_database_url_names():
    url = os.environ.get("DATABASE_URL", "")
    expected = "postgresql" if url.startswith("postgres") else "sqlite"
    assert connection.vendor == expected
