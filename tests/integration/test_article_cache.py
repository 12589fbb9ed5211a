"""Article pages are rendered once per live revision and assembled per reader
(masthead.news.rendering), and reached by Wagtail's routing with the route kept in the cache
(masthead.news.routing)."""

from datetime import timedelta

import pytest
from django.db import connection, router
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from wagtail.models import Page, PageViewRestriction, Site

from masthead.access.models import MeterEntry, MeterSettings
from masthead.news import rendering
from masthead.news.models import ArticlePage
from masthead.subscriptions.models import Subscription
from tests.factories import make_article
from tests.integration.subscription_factories import make_plan, make_reader
from tests.snapshots import restore_or_build, take_on_postgresql

pytestmark = pytest.mark.django_db

PAYWALLED = "Paragraph 9 text."  # beyond the two-paragraph teaser
TEASER = "Paragraph 1 text."


def add_news(site):
    config = MeterSettings.for_site(Site.objects.get(is_default_site=True))
    config.anonymous_allowance = 2
    config.teaser_paragraphs = 2
    config.save()
    world = site["world"]
    return {
        "metered": [make_article(world, f"Metered story {n}", days_ago=n) for n in (1, 2, 3)],
        "exclusive": make_article(world, "Exclusive story", access="subscribers"),
    }


@pytest.fixture(scope="session")
def _news_snapshot(_site_snapshot, django_db_blocker):
    return take_on_postgresql(add_news, django_db_blocker, base=_site_snapshot)


@pytest.fixture
def news(site, _news_snapshot):
    site.update(restore_or_build(_news_snapshot, add_news, on=site))
    return site


def html(response) -> str:
    assert response.status_code == 200
    return response.content.decode()


def subscriber_client() -> Client:
    reader = make_reader()
    Subscription.objects.create(
        user=reader,
        plan=make_plan(),
        status="active",
        current_period_end=timezone.now() + timedelta(days=30),
    )
    client = Client()
    client.force_login(reader)
    return client


def exhausted_client(news) -> Client:
    client = Client()
    for page in news["metered"][1:]:
        assert "meter-notice" in html(client.get(page.url))
    return client


def publish_new_text(page, text):
    page = ArticlePage.objects.get(pk=page.pk)
    page.body = [("paragraph", f"<p>{text}</p>")]
    page.save_revision().publish()
    return page


def test_second_request_renders_no_templates_and_reads_only_the_meter(
    news, client, rendered_templates, django_assert_num_queries
):
    # given a reader who has opened this article (rendering it into the cache) and been
    # counted by the meter
    article = news["metered"][0]
    assert "meter-notice" in html(client.get(article.url))
    assert rendered_templates
    counted = html(client.get(article.url))
    rendered_templates.clear()
    # when the reader opens it again
    meter = router.db_for_read(MeterEntry)  # the meter's own alias on PostgreSQL
    with (
        CaptureQueriesContext(connection) as site_queries,
        django_assert_num_queries(1, using=meter),  # the meter's read of this reader's articles
    ):
        again = html(client.get(article.url))
    assert len(site_queries) == (1 if meter == connection.alias else 0)  # and nothing else
    # then nothing was rendered or routed by Wagtail, and the page is the same
    assert rendered_templates == []
    assert again == counted
    assert PAYWALLED in again


def test_a_cached_article_asks_the_shared_cache_once(news, request):
    # given an article in the cache, and a count of what each request asks the shared cache
    article = news["metered"][0]
    html(Client().get(article.url))
    reads = request.getfixturevalue("cache_reads")  # counted from here on
    # when a new reader opens it (the meter store is the database here)
    page = html(Client().get(article.url))
    # then the generation tokens came in one read (production keeps them a second), and the
    # article's route and pieces from this process
    assert PAYWALLED in page
    assert [kind for kind, _keys in reads] == ["get_many"]


def test_a_new_reader_is_served_from_the_cache_too(news, rendered_templates):
    article = news["metered"][0]
    html(Client().get(article.url))
    rendered_templates.clear()
    page = html(Client().get(article.url))
    assert rendered_templates == []  # the meter notice is rendered once per process
    assert PAYWALLED in page and "You have 1 free article left this month" in page


