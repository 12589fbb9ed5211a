"""The paywall on the web: what each reader receives, in every representation."""

import json
import secrets

import pytest
from bs4 import BeautifulSoup
from django.test import Client, override_settings
from wagtail.models import Site

from masthead.access.meter import get_meter_store
from masthead.access.models import MeterSettings
from tests.factories import make_article
from tests.indexing import indexed_once
from tests.snapshots import restore_or_build, take_on_postgresql

# The demo's reading journey: on SQLite the meter writes on the request's own connection,
# on PostgreSQL on its alias (masthead.access.meter.router). Run on both.
pytestmark = [pytest.mark.django_db, pytest.mark.sqlite]

COOKIE = "mh_reader"


def add_paywalled(site):
    config = MeterSettings.for_site(Site.objects.get(is_default_site=True))
    config.anonymous_allowance = 3
    config.registered_allowance = 6
    config.teaser_paragraphs = 2
    config.save()
    world = site["world"]
    with indexed_once():
        metered = [
            make_article(world, f"Metered story {n}", prefix=f"M{n}", days_ago=n)
            for n in range(1, 6)
        ]
        exclusive = make_article(world, "Exclusive story", access="subscribers")
    return {"metered": metered, "exclusive": exclusive}


@pytest.fixture(scope="session")
def _paywalled_snapshot(_site_snapshot, django_db_blocker):
    return take_on_postgresql(add_paywalled, django_db_blocker, base=_site_snapshot)


@pytest.fixture
def paywalled(site, _paywalled_snapshot):
    site.update(restore_or_build(_paywalled_snapshot, add_paywalled, on=site))
    return site


def read(client, page, suffix=""):
    response = client.get(page.url + suffix)
    assert response.status_code == 200
    return response


def text(response):
    return response.content.decode()


def notice(response):
    found = BeautifulSoup(response.content, "html.parser").select_one(".meter-notice")
    return " ".join(found.get_text().split()) if found else None


def test_anonymous_reader_sees_the_count_fall_then_the_paywall(paywalled, client):
    first, second, third, fourth = (read(client, page) for page in paywalled["metered"][:4])
    assert notice(first).startswith("You have 2 free articles left this month")
    assert notice(second).startswith("You have 1 free article left this month")
    assert notice(third).startswith("This is your last free article this month")
    assert "M3 9 text." in text(third)
    assert "You have read all your free articles this month" in text(fourth)
    assert "See all offers and subscribe" in text(fourth)
    assert notice(fourth) is None


def test_paywalled_text_never_leaves_the_server_for_a_reader_without_access(paywalled, client):
    for page in paywalled["metered"][:3]:
        read(client, page)
    blocked = paywalled["metered"][3]
    for suffix in ["", "print/"]:
        body = text(read(client, blocked, suffix))
        assert "M4 1 text." in body and "M4 2 text." in body  # the teaser
        for n in range(3, 11):
            assert f"M4 {n} text." not in body, (suffix, n)
        assert "paywalled-content" not in body.split("application/ld+json")[0].split("<body")[-1]


def test_rereading_a_counted_article_is_free_and_costs_nothing(paywalled, client):
    first = paywalled["metered"][0]
    for page in paywalled["metered"][:3]:
        read(client, page)
    again = read(client, first)
    assert "M1 9 text." in text(again)
    assert notice(again) is None
    assert "You have read all" in text(read(client, paywalled["metered"][3]))


def test_subscribers_only_article_shows_teaser_and_panel_without_using_the_meter(paywalled, client):
    body = text(read(client, paywalled["exclusive"]))
    assert "This article is for subscribers" in body
    assert "Paragraph 9 text." not in body
    assert notice(read(client, paywalled["metered"][0])).startswith("You have 2")


def test_newsroom_staff_read_everything(paywalled, admin_client):
    body = text(read(admin_client, paywalled["exclusive"]))
    assert "Paragraph 9 text." in body
    assert 'class="paywalled-content"' in body


def test_reader_specific_pages_are_private_and_vary_on_cookie(paywalled, client):
    metered = read(client, paywalled["metered"][0])
    assert "private" in metered["Cache-Control"]
    assert "Cookie" in metered["Vary"]
    printed = read(client, paywalled["metered"][0], "print/")
    assert "private" in printed["Cache-Control"]
    sponsored = read(client, paywalled["sponsored"])  # a free article
    assert "private" not in sponsored.get("Cache-Control", "")


@pytest.mark.parametrize("entitled_first", [True, False])
def test_full_text_is_never_served_from_one_reader_to_another(
    paywalled, admin_client, entitled_first
):
    anonymous = Client()
    exclusive = paywalled["exclusive"]
    order = [admin_client, anonymous] if entitled_first else [anonymous, admin_client]
    bodies = {id(c): text(read(c, exclusive)) for c in order}
    assert "Paragraph 9 text." in bodies[id(admin_client)]
    assert "Paragraph 9 text." not in bodies[id(anonymous)]


def test_structured_data_marks_the_paywalled_part_identically_for_everyone(
    paywalled, client, admin_client
):
    def json_ld(c):
        soup = BeautifulSoup(read(c, paywalled["exclusive"]).content, "html.parser")
        return json.loads(soup.select_one('script[type="application/ld+json"]').string)

    anonymous, staff = json_ld(client), json_ld(admin_client)
    assert anonymous == staff
    assert anonymous["isAccessibleForFree"] is False
    assert anonymous["hasPart"] == {
        "@type": "WebPageElement",
        "isAccessibleForFree": False,
        "cssSelector": ".paywalled-content",
    }
    free = BeautifulSoup(read(client, paywalled["sponsored"]).content, "html.parser")
    free_data = json.loads(free.select_one('script[type="application/ld+json"]').string)
    assert free_data["isAccessibleForFree"] is True and "hasPart" not in free_data


