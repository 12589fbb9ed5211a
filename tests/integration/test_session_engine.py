"""The session engine (masthead.readers.sessions): a signed-in session's key names its account,
so the session, the account and its entitlements come from the cache in one round trip; the
name is a hint for reading ahead and never a credential."""

import uuid
from unittest import mock

import pytest
from django.conf import settings
from django.contrib.auth import SESSION_KEY
from django.contrib.sessions.backends.cached_db import KEY_PREFIX
from django.contrib.sessions.backends.cached_db import SessionStore as PlainStore
from django.contrib.sessions.models import Session
from django.core.cache import caches
from django.core.signals import request_finished
from django.test import Client, override_settings
from django.utils.http import int_to_base36

from masthead.readers import backends
from masthead.readers.sessions import SessionStore, account_in_key
from masthead.subscriptions import actions
from masthead.subscriptions.fetch import entitlements_key
from tests.integration.subscription_factories import (
    DAY,
    NOW,
    make_plan,
    make_reader,
    reads_in_full,
)

pytestmark = pytest.mark.django_db

PASSWORD = "a long test password"


def session_key(client) -> str:
    return client.cookies[settings.SESSION_COOKIE_NAME].value


def with_key(key: str) -> Client:
    client = Client()
    client.cookies[settings.SESSION_COOKIE_NAME] = key
    return client


def is_signed_in(client) -> bool:
    return client.get("/account/").status_code == 200


def signed_in_through_the_form(reader) -> Client:
    reader.email_verified = True
    reader.save()
    client = Client()
    answer = client.post("/account/sign-in/", {"username": reader.email, "password": PASSWORD})
    assert answer.status_code == 302, answer.content
    return client


def test_the_tests_run_the_engine_production_runs_with_redis():
    assert settings.SESSION_ENGINE == "masthead.readers.sessions"


def test_signing_in_gives_a_key_that_names_the_account_and_keeps_no_other():
    reader = make_reader()
    client = signed_in_through_the_form(reader)
    key = session_key(client)
    assert account_in_key(key) == str(reader.pk)
    assert len(key.partition("-")[0]) == 32  # Django's random part, whole
    assert is_signed_in(client)
    # The key login() made before the account was in the session is gone.
    assert list(Session.objects.values_list("session_key", flat=True)) == [key]


def test_a_signed_in_page_reads_session_account_and_entitlements_in_one_round_trip(
    exclusive, client, at, cache_reads
):
    reader = make_reader()
    actions.start(user=reader, plan=make_plan(), period_end=NOW + 30 * DAY, now=NOW)
    client.force_login(reader)
    assert reads_in_full(client, exclusive)  # the first page fills the cache
    cache_reads.clear()
    assert reads_in_full(client, exclusive)
    key = session_key(client)
    account_reads = [
        (kind, keys)
        for kind, keys in cache_reads
        if any(k.startswith(KEY_PREFIX) or f"user:{reader.pk}" in k for k in keys)
        or entitlements_key(reader.pk) in keys
    ]
    assert account_reads == [
        (
            "get_many",
            [KEY_PREFIX + key, *backends.account_keys(reader.pk)],
        )
    ]
    assert entitlements_key(reader.pk) in account_reads[0][1]


def test_an_account_edited_into_the_key_finds_no_session():
    reader, other = make_reader(), make_reader()
    client = Client()
    client.force_login(reader)
    assert is_signed_in(client)
    random_part = session_key(client).partition("-")[0]
    other_client = Client()
    other_client.force_login(other)
    assert is_signed_in(other_client)  # the other account is in the cache, ready to be read
    for key in (
        f"{random_part}-{int_to_base36(other.pk)}",  # another account's id
        random_part,  # the hint dropped
        f"{random_part}-zzzzzzzzzzzzzzzz",  # longer than base 36 is read
        f"{random_part}-",
        f"{random_part}-!!",
        f"{random_part}-é",
        "-1",
    ):
        forged = with_key(key)
        answer = forged.get("/account/")
        assert answer.status_code == 302, key  # to the sign-in page: nobody is signed in
        assert forged.get("/").status_code == 200


def test_read_ahead_is_used_only_for_its_account_once_and_not_after_the_request():
    found = {"masthead:user:1": "an account"}
    backends.read_with_session("1", found)
    assert backends._taken_with_session(2) is None  # another account: dropped
    assert backends._taken_with_session(1) is None
    backends.read_with_session("1", found)
    assert backends._taken_with_session(1) is found
    assert backends._taken_with_session(1) is None  # once
    backends.read_with_session("1", found)
    SessionStore("x" * 32).load()  # another session loaded: what was read for one before goes
    assert backends._taken_with_session(1) is None
    backends.read_with_session("1", found)
    request_finished.send(sender=None)  # last: Django's receivers close the connection
    assert backends._taken_with_session(1) is None


