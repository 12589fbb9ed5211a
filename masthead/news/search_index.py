"""What site search indexes of an article, and the text its snippets come from: only what
every reader may see (docs/search.md).

Search is a public channel (access.channels, Channel.SEARCH): the whole body of a free
article, the teaser of any other. The index holds the headline, the decks, that part of the
body, and the names of the authors and topics; the paywalled part of a story is never
indexed, so no search, and no list of results, can tell a reader whether a sentence is in
it. The teaser's length is the site's (Settings > Meter) when the article is indexed: an
article is indexed again each time it is published, and saving a new teaser length queues
`reindex_teasers`, which indexes the site's other articles again (docs/search.md)."""

import html

from django.apps import apps
from django.db import transaction
from django.db.models.signals import post_save, pre_save
from django.dispatch import receiver
from django.utils.html import strip_tags
from django_tasks import task
from wagtail.models import Site
from wagtail.search.backends import get_search_backends

from masthead.access.channels import Channel, pieces_seen, what_may_be_seen
from masthead.access.models import MeterSettings
from masthead.access.policy import ArticleAccess
from masthead.core import generations

REINDEX_CHUNK = 500


def teaser_paragraphs_for(article) -> int:
    site = article.get_site()
    if site is None:
        return 0
    return MeterSettings.for_site(site).teaser_paragraphs


def plain(fragment: str) -> str:
    return " ".join(html.unescape(strip_tags(fragment)).split())


def public_body_text(article, teaser_paragraphs: int | None = None) -> str:
    """The text of the body that the search channel may show, as plain text: the pieces
    channels.pieces_seen allows, never one after them."""
    if teaser_paragraphs is None:
        teaser_paragraphs = teaser_paragraphs_for(article)
    pieces = article.body_pieces()
    visibility = what_may_be_seen(Channel.SEARCH, article.access)
    shown = pieces_seen(visibility, [p.kind for p in pieces], teaser_paragraphs)
    return " ".join(text for text in (plain(str(p.html)) for p in pieces[:shown]) if text)


def names(article) -> str:
    """The authors and topics of the article, as readers see them on it."""
    authors = [item.author.name for item in article.article_authors.all()]
    topics = [tag.name for tag in article.topics.all()]
    return ", ".join(authors + topics)


# On the worker's database queue (settings.TASKS), never inside the admin's request.
@task(backend="mail", queue_name="search")
def reindex_teasers(*, site_id: int) -> dict:
    """Index again every article of the site whose indexed body is its teaser (all but the
    free ones), with the teaser length saved now: paragraphs no longer in the teaser leave
    the index, new ones enter it. Idempotent, so running it twice does no harm."""
    # The model by name: news.models imports this module for its search fields.
    ArticlePage = apps.get_model("news", "ArticlePage")
    site = Site.objects.filter(pk=site_id).select_related("root_page").first()
    if site is None:
        return {"site": site_id, "reindexed": 0}
    articles = (
        ArticlePage.objects.descendant_of(site.root_page)
        .exclude(access=ArticleAccess.FREE)
        .prefetch_related("article_authors__author", "topics")
        .order_by("pk")
    )
    ids = list(articles.values_list("pk", flat=True))
    for start in range(0, len(ids), REINDEX_CHUNK):
        chunk = list(articles.filter(pk__in=ids[start : start + REINDEX_CHUNK]))
        for backend in get_search_backends(with_auto_update=True):
            backend.add_bulk(ArticlePage, chunk)
    # Searches kept under the listings generation (news.search.ranked) were answered
    # from the old index.
    generations.bump(generations.LISTINGS)
    return {"site": site_id, "reindexed": len(ids)}


@receiver(pre_save, sender=MeterSettings, dispatch_uid="news-search-teaser-before")
def _note_teaser_before(sender, instance, raw=False, using=None, **kwargs):
    """What the teaser length was before this save (None for a new row)."""
    if raw or instance.pk is None:
        instance._teaser_before = None
        return
    stored = sender.objects.using(using).filter(pk=instance.pk)
    instance._teaser_before = stored.values_list("teaser_paragraphs", flat=True).first()


@receiver(post_save, sender=MeterSettings, dispatch_uid="news-search-teaser-changed")
def _reindex_on_teaser_change(sender, instance, raw=False, using=None, **kwargs):
    """A saved new teaser length queues reindex_teasers once the save is committed."""
    before = getattr(instance, "_teaser_before", None)
    if raw or before is None or before == instance.teaser_paragraphs:
        return
    site_id = instance.site_id
    transaction.on_commit(lambda: reindex_teasers.enqueue(site_id=site_id), using=using)
