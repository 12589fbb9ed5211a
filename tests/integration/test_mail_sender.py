"""The sender readers see: a configurable name and address, and `check --deploy` refuses a
placeholder address on a real site (masthead.E040)."""

import os
import subprocess
import sys

import pytest
from django.core.checks import run_checks
from django.test import override_settings

from masthead.core.checks import placeholder_sender


def deploy_errors() -> set[str]:
    return {message.id for message in run_checks(include_deployment_checks=True)}


@pytest.mark.parametrize(
    "sender",
    [
        "",
        '"The Meridian Ledger" <no-reply@localhost>',
        "webmaster@localhost",
        "news@example.com",
        "Ledger <news@mail.example.com>",
        "news@ledger.test",
        "news@newsroom.example",
        "news@example.org",
        "not an address",
    ],
)
@pytest.mark.django_db
def test_a_placeholder_sender_fails_the_deploy_check(sender):
    with override_settings(DEFAULT_FROM_EMAIL=sender, MASTHEAD_DEMO=False):
        assert "masthead.E040" in deploy_errors()
    assert placeholder_sender(sender)


@pytest.mark.django_db
def test_a_newsroom_domain_is_not_a_placeholder():
    for sender in [
        "news@ledger.news",
        "Ledger <no-reply@mail.meridian-ledger.com>",
        "a@example.co",
    ]:
        assert not placeholder_sender(sender), sender


@pytest.mark.django_db
def test_a_real_sender_passes_and_a_demo_is_not_asked():
    with override_settings(DEFAULT_FROM_EMAIL='"Ledger" <news@ledger.news>', MASTHEAD_DEMO=False):
        assert "masthead.E040" not in deploy_errors()
    with override_settings(DEFAULT_FROM_EMAIL="no-reply@localhost", MASTHEAD_DEMO=True):
        assert "masthead.E040" not in deploy_errors()
    # only under --deploy: a developer's `check` stays quiet
    with override_settings(DEFAULT_FROM_EMAIL="no-reply@localhost", MASTHEAD_DEMO=False):
        assert "masthead.E040" not in {m.id for m in run_checks()}


def settings_value(name: str, **environ) -> str:
    env = {key: value for key, value in os.environ.items() if not key.startswith("MASTHEAD_MAIL")}
    env.pop("DEFAULT_FROM_EMAIL", None)
    env.update(environ, DJANGO_SETTINGS_MODULE="masthead.settings.base")
    code = f"from django.conf import settings; print(settings.{name})"
    return subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    ).stdout.strip()


def test_the_sender_is_built_from_the_name_and_address_settings():
    assert (
        settings_value(
            "DEFAULT_FROM_EMAIL",
            MASTHEAD_MAIL_FROM_NAME="The Ledger, Daily",
            MASTHEAD_MAIL_FROM_ADDRESS="news@ledger.news",
        )
        == '"The Ledger, Daily" <news@ledger.news>'
    )
    # the publication's name is the default name
    assert settings_value(
        "DEFAULT_FROM_EMAIL",
        MASTHEAD_SITE_NAME="Harbour Post",
        MASTHEAD_MAIL_FROM_ADDRESS="a@b.news",
    ) == ("Harbour Post <a@b.news>")
