"""Failed passwords are throttled per (account, client network), per account from unknown
networks and per network, on the web and the API alike, and a stranger's failures never stop
the owner on a browser or network the owner signed in from (docs/readers-glossary.md)."""

import json
from datetime import UTC, datetime, timedelta

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.test import Client, override_settings

from masthead.readers import ratelimit

pytestmark = pytest.mark.django_db

PASSWORD = "a-long-test-password"
SMALL = {
    "MASTHEAD_SIGN_IN_LIMIT_ACCOUNT_NETWORK": (2, 900),
    "MASTHEAD_SIGN_IN_LIMIT_ACCOUNT": (4, 3600),
    "MASTHEAD_SIGN_IN_LIMIT_NETWORK": (6, 900),
}


@pytest.fixture
def owner():
    return get_user_model().objects.create_user(
        username="owner", email="owner@example.com", password=PASSWORD, email_verified=True
    )


def web(client, email, password=PASSWORD):
    return client.post("/account/sign-in/", {"username": email, "password": password})


def api(client, email, password=PASSWORD):
    body = json.dumps({"email": email, "password": password})
    return client.post("/api/v1/token", body, content_type="application/json")


def fail(client, email, times, door=web):
    for _ in range(times):
        assert door(client, email, "wrong").status_code in (200, 401, 429)


@pytest.fixture
def clock(time_machine):
    """The clock, standing at the start of a limits' window until `clock.shift(...)`."""
    time_machine.move_to(datetime(2026, 12, 6, 21, 0, 0, tzinfo=UTC), tick=False)
    return time_machine


# The owner is never locked out


@override_settings(**SMALL)
def test_a_strangers_failures_never_lock_the_owner_out_of_a_browser_they_signed_in_from(owner):
    # given the owner signed in once in this browser, at home
    laptop = Client(REMOTE_ADDR="10.0.0.1")
    assert web(laptop, owner.email).status_code == 302
    laptop.post("/account/sign-out/")
    # when a stranger on the same network, and strangers elsewhere, try every limit
    fail(Client(REMOTE_ADDR="10.0.0.1"), owner.email, 8)
    for n in range(4):
        fail(Client(REMOTE_ADDR=f"10.1.0.{n}"), owner.email, 3)
    assert web(Client(REMOTE_ADDR="10.0.0.1"), "someone@example.com").status_code == 429
    # then the owner's browser still signs in, on the web and through the API alike
    assert web(laptop, owner.email).status_code == 302
    assert api(Client(REMOTE_ADDR="10.1.0.0"), owner.email).status_code == 429


@override_settings(**SMALL)
def test_a_network_the_owner_signed_in_from_is_exempt_from_the_account_limits(owner):
    # given the owner signed in from the office network (through the app)
    assert api(Client(REMOTE_ADDR="10.0.0.5"), owner.email).status_code == 201
    # when strangers on other networks use up the account's limit for unknown networks
    for n in range(3):
        fail(Client(REMOTE_ADDR=f"10.2.0.{n}"), owner.email, 2)
    assert web(Client(REMOTE_ADDR="10.3.0.1"), owner.email).status_code == 429
    # then a new browser on the office network signs in
    assert web(Client(REMOTE_ADDR="10.0.0.5"), owner.email).status_code == 302


@override_settings(**SMALL)
def test_failures_on_one_network_do_not_limit_the_account_on_another(owner):
    fail(Client(REMOTE_ADDR="10.0.0.66"), owner.email, 2, door=api)
    assert api(Client(REMOTE_ADDR="10.0.0.66"), owner.email).status_code == 429
    assert web(Client(REMOTE_ADDR="10.0.0.66"), owner.email).status_code == 429  # web alike
    assert web(Client(REMOTE_ADDR="10.0.0.7"), owner.email).status_code == 302
    assert api(Client(REMOTE_ADDR="10.0.0.8"), owner.email).status_code == 201


@override_settings(**SMALL, MASTHEAD_RATE_LIMIT_ACCOUNT=(2, 900), MASTHEAD_RATE_LIMIT_IP=(2, 900))
def test_only_failures_count(owner):
    # given a browser that signs in and out more often than any limit
    browser = Client(REMOTE_ADDR="10.0.0.1")
    for _ in range(8):
        assert web(browser, owner.email).status_code == 302
        browser.post("/account/sign-out/")
    # then its network and the account are not limited
    assert web(Client(REMOTE_ADDR="10.0.0.1"), "other@example.com", "wrong").status_code == 200
    assert api(Client(REMOTE_ADDR="10.0.0.2"), owner.email).status_code == 201


# Answers: 429 with Retry-After, and the window ends when it says