def test_meta_descriptions_carry_only_the_deck(paywalled, client):
    soup = BeautifulSoup(read(client, paywalled["exclusive"]).content, "html.parser")
    for meta in soup.select("meta[content]"):
        assert "Paragraph" not in meta["content"]


def test_cookie_is_signed_httponly_lax_and_holds_only_an_id_and_the_first_read(paywalled, client):
    first = paywalled["metered"][0]
    response = read(client, first)
    cookie = response.cookies[COOKIE]
    assert cookie["httponly"] and cookie["samesite"] == "Lax"
    assert not cookie["secure"]
    value = cookie.value
    assert value.count(":") == 2  # value:timestamp:signature
    # a new reader's id, and the article it read in full, not yet stored on the server
    anonymous_id, pending = value.split(":")[0].split(".", 1)
    assert len(anonymous_id) == 22
    assert pending.startswith(f"r{first.pk}.")
    # once the cookie comes back the read is stored, and the cookie holds only the id
    again = read(client, paywalled["metered"][1])
    assert again.cookies[COOKIE].value.split(":")[0] == anonymous_id


@override_settings(SESSION_COOKIE_SECURE=True)
def test_cookie_is_secure_when_the_site_is(paywalled, client):
    assert read(client, paywalled["metered"][0]).cookies[COOKIE]["secure"]


def test_pages_that_do_not_meter_set_no_cookie(paywalled, client):
    assert COOKIE not in client.get("/").cookies
    assert COOKIE not in read(client, paywalled["sponsored"]).cookies


def _exhaust(client, paywalled):
    for page in paywalled["metered"][:3]:
        read(client, page)
    return client.cookies[COOKIE].value


def _tampered(value):
    flipped = value[:5] + ("A" if value[5] != "A" else "B") + value[6:]
    return flipped


@pytest.mark.parametrize(
    "make_cookie",
    [
        pytest.param(_tampered, id="bit-flip"),
        pytest.param(lambda v: v.rsplit(":", 1)[0] + ":" + "x" * 27, id="wrong-signature"),
        pytest.param(lambda v: secrets.token_hex(2048), id="4kb-random"),
        pytest.param(lambda v: "\xff\xfe\x80garbage", id="invalid-utf8"),
        pytest.param(lambda v: "", id="empty"),
        pytest.param(lambda v: v.split(":")[0], id="unsigned-id"),
    ],
)
def test_bad_cookie_means_a_fresh_reader_never_an_error(paywalled, client, make_cookie):
    exhausted_value = _exhaust(client, paywalled)
    fresh = Client(HTTP_COOKIE=f"{COOKIE}={make_cookie(exhausted_value)}")
    response = read(fresh, paywalled["metered"][3])
    assert notice(response).startswith("You have 2 free articles left")
    assert response.cookies[COOKIE].value != exhausted_value


def test_duplicate_cookie_names_never_give_more_than_one_reader(paywalled, client):
    # The last value wins (Django's cookie parser): either the real, exhausted reader or a
    # fresh one; never a reader with more than a fresh allowance.
    exhausted_value = _exhaust(client, paywalled)
    doubled = Client(HTTP_COOKIE=f"{COOKIE}=forged; {COOKIE}={exhausted_value}")
    assert "You have read all" in text(read(doubled, paywalled["metered"][3]))
    doubled_other = Client(HTTP_COOKIE=f"{COOKIE}={exhausted_value}; {COOKIE}=forged")
    assert notice(read(doubled_other, paywalled["metered"][4])).startswith("You have 2")


def test_signing_in_keeps_what_was_read_and_raises_the_allowance(
    paywalled, client, django_user_model
):
    django_user_model.objects.create_user(
        username="reader",
        email="reader@example.com",
        password="a-long-test-password",
        email_verified=True,
    )
    read(client, paywalled["metered"][0])
    read(client, paywalled["metered"][1])
    response = client.post(
        "/account/sign-in/", {"username": "reader", "password": "a-long-test-password"}
    )
    assert response.status_code == 302
    assert notice(read(client, paywalled["metered"][0])) is None  # counted before sign-in
    assert notice(read(client, paywalled["metered"][2])).startswith(
        "You have 3 free articles left this month"
    )


def test_dead_meter_store_fails_closed_without_an_error(paywalled, client):
    get_meter_store.cache_clear()
    try:
        with override_settings(
            MASTHEAD_METER_STORE="masthead.access.meter.redis",
            MASTHEAD_METER_REDIS_URL="redis://127.0.0.1:1/0",
        ):
            response = read(client, paywalled["metered"][0])
            assert "We cannot count free articles at the moment" in text(response)
            assert "M1 9 text." not in text(response)
            assert "Paragraph 9 text." in text(read(client, paywalled["sponsored"]))
    finally:
        get_meter_store.cache_clear()


def test_meter_settings_edited_in_the_admin_apply_to_the_next_request(paywalled, client):
    assert notice(read(client, paywalled["metered"][0])).startswith("You have 2")
    config = MeterSettings.for_site(Site.objects.get(is_default_site=True))
    config.anonymous_allowance = 1
    config.save()
    assert notice(read(Client(), paywalled["metered"][0])).startswith(
        "This is your last free article this month"
    )


def test_signed_in_reader_gets_the_registered_allowance_only_once_verified(
    paywalled, client, django_user_model
):
    reader = django_user_model.objects.create_user(
        username="new", email="new@example.com", password="a-long-test-password"
    )
    client.force_login(reader)
    assert notice(read(client, paywalled["metered"][0])).startswith("You have 2")  # 3 - 1
    reader.email_verified = True
    reader.save()
    assert notice(read(client, paywalled["metered"][1])).startswith("You have 4")  # 6 - 2