def test_topics_are_queried_once_per_render(news, client):
    with CaptureQueriesContext(connection) as queries:
        html(client.get(news["lead"].url))
    tag_queries = [q["sql"] for q in queries if '"taggit_tag"' in q["sql"]]
    assert len(tag_queries) == 1, tag_queries


def test_publishing_a_new_revision_shows_the_new_text_at_once(news, client):
    article = news["metered"][0]
    assert TEASER in html(client.get(article.url))
    publish_new_text(article, "A corrected first paragraph.")
    page = html(client.get(article.url))
    assert "A corrected first paragraph." in page and TEASER not in page


def test_a_saved_draft_changes_nothing_readers_see(news, client):
    article = news["metered"][0]
    html(client.get(article.url))  # counted by the meter: no notice from now on
    before = html(client.get(article.url))
    draft = ArticlePage.objects.get(pk=article.pk)
    draft.body = [("paragraph", "<p>Unpublished draft text.</p>")]
    draft.save_revision()
    after = html(client.get(article.url))
    assert "Unpublished draft text." not in after and after == before


def test_unpublishing_and_deleting_remove_the_page_and_its_print_view(news, client):
    article, other = news["metered"][0], news["metered"][1]
    assert client.get(article.url).status_code == 200
    assert client.get(article.url + "print/").status_code == 200
    ArticlePage.objects.get(pk=article.pk).unpublish()
    assert client.get(article.url).status_code == 404
    assert client.get(article.url + "print/").status_code == 404
    url = other.url
    assert client.get(url).status_code == 200
    Page.objects.get(pk=other.pk).delete()
    assert client.get(url).status_code == 404


def test_moving_an_article_moves_its_cached_route(news, client):
    article = news["metered"][0]
    old_url = article.url
    assert client.get(old_url).status_code == 200
    Page.objects.get(pk=article.pk).move(news["business"], pos="last-child")
    new_url = Page.objects.get(pk=article.pk).url
    assert new_url != old_url
    moved = client.get(old_url)  # Wagtail's automatic redirect, not the cached route
    assert moved.status_code == 301 and moved["Location"] == new_url
    assert TEASER in html(client.get(new_url))


def test_related_articles_follow_a_publish_elsewhere(news, client):
    lead = news["lead"]
    assert "Seoul pledges aid" in html(client.get(lead.url))
    ArticlePage.objects.get(pk=news["earlier"].pk).unpublish()
    assert "Seoul pledges aid" not in html(client.get(lead.url))


def test_an_exhausted_reader_never_gets_the_paywalled_text_a_subscriber_cached(news):
    # given a subscriber who read the article and its print view first (cache warm)
    article = news["metered"][0]
    subscriber = subscriber_client()
    assert PAYWALLED in html(subscriber.get(article.url))
    assert PAYWALLED in html(subscriber.get(article.url + "print/"))
    # when a reader whose allowance is used up opens them
    reader = exhausted_client(news)
    page = html(reader.get(article.url))
    printed = html(reader.get(article.url + "print/"))
    # then the teaser and the paywall, never the remainder
    for body in (page, printed):
        assert TEASER in body
        assert PAYWALLED not in body
        assert (
            "paywalled-content"
            not in body.split("application/ld+json")[-1].split("</script>", 1)[-1]
        )
        assert "You have read all your free articles this month" in body
    assert "private" in reader.get(article.url)["Cache-Control"]


def test_a_subscriber_gets_the_full_text_from_a_cache_an_anonymous_reader_filled(news):
    exclusive = news["exclusive"]
    anonymous = html(Client().get(exclusive.url))
    assert PAYWALLED not in anonymous and "This article is for subscribers" in anonymous
    subscriber = subscriber_client()
    for suffix in ("", "print/"):
        page = html(subscriber.get(exclusive.url + suffix))
        assert PAYWALLED in page and 'class="paywall"' not in page
    assert PAYWALLED not in html(Client().get(exclusive.url + "print/"))


def test_json_ld_is_cached_without_body_text(news, client):
    article = news["metered"][0]
    html(client.get(article.url))
    frames = [v for k, v in rendering.local.items() if k.endswith(":page")]
    assert frames and all(PAYWALLED not in "".join(f.parts) for f in frames)
    assert all(TEASER not in "".join(f.parts) for f in frames)  # the body is a slot


