"""The signed-in reader comes from the shared cache on every page after the first
(masthead.readers.backends), and any change to the account reaches the next request."""

import pytest
from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.test import Client, override_settings
from django.test.utils import CaptureQueriesContext
from django.utils.crypto import salted_hmac

from tests.integration.subscription_factories import make_reader

pytestmark = pytest.mark.django_db


def signed_in(reader) -> Client:
    client = Client()
    client.force_login(reader)
    return client


def is_signed_in(client) -> bool:
    return client.get("/account/").status_code == 200


def user_queries(queries) -> list[str]:
    return [q["sql"] for q in queries.captured_queries if 'FROM "readers_user"' in q["sql"]]


def test_the_second_request_reads_the_account_from_the_cache():
    client = signed_in(make_reader())
    assert is_signed_in(client)
    with CaptureQueriesContext(connection) as queries:
        assert is_signed_in(client)
    assert user_queries(queries) == []


def test_a_deactivated_account_is_signed_out_at_the_next_request():
    reader = make_reader()
    client = signed_in(reader)
    assert is_signed_in(client)  # cached while active
    reader.is_active = False
    reader.save()
    assert not is_signed_in(client)


def test_a_new_password_ends_the_other_sessions_at_the_next_request():
    reader = make_reader()
    client = signed_in(reader)
    assert is_signed_in(client)
    reader.set_password("another long test password")
    reader.save()
    assert not is_signed_in(client)


def test_a_deleted_account_is_signed_out_at_the_next_request():
    reader = make_reader()
    client = signed_in(reader)
    assert is_signed_in(client)
    reader.delete()
    assert not is_signed_in(client)


def test_each_session_gets_its_own_account():
    first, second = make_reader(), make_reader()
    one, two = signed_in(first), signed_in(second)
    assert is_signed_in(one) and is_signed_in(two)
    assert one.get("/account/").context["user"].pk == first.pk
    assert two.get("/account/").context["user"].pk == second.pk


def test_without_a_cache_the_database_answers(monkeypatch):
    monkeypatch.setattr(cache, "get", lambda *args, **kwargs: None)
    monkeypatch.setattr(cache, "get_many", lambda *args, **kwargs: {})
    monkeypatch.setattr(cache, "set", lambda *args, **kwargs: None)
    reader = make_reader()
    client = signed_in(reader)
    assert is_signed_in(client)
    reader.is_active = False
    reader.save()
    assert not is_signed_in(client)


def test_the_session_hash_is_djangos_salted_hmac_so_sessions_outlive_a_release():
    # given a session hash as Django's salted_hmac makes it (what earlier releases stored)
    reader = make_reader()
    earlier = salted_hmac(
        "masthead.readers.User.get_session_auth_hash",
        f"{reader.password}:{reader.session_key_salt}",
        algorithm="sha256",
    ).hexdigest()
    # then this release makes the same one
    assert reader.get_session_auth_hash() == earlier


def test_a_new_secret_key_signs_every_session_out_and_its_fallback_keeps_them():
    # given a reader signed in under the current secret
    reader = make_reader()
    client = signed_in(reader)
    assert is_signed_in(client)
    old = settings.SECRET_KEY
    # when the secret is replaced, the session no longer verifies
    with override_settings(SECRET_KEY="another secret key " * 3):
        assert (
            reader.get_session_auth_hash()
            != salted_hmac(
                "masthead.readers.User.get_session_auth_hash",
                f"{reader.password}:{reader.session_key_salt}",
                secret=old,
                algorithm="sha256",
            ).hexdigest()
        )
        # then with the old secret as a fallback it still does
        with override_settings(SECRET_KEY_FALLBACKS=[old]):
            assert is_signed_in(client)
    with override_settings(SECRET_KEY="yet another secret key " * 3):
        assert not is_signed_in(client)