def test_a_change_to_an_account_drops_what_was_read_ahead():
    reader = make_reader()
    backends.read_with_session(str(reader.pk), {"masthead:user:1": "stale"})
    reader.first_name = "Changed"
    reader.save()
    assert backends._taken_with_session(reader.pk) is None


def test_a_session_made_before_the_engine_still_signs_in_and_is_renamed_when_saved():
    reader = make_reader()
    donor = Client()
    donor.force_login(reader)
    data = SessionStore(session_key(donor)).load()
    plain = PlainStore()
    plain.update(data)
    plain.create()
    assert account_in_key(plain.session_key) is None
    client = with_key(plain.session_key)
    assert is_signed_in(client)
    # Saved (here: signing in again as the same reader), it gets a key naming the account.
    client.force_login(reader)
    assert account_in_key(session_key(client)) == str(reader.pk)
    assert is_signed_in(client)


def test_another_account_signing_in_gets_a_key_naming_it():
    first, second = make_reader(), make_reader()
    client = signed_in_through_the_form(first)
    client.force_login(second)  # login() in the same session (the form sends a signed-in reader on)
    assert account_in_key(session_key(client)) == str(second.pk)
    assert client.get("/account/").context["user"] == second


def test_signing_out_leaves_no_key_naming_the_account():
    reader = make_reader()
    client = signed_in_through_the_form(reader)
    named = session_key(client)
    assert client.post("/account/sign-out/").status_code == 302
    assert not Session.objects.filter(session_key=named).exists()
    assert not is_signed_in(client)
    assert not is_signed_in(with_key(named))


def test_a_new_key_for_a_signed_in_session_still_names_the_account():
    # as update_session_auth_hash() gives one after a new password
    reader = make_reader()
    client = Client()
    client.force_login(reader)
    store = SessionStore(session_key(client))
    assert store[SESSION_KEY] == str(reader.pk)
    store.cycle_key()
    assert store.session_key != session_key(client)
    assert account_in_key(store.session_key) == str(reader.pk)
    assert is_signed_in(with_key(store.session_key))
    assert not is_signed_in(client)  # the old key is gone


def test_a_session_whose_data_names_another_account_than_its_key_hands_nothing_over():
    reader, other = make_reader(), make_reader()
    client = Client()
    client.force_login(reader)
    key = session_key(client)
    # A key naming `other` whose data holds `reader` (never made by the engine: made here).
    odd = SessionStore(key).load()
    assert odd[SESSION_KEY] == str(reader.pk)
    store = PlainStore(f"{key.partition('-')[0]}-{int_to_base36(other.pk)}")
    store.update(odd)
    store.save(must_create=True)
    assert is_signed_in(with_key(store.session_key))
    assert with_key(store.session_key).get("/account/").context["user"] == reader


def test_sessions_in_another_cache_than_the_accounts_read_nothing_ahead():
    apart = {
        **settings.CACHES,
        "sessions": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
    }
    with override_settings(CACHES=apart, SESSION_CACHE_ALIAS="sessions"):
        reader = make_reader()
        client = Client()
        client.force_login(reader)
        assert is_signed_in(client)
        accounts = caches["default"]
        with mock.patch.object(accounts, "get_many", wraps=accounts.get_many) as get_many:
            assert is_signed_in(client)
        asked = [list(call.args[0]) for call in get_many.call_args_list]
        assert backends.account_keys(reader.pk) in asked  # the backend's own round trip
        assert not [keys for keys in asked if any(k.startswith(KEY_PREFIX) for k in keys)]


def test_a_live_redis_serves_the_signed_in_reader_in_one_round_trip(redis_service, exclusive, at):
    from masthead.core import generations
    from masthead.settings.caching import redis_caches

    with override_settings(CACHES=redis_caches(redis_service, f"test-{uuid.uuid4().hex}")):
        generations.forget_local()
        from django.core.cache import cache

        cache.clear()
        reader = make_reader()
        actions.start(user=reader, plan=make_plan(), period_end=NOW + 30 * DAY, now=NOW)
        client = signed_in_through_the_form(reader)
        assert reads_in_full(client, exclusive)
        key = session_key(client)
        found = cache.get_many([KEY_PREFIX + key, *backends.account_keys(reader.pk)])
        assert found[KEY_PREFIX + key][SESSION_KEY] == str(reader.pk)
        assert found[backends.account_keys(reader.pk)[0]].pk == reader.pk
        assert reads_in_full(client, exclusive)
        cache.clear()
    generations.forget_local()