def test_view_restricted_articles_go_through_wagtail(news, client):
    article = news["metered"][0]
    assert client.get(article.url).status_code == 200
    PageViewRestriction.objects.create(page=article, restriction_type="login")
    response = client.get(article.url)
    assert response.status_code == 302 and "login" in response["Location"]


def test_other_pages_are_still_wagtails(news, client):
    assert client.get("/").status_code == 200
    assert client.get(news["world"].url).status_code == 200
    assert client.get("/no-such-page/").status_code == 404


def test_a_dead_cache_still_serves_correct_pages(news, dead_redis):
    exclusive = news["exclusive"]
    page = html(Client().get(exclusive.url))
    assert TEASER in page and PAYWALLED not in page
    assert PAYWALLED in html(subscriber_client().get(exclusive.url))
    assert PAYWALLED not in html(Client().get(exclusive.url))


def test_the_anonymous_paywall_panel_is_rendered_once(news, rendered_templates):
    # given an exhausted reader who has seen the paywall once
    exclusive = news["exclusive"]
    assert "This article is for subscribers" in html(Client().get(exclusive.url))
    rendered_templates.clear()
    # when another anonymous reader meets it
    page = html(Client().get(exclusive.url))
    # then the panel comes from the cache, and the remainder is still not there
    assert rendered_templates == []
    assert "This article is for subscribers" in page and PAYWALLED not in page


def test_a_signed_in_reader_gets_a_panel_of_their_own(news):
    exclusive = news["exclusive"]
    html(Client().get(exclusive.url))
    reader = Client()
    reader.force_login(make_reader())
    page = html(reader.get(exclusive.url))
    assert "Already a subscriber? Sign in" not in page
    assert "Already a subscriber? Sign in" in html(Client().get(exclusive.url))


def test_a_preview_shows_the_draft_and_caches_nothing(news, client):
    # given a live article in the cache and a draft of it
    article = news["metered"][0]
    html(client.get(article.url))
    draft = ArticlePage.objects.get(pk=article.pk)
    draft.body = [("paragraph", "<p>Draft only text.</p>")]
    draft.save_revision()
    # when an editor previews the draft
    preview = draft.get_latest_revision_as_object().make_preview_request()
    # then the preview has the draft and readers still get the live text
    assert "Draft only text." in preview.content.decode()
    assert "Draft only text." not in html(Client().get(article.url))


def test_making_an_article_subscribers_only_applies_to_the_next_request(news):
    # given a metered article cached with its full text for a reader within the allowance
    article = news["metered"][0]
    assert PAYWALLED in html(Client().get(article.url))
    # when an editor publishes it as subscribers-only
    page = ArticlePage.objects.get(pk=article.pk)
    page.access = "subscribers"
    page.save_revision().publish()
    # then a new anonymous reader gets the teaser, in the page and the print view
    reader = Client()
    for suffix in ("", "print/"):
        body = html(reader.get(article.url + suffix))
        assert TEASER in body and PAYWALLED not in body
        assert "This article is for subscribers" in body


def test_only_a_reader_without_a_cookie_is_counted_against_its_network(news, monkeypatch):
    # A request without an identity goes to the network's counters and stores no meter row;
    # a reader who sent a cookie is metered on its own key (its first read stored first).
    from masthead.access import gate
    from masthead.access.meter import get_meter_store

    store = get_meter_store()
    seen = []

    class Spy:
        def consume(self, **kwargs):
            seen.append(("consume", kwargs["article_id"]))
            return store.consume(**kwargs)

        def take(self, takes):
            seen.append(("take", sorted(str(t.kind) for t in takes)))
            return store.take(takes)

    monkeypatch.setattr(gate, "get_meter_store", Spy)
    first, second = news["metered"][:2]
    client = Client()
    html(client.get(first.url))
    html(client.get(second.url))
    html(client.get(second.url, HTTP_COOKIE="mh_reader=tampered"))
    assert seen == [
        ("take", ["day", "period"]),  # a new reader: its network's counters, no meter row
        ("take", ["period"]),  # it came back: the rest of its allowance from the period
        ("consume", first.pk),  # the first read, carried by the cookie
        ("consume", second.pk),
        ("take", ["day", "period"]),
    ]


