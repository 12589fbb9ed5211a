"""bench/seed.py: articles written in bulk are served like written ones, and the meter
entries it seeds are what each store reads back. The seeding is the benchmark's, not the
product's, so it is loaded from bench/ by path."""

import importlib.util
from pathlib import Path

import pytest
from django.core import signing
from django.core.management.base import CommandError
from django.test import Client, override_settings
from wagtail.models import Page, Revision, Site

from masthead.access import gate
from masthead.access.models import MeterEntry, MeterReader, MeterSettings
from masthead.access.readers import COOKIE_SALT
from masthead.core import clock
from masthead.news.models import ArticlePage
from tests.factories import make_article, make_home, make_section

pytestmark = pytest.mark.django_db


def load_bench_seeding():
    path = Path(__file__).resolve().parents[2] / "bench" / "seeding.py"
    spec = importlib.util.spec_from_file_location("bench_seeding", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


seeding = load_bench_seeding()

ARTICLES = 30
READERS = 200
READS = 3
COOKIE = "mh_reader"


@pytest.fixture
def world(db):
    """A section that already has a written article, so seeded paths must follow it."""
    home = make_home()
    world = make_section(home, "World")
    make_article(world, "A written story")
    config = MeterSettings.for_site(Site.objects.get(is_default_site=True))
    config.anonymous_allowance = READS
    config.teaser_paragraphs = 2
    config.save()
    return world


@pytest.fixture
def store(each_meter_store):
    return each_meter_store


def seed() -> str:
    lines = []
    seeding.run(
        articles=ARTICLES, meter_readers=READERS, reads_per_reader=READS, report=lines.append
    )
    return "\n".join(lines)


def reader_client(n: int) -> Client:
    client = Client()
    client.cookies[COOKIE] = signing.get_cookie_signer(salt=COOKIE + COOKIE_SALT).sign(
        seeding.reader_id(n)
    )
    return client


def seeded_articles():
    return ArticlePage.objects.filter(slug__startswith=seeding.SLUG_PREFIX).order_by("path")


def counts(store) -> dict:
    found = {
        "pages": Page.objects.count(),
        "revisions": Revision.objects.count(),
        "meter_readers": MeterReader.objects.count(),
        "meter_entries": MeterEntry.objects.count(),
    }
    if hasattr(store, "client"):
        found["redis_keys"] = len(list(store.client.scan_iter(match=f"{store.prefix}*")))
    return found


def test_seeded_articles_are_live_in_a_valid_tree_and_served(world, store):
    # when
    output = seed()

    # then
    assert f"articles: {ARTICLES} created" in output
    assert f"meter readers: {READERS} created" in output
    assert Page.find_problems() == ([], [], [], [], [])
    world.refresh_from_db()
    assert world.numchild == world.get_children().count() == ARTICLES + 1
    articles = list(seeded_articles())
    assert len(articles) == ARTICLES
    assert all(a.live and a.live_revision_id == a.latest_revision_id for a in articles)
    assert articles[0].get_prev_sibling().title == "A written story"
    for article in (articles[0], articles[-1]):
        assert article.get_latest_revision_as_object().title == article.title
        response = Client().get(article.url)
        assert response.status_code == 200
        assert article.title in response.content.decode()
        assert f"Paragraph {seeding.BODY_PARAGRAPHS} of bench article" in response.content.decode()


def test_a_seeded_reader_has_read_what_was_seeded_and_then_gets_the_teaser(world, store):
    # given
    seed()
    article_ids = seeding.meter_article_ids()
    read = seeding.reads_of(1, READS, article_ids)
    unread = next(pk for pk in article_ids if pk not in read)
    config = MeterSettings.for_site(Site.objects.get(is_default_site=True))
    now = clock.now()

    # when
    counted = store.consume(
        reader_key=seeding.reader_key(1),
        article_id=read[0],
        allowance=READS,
        window=gate.current_window(config, now),
        now=now,
    )
    blocked = reader_client(1).get(ArticlePage.objects.get(pk=unread).url)

    # then
    assert counted.already_counted and counted.used == READS
    body = blocked.content.decode()
    assert blocked.status_code == 200
    assert "You have read all your free articles this month" in body
    assert "Paragraph 2 of bench article" in body
    assert f"Paragraph {seeding.BODY_PARAGRAPHS} of bench article" not in body
    again = reader_client(1).get(ArticlePage.objects.get(pk=read[1]).url).content.decode()
    assert f"Paragraph {seeding.BODY_PARAGRAPHS} of bench article" in again


def test_running_again_with_the_same_numbers_adds_nothing(world, store):
    # given
    seed()
    before = counts(store)

    # when
    output = seed()

    # then
    assert counts(store) == before
    assert f"articles: 0 created, {ARTICLES} already there" in output
    assert f"meter readers: 0 created, {READERS} already there" in output
    assert Page.find_problems() == ([], [], [], [], [])


@override_settings(MASTHEAD_DEMO=False)
def test_it_refuses_to_seed_without_the_demo_opt_in(world):
    # given
    before = Page.objects.count()

    # when / then
    with pytest.raises(CommandError, match="MASTHEAD_DEMO=true"):
        seeding.run(articles=ARTICLES, report=lambda line: None)
    assert Page.objects.count() == before
    assert not seeded_articles().exists()


def test_an_unknown_section_is_refused_with_its_name(world):
    with pytest.raises(ValueError, match="no section with the slug 'nowhere'"):
        seeding.run(articles=1, section_slug="nowhere", report=lambda line: None)
