import pytest
from bs4 import BeautifulSoup
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.utils import timezone
from wagtail.images import get_image_model
from wagtail.models import Page, PageLogEntry, Revision, Site

from masthead.demo.content import load_catalogue
from masthead.news.models import (
    ArticlePage,
    Author,
    FooterSettings,
    HomePage,
    InfoPage,
    SeriesPage,
    Sponsor,
)
from masthead.subscriptions.models import Offer, Plan, Subscription

# load_demo fills the demo's database, SQLite by default: run on both.
pytestmark = [pytest.mark.django_db, pytest.mark.sqlite]


def snapshot():
    return {
        "pages": Page.objects.count(),
        "revisions": Revision.objects.count(),
        "log": PageLogEntry.objects.count(),
        "images": get_image_model().objects.count(),
        "authors": Author.objects.count(),
        "sponsors": Sponsor.objects.count(),
        "users": get_user_model().objects.count(),
        "offers": list(Offer.objects.values_list("name", "starts_at", "ends_at")),
        "subscriptions": Subscription.objects.count(),
        "sites": list(Site.objects.values_list("root_page_id", "is_default_site")),
    }


def test_load_demo_builds_the_publication_and_a_second_run_changes_nothing(capsys):
    call_command("load_demo")
    first = snapshot()
    call_command("load_demo")
    assert snapshot() == first
    assert "nothing changed" in capsys.readouterr().out

    catalogue = load_catalogue()
    assert ArticlePage.objects.live().count() == len(catalogue.articles) >= 24
    assert SeriesPage.objects.live().count() == len(catalogue.series)
    home = HomePage.objects.get()
    assert Site.objects.get(is_default_site=True).root_page_id == home.pk
    assert ArticlePage.objects.filter(sponsor__isnull=False).count() >= 2
    assert all(a.lead_image_id for a in ArticlePage.objects.all())
    users = get_user_model().objects
    assert users.get(username="admin").is_superuser
    editor = users.get(username="editor")
    assert not editor.is_superuser
    assert editor.groups.filter(name="Editors").exists()
    # something to sell, and readers to try it with
    assert Plan.objects.count() == 2
    assert Offer.objects.filter(ends_at__gt=timezone.now()).count() == 4
    assert users.get(username="subscriber").subscriptions.get().status == "active"
    assert not users.get(username="reader").subscriptions.exists()
    # the publication's own pages, linked from the footer
    footer = FooterSettings.for_site(Site.objects.get(is_default_site=True))
    assert [page.slug for page in footer.linked_pages()] == ["about", "contact", "privacy", "terms"]
    assert InfoPage.objects.live().child_of(home).count() == 4


def test_demo_article_serves_with_its_published_date(demo, client):
    article = ArticlePage.objects.live().order_by("published_at").first()
    response = client.get(article.url)
    assert response.status_code == 200
    published = timezone.localtime(article.published_at).isoformat()
    assert f'datetime="{published}"' in response.content.decode()


def test_the_demo_paywall_sells_the_demo_offers(demo, client):
    # given the demo, and an anonymous reader past the monthly allowance
    subscribers_only = ArticlePage.objects.live().filter(access="subscribers").first()
    # when they open a subscribers-only story
    body = client.get(subscribers_only.url).content.decode()
    # then the paywall offers the three the editors placed first that a new reader may take
    # (the comeback price is for lapsed readers), with their end date said once
    soup = BeautifulSoup(body, "html.parser")
    headlines = [h.get_text(strip=True) for h in soup.select(".paywall .choice__headline")]
    assert headlines == ["Try 1 month for $0.99", "Try 3 months for $9", "Try 14 days free"]
    assert body.count("These offers end") == 1


def test_the_demo_shows_authors_with_photos_and_topics_on_every_article(demo, client):
    catalogue = load_catalogue()
    authors = list(Author.objects.all())
    assert len(authors) == len(catalogue.authors)
    assert all(a.photo_id and a.role and a.bio for a in authors)
    assert all(a.topics.exists() for a in ArticlePage.objects.live())

    index = BeautifulSoup(client.get("/authors/").content, "html.parser")
    assert len(index.select(".author-index__item img")) == len(authors)
    page = BeautifulSoup(client.get("/authors/hana-okafor/").content, "html.parser")
    assert page.select_one(".author-profile picture") is not None
    assert len(page.select(".author-bio")) == 2
    assert page.select(".author-links a")
    topics = BeautifulSoup(client.get("/topics/").content, "html.parser")
    assert len(topics.select(".topic-index a")) >= 20