def test_publishing_one_article_leaves_the_others_cached(news, rendered_templates):
    # given two articles in the cache, with no series or topic in common
    article, other = news["metered"][0], news["metered"][1]
    for page in (article, other):
        html(Client().get(page.url))
    # when one of them is published again
    publish_new_text(article, "A corrected first paragraph.")
    rendered_templates.clear()
    page = html(Client().get(other.url))
    # then the other is assembled from the cache, its list of related articles included
    assert rendered_templates == []
    assert TEASER in page
    # and the published one shows its new text
    assert "A corrected first paragraph." in html(Client().get(article.url))


def families_apart(settings, *groups) -> None:
    """Choose the number of listing buckets so that no two of these groups of families share
    a bucket (masthead.core.generations): what one publish forgets is then exactly its own."""
    from masthead.core import generations

    for buckets in range(16, 4096):
        settings.MASTHEAD_LISTING_BUCKETS = buckets
        tokens = [{generations.family_token(f) for f in group} for group in groups]
        if sum(map(len, tokens)) == len(set().union(*tokens)):
            return
    raise AssertionError("no bucket count keeps these families apart")


def families(article) -> list[str]:
    return ArticlePage.objects.get(pk=article.pk).listing_families()


def test_a_publish_renders_again_the_related_lists_of_its_series_and_topics_only(
    news, settings, rendered_templates
):
    # given the lead (in a series, with two topics), the earlier story of its series and a
    # story sharing its topics, each cached, their families in buckets of their own
    lead, earlier, topical = news["lead"], news["earlier"], news["topical"]
    families_apart(settings, families(earlier), families(topical))
    for page in (lead, earlier, topical):
        html(Client().get(page.url))
    # when the earlier story of the series is published with a new headline
    renamed = ArticlePage.objects.get(pk=earlier.pk)
    renamed.title = "Seoul doubles its aid"
    renamed.save_revision().publish()
    # then the lead's related list (the series) is rendered again and shows it
    rendered_templates.clear()
    assert "Seoul doubles its aid" in html(Client().get(lead.url))
    assert set(rendered_templates) == {"news/includes/related.html", "includes/article_card.html"}
    # and the story that shares only topics with the lead keeps its cached list
    rendered_templates.clear()
    html(Client().get(topical.url))
    assert rendered_templates == []


def test_an_article_leaving_a_topic_leaves_that_topics_lists(news, settings):
    # given a story whose related list shows the lead through their shared topics
    lead, topical = news["lead"], news["topical"]
    families_apart(settings, families(lead), [])
    assert "Seoul and Jakarta sign pact" in html(Client().get(topical.url))
    # when the lead is published without those topics (and without its series)
    changed = ArticlePage.objects.get(pk=lead.pk)
    changed.topics.clear()
    changed.series = None
    changed.save_revision().publish()
    # then that list no longer shows it: the topics it had before were forgotten too
    assert "Seoul and Jakarta sign pact" not in html(Client().get(topical.url))


def test_a_deleted_article_leaves_the_lists_of_its_topics(news, client):
    lead, topical = news["lead"], news["topical"]
    assert "Shipyards boom" in html(client.get(lead.url))
    Page.objects.get(pk=topical.pk).delete()  # its topics are deleted before it
    assert "Shipyards boom" not in html(client.get(lead.url))


def test_a_moved_article_is_linked_at_its_new_address_in_related_lists(news, client):
    lead, earlier = news["lead"], news["earlier"]
    old_url = earlier.url
    assert f'href="{old_url}"' in html(client.get(lead.url))
    Page.objects.get(pk=earlier.pk).move(news["business"], pos="last-child")
    new_url = Page.objects.get(pk=earlier.pk).url
    page = html(client.get(lead.url))
    assert f'href="{new_url}"' in page and f'href="{old_url}"' not in page


def test_editing_what_every_page_shows_renders_every_article_again(news, rendered_templates):
    from masthead.news.models import Author

    other = news["metered"][1]
    html(Client().get(other.url))
    author = Author.objects.first()
    author.name = "Renamed Reporter"
    author.save()
    rendered_templates.clear()
    html(Client().get(other.url))
    assert "news/article_page.html" in rendered_templates
