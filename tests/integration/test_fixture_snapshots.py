"""The small publication put back from its snapshot (tests/snapshots.py) is the publication a
build makes, and the snapshot steps aside when the database or the clock is not as the build
found them. PostgreSQL only: on SQLite every test builds the publication."""

from datetime import timedelta

import pytest
from django.db import connection, transaction
from django.utils import timezone
from taggit.models import Tag
from wagtail.models import Page, ReferenceIndex, Revision, Site

from masthead.news.models import ArticlePage, Author
from tests.integration.conftest import build_site
from tests.snapshots import load

pytestmark = pytest.mark.django_db


@pytest.fixture
def snapshot(_site_snapshot):
    if connection.vendor != "postgresql" or _site_snapshot is None:
        pytest.skip("snapshots are taken on PostgreSQL only")
    return _site_snapshot


def described():
    """The publication as the tests see it, without identities."""
    pages = [
        (
            page.url_path,
            page.title,
            page.live,
            page.depth,
            page.numchild,
            page.has_unpublished_changes,
            type(page.specific).__name__,
            page.revisions.count(),
        )
        for page in Page.objects.order_by("path")
    ]
    articles = {
        article.slug: (
            [credit.author.name for credit in article.article_authors.all()],
            sorted(tag.name for tag in article.topics.all()),
            article.series and article.series.title,
            article.sponsor and article.sponsor.name,
            article.access,
            article.lead_image and article.lead_image.title,
        )
        for article in ArticlePage.objects.all()
    }
    sites = [
        (s.hostname, s.port, s.root_page.url_path, s.is_default_site) for s in Site.objects.all()
    ]
    counts = (
        Revision.objects.count(),
        ReferenceIndex.objects.count(),
        Tag.objects.count(),
        Author.objects.count(),
    )
    found = ArticlePage.objects.live().search("Seoul")
    return pages, articles, sites, counts, sorted(page.slug for page in found)


def test_the_publication_put_back_is_the_one_a_build_makes(snapshot):
    with transaction.atomic():
        build_site()
        built = described()
        transaction.set_rollback(True)
    assert snapshot.restore()
    assert described() == built
    assert built[1]["seoul-and-jakarta-sign-pact"][0] == ["Ada Reporter", "Ben Writer"]


def test_the_handles_load_the_pages_as_their_own_types(site):
    assert type(site["lead"]) is ArticlePage
    assert [author.name for author in site["authors"]] == ["Ada Reporter", "Ben Writer"]
    assert site["lead"].get_parent().specific == site["world"]


def test_a_database_not_as_the_build_found_it_gets_a_build_instead(snapshot):
    Author.objects.create(name="Early Bird", slug="early-bird")
    pages = Page.objects.count()
    assert not snapshot.restore()
    assert Page.objects.count() == pages  # nothing half put back
    assert not ArticlePage.objects.exists()


def test_a_clock_far_from_the_build_gets_a_build_instead(snapshot, time_machine):
    time_machine.move_to(timezone.now() - timedelta(days=40), tick=False)
    assert not snapshot.restore()
    assert not ArticlePage.objects.exists()


def test_timestamps_move_with_the_time_since_the_build(snapshot, time_machine):
    later = snapshot.built_at + timedelta(minutes=20)
    time_machine.move_to(later, tick=False)
    assert snapshot.restore()
    lead = load(snapshot.handles["lead"])
    # The lead story was published "now" at the build; put back, it is published now.
    assert abs(lead.published_at - later) < timedelta(seconds=30)
    assert abs(lead.first_published_at - later) < timedelta(seconds=30)


def test_a_picture_file_a_test_deleted_is_there_again(snapshot):
    with transaction.atomic():  # a test that deletes the file, then ends
        assert snapshot.restore()
        image = load(snapshot.handles["lead"]).lead_image
        image.file.storage.delete(image.file.name)
        transaction.set_rollback(True)

    with transaction.atomic():
        assert snapshot.restore()
        image = load(snapshot.handles["lead"]).lead_image
        assert image.file.storage.exists(image.file.name)
        transaction.set_rollback(True)