@override_settings(**SMALL)
def test_a_refusal_says_when_to_retry_and_the_window_ends_then(owner, clock):
    attacker = Client(REMOTE_ADDR="10.0.0.66")
    fail(attacker, owner.email, 2)
    clock.shift(timedelta(seconds=100))
    # when
    refused = web(attacker, owner.email)
    refused_api = api(attacker, owner.email)
    # then: 429 at once (no sleeping worker), saying how long the window has left
    assert refused.status_code == refused_api.status_code == 429
    wait = int(refused["Retry-After"])
    assert wait == int(refused_api["Retry-After"]) == 900 - 100
    assert "Too many attempts" in refused.content.decode()
    clock.shift(timedelta(seconds=wait - 1))
    assert web(attacker, owner.email).status_code == 429
    clock.shift(timedelta(seconds=1))
    assert web(attacker, owner.email).status_code == 302


@override_settings(**SMALL)
def test_unknown_and_known_addresses_are_limited_alike(owner, clock):
    fail(Client(REMOTE_ADDR="10.0.0.1"), owner.email, 2)
    fail(Client(REMOTE_ADDR="10.0.0.2"), "nobody@example.com", 2)
    known = web(Client(REMOTE_ADDR="10.0.0.1"), owner.email, "wrong")
    unknown = web(Client(REMOTE_ADDR="10.0.0.2"), "nobody@example.com", "wrong")
    assert known.status_code == unknown.status_code == 429
    assert known["Retry-After"] == unknown["Retry-After"]


# The client network


@override_settings(**SMALL)
def test_an_ipv6_client_network_is_its_64(owner):
    fail(Client(REMOTE_ADDR="2001:db8:1:2::1"), owner.email, 2)
    # the same /64, another address: the same network
    assert web(Client(REMOTE_ADDR="2001:db8:1:2:ffff::9"), owner.email).status_code == 429
    # the next /64: another network
    assert web(Client(REMOTE_ADDR="2001:db8:1:3::1"), owner.email).status_code == 302


@override_settings(**SMALL, MASTHEAD_TRUSTED_PROXY_HOPS=1)
def test_the_client_network_is_found_through_the_trusted_proxy_hops(owner):
    def through_proxy(address):
        return Client(REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_FOR=f"1.2.3.4, {address}")

    fail(through_proxy("10.0.0.66"), owner.email, 2)
    assert web(through_proxy("10.0.0.66"), owner.email).status_code == 429
    # the proxy's own address and the client's forged entry are not the network
    assert web(through_proxy("10.0.0.7"), owner.email).status_code == 302


# The documented rates


def test_the_default_rates_are_the_documented_ones():
    assert settings.MASTHEAD_SIGN_IN_LIMIT_ACCOUNT_NETWORK == (10, 3600)
    assert settings.MASTHEAD_SIGN_IN_LIMIT_ACCOUNT == (100, 3600)
    assert settings.MASTHEAD_SIGN_IN_LIMIT_NETWORK == (30, 900)
    assert settings.MASTHEAD_SIGN_IN_KNOWN_DAYS == 90
    glossary = (settings.BASE_DIR / "docs" / "readers-glossary.md").read_text()
    for stated in [
        "10 failed passwords per account per client network per hour",
        "100 failed passwords per account per hour",
        "30 failed passwords per client network per 15 minutes",
        "90 days",
    ]:
        assert stated in glossary


def test_by_default_the_eleventh_failure_for_an_account_from_one_network_is_refused(owner):
    attacker = Client(REMOTE_ADDR="10.0.0.66")
    fail(attacker, owner.email, 10, door=api)
    assert api(attacker, owner.email).status_code == 429
    assert web(Client(REMOTE_ADDR="10.0.0.67"), owner.email).status_code == 302


def test_by_default_the_31st_failure_from_one_network_is_refused(owner):
    attacker = Client(REMOTE_ADDR="10.0.0.66")
    for n in range(30):
        assert api(attacker, f"guess{n}@example.com", "wrong").status_code == 401
    assert api(attacker, "guess30@example.com", "wrong").status_code == 429
    assert api(attacker, owner.email).status_code == 429


def test_the_known_browser_cookie_cannot_be_forged(owner, settings):
    settings.MASTHEAD_SIGN_IN_LIMIT_ACCOUNT_NETWORK = (1, 900)
    attacker = Client(REMOTE_ADDR="10.0.0.66")
    attacker.cookies[ratelimit.DEVICE_COOKIE] = ratelimit._device_tag(owner.email)
    fail(attacker, owner.email, 1)
    assert web(attacker, owner.email).status_code == 429
