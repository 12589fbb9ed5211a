"""Production refuses demo and test conveniences unless MASTHEAD_DEMO opts in, and
`check --deploy` names each one it finds; a proxy the app was not told about is logged."""

import logging

import pytest
from django.contrib.auth import get_user_model
from django.core.checks import Tags, run_checks
from django.core.management import CommandError, call_command
from django.core.management.base import SystemCheckError
from django.test import override_settings

from masthead.core import middleware
from masthead.demo.accounts import find_demo_accounts
from masthead.news.models import HomePage
from tests.integration.test_configuration import production_env, run

LIVE = {
    "MASTHEAD_DEMO": False,
    "MASTHEAD_PAYMENT_PROVIDER": "stripe",
    "STRIPE_SECRET_KEY": "sk_live_0123456789abcdef",
    "STRIPE_WEBHOOK_SECRET": "whsec_0123456789abcdef",
}
MASTHEAD_DEPLOY_IDS = {"masthead.E022", "masthead.E023", "masthead.W030", "masthead.E031"}


def deploy_check_ids() -> set[str]:
    return {message.id for message in run_checks(include_deployment_checks=True)}


def deploy_check():
    """`manage.py check --deploy` (the security checks), raising on any error."""
    call_command("check", deploy=True, tags=[Tags.security])


# Production settings, in a subprocess with a clean environment


@pytest.mark.parametrize("provider", ["", "test", "masthead.subscriptions.payments.test_provider"])
def test_production_refuses_to_start_with_the_test_payment_provider(provider):
    # given production settings with no payment provider, or the test one, and no opt-in
    env = production_env(MASTHEAD_PAYMENT_PROVIDER=provider)
    # when anything starts
    result = run(["manage.py", "check"], **env)
    # then it refuses, saying what to set
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert "MASTHEAD_PAYMENT_PROVIDER is 'test'" in result.stderr
    assert "MASTHEAD_DEMO=true" in result.stderr


def test_production_runs_the_test_payment_provider_only_as_an_explicit_demo():
    # given the production topology's demo (make prod-up) without a payment provider
    env = production_env(MASTHEAD_DEMO="true", MASTHEAD_PAYMENT_PROVIDER="")
    # when
    result = run(
        "import django; django.setup(); from django.conf import settings as s; "
        "print(s.MASTHEAD_DEMO, s.MASTHEAD_PAYMENT_PROVIDER)",
        **env,
    )
    # then
    assert result.stdout.split() == ["True", "test"], result.stderr


def test_production_deploy_check_fails_on_a_stripe_test_key():
    env = production_env(STRIPE_SECRET_KEY="sk_test_0123456789abcdef")
    result = run(["manage.py", "check", "--deploy"], **env)
    assert result.returncode != 0
    assert "masthead.E023" in result.stderr, result.stdout + result.stderr


def test_production_deploy_check_warns_that_the_demo_opt_in_is_on():
    env = production_env(MASTHEAD_DEMO="true")
    result = run(["manage.py", "check", "--deploy", "--fail-level", "WARNING"], **env)
    assert result.returncode != 0
    assert "masthead.W030" in result.stderr, result.stdout + result.stderr


# The deploy checks, one by one


@override_settings(**LIVE)
def test_a_live_configuration_raises_none_of_the_demo_checks(db):
    assert not deploy_check_ids() & MASTHEAD_DEPLOY_IDS


@override_settings(**{**LIVE, "MASTHEAD_PAYMENT_PROVIDER": "test"})
def test_deploy_check_fails_on_the_test_payment_provider(db):
    with pytest.raises(SystemCheckError, match="masthead.E022"):
        deploy_check()


@override_settings(**{**LIVE, "STRIPE_SECRET_KEY": "sk_test_0123456789abcdef"})
def test_deploy_check_fails_on_a_stripe_test_key(db):
    with pytest.raises(SystemCheckError, match="masthead.E023"):
        deploy_check()


@override_settings(**{**LIVE, "MASTHEAD_DEMO": True, "MASTHEAD_PAYMENT_PROVIDER": "test"})
def test_with_the_demo_opt_in_the_deploy_check_only_warns_that_it_is_on(db):
    get_user_model().objects.create_user(
        username="admin", email="admin@example.com", password="masthead-demo"
    )
    ids = deploy_check_ids() & MASTHEAD_DEPLOY_IDS
    assert ids == {"masthead.W030"}


def test_deploy_check_fails_while_the_demo_accounts_exist(demo):
    # given the demo, loaded where the opt-in allows it
    # when the site is later deployed without the opt-in
    with override_settings(**LIVE):
        # then every account load_demo created is named
        assert find_demo_accounts() == ["admin", "editor", "reader", "subscriber"]
        with pytest.raises(SystemCheckError, match="masthead.E031") as error:
            deploy_check()
    assert "admin, editor, reader, subscriber" in str(error.value)


@pytest.mark.parametrize(
    ("username", "email", "password", "demo"),
    [
        # the demo's address, renamed and with a new password: still the demo's
        ("chief", "Editor@Example.com", "a-new-long-password", True),
        # the demo's name, a real address, the published password
        ("admin", "it@news.example", "masthead-demo", True),
        # a site's own admin, with its own address and password
        ("admin", "it@news.example", "a-real-long-password", False),
        ("jane", "jane@news.example", "masthead-demo", False),
    ],
)
@override_settings(**LIVE)
def test_demo_accounts_are_found_by_address_or_by_name_with_the_published_password(
    db, username, email, password, demo
):
    get_user_model().objects.create_user(username=username, email=email, password=password)
    assert find_demo_accounts() == ([username] if demo else [])
    assert ("masthead.E031" in deploy_check_ids()) is demo


# The demo's commands


@override_settings(MASTHEAD_DEMO=False)
def test_load_demo_refuses_to_run_without_the_opt_in(db):
    with pytest.raises(CommandError, match="MASTHEAD_DEMO=true"):
        call_command("load_demo")
    assert not get_user_model().objects.exists()
    assert not HomePage.objects.exists()


# A proxy the app was not told about


@pytest.fixture
def untrusted_proxy_warnings(monkeypatch, caplog):
    monkeypatch.setattr(middleware, "_untrusted_proxy_warned", False)
    caplog.set_level(logging.WARNING, logger="masthead.core.middleware")

    def warnings():
        return [r for r in caplog.records if r.name == "masthead.core.middleware"]

    return warnings


@pytest.mark.parametrize("page", ["healthz", "article"])
@override_settings(MASTHEAD_TRUSTED_PROXY_HOPS=0)
def test_forwarded_requests_without_trusted_proxies_log_one_warning_per_process(
    client, site, untrusted_proxy_warnings, page
):
    # given a page that is not a Wagtail page, or an article
    path = "/healthz" if page == "healthz" else site["lead"].url
    # when requests arrive through a proxy the settings do not count
    client.get(path)
    assert untrusted_proxy_warnings() == []
    for address in ["203.0.113.9", "198.51.100.7"]:
        client.get(path, HTTP_X_FORWARDED_FOR=address)
    # then one warning says what to set, and what a larger count would allow
    [warning] = untrusted_proxy_warnings()
    assert "MASTHEAD_TRUSTED_PROXY_HOPS is 0" in warning.getMessage()
    assert "forge" in warning.getMessage()


@override_settings(MASTHEAD_TRUSTED_PROXY_HOPS=1)
def test_forwarded_requests_through_a_trusted_proxy_log_nothing(
    client, db, untrusted_proxy_warnings
):
    client.get("/healthz", HTTP_X_FORWARDED_FOR="203.0.113.9")
    assert untrusted_proxy_warnings() == []
