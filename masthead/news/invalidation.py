"""What a change to a page forgets of the cached pages (news.rendering, news.routing).

An article's publish, unpublish, move, rename or delete forgets that article's cached
routes, changes the listings generation (lists of any articles: indexes, feeds, sitemaps,
search) and the tokens of its own families, its series and topics (the related-articles
lists drawn from them), as they were before the change and as they are after it. Its own
pieces need nothing, since their keys name its live revision. Any other page (home, a
section, a series) is shown on every article (menus, breadcrumbs, kickers) and holds
articles' paths, so a change to one forgets everything (the pages generation)."""

from masthead.core import generations

from .rendering import invalidate_on_change
from .routing import forget_article


def _is_article(page) -> bool:
    from .models import ArticlePage  # the models import the rendering

    if isinstance(page, ArticlePage):
        return True
    specific_class = getattr(page, "specific_class", None)
    return specific_class is not None and issubclass(specific_class, ArticlePage)


def stored_families(pk, *, live_only: bool = False) -> list[str]:
    """The families (masthead.news.models.listing_families) of the article `pk` as the
    database holds it: its live version, or nothing once it is deleted. `live_only`: nothing
    either when it is not live (no list shows it)."""
    from .models import ArticlePage, ArticlePageTag, listing_families

    rows = ArticlePage.objects.filter(pk=pk)
    if live_only:
        rows = rows.filter(live=True)
    found = list(rows.values_list("series_id", flat=True)[:1])
    if not found:
        return []
    topics = ArticlePageTag.objects.filter(content_object_id=pk).values_list("tag_id", flat=True)
    return listing_families(found[0], list(topics))


def invalidate_listings(families, using=None) -> None:
    """Lists of any articles, and those drawn from `families`, may have changed."""
    generations.bump_with_transaction(generations.LISTINGS, using)
    generations.bump_families(families, using)


def page_changed(sender, instance, **kwargs) -> None:
    """page_published, page_unpublished and post_delete receiver: the families as they are
    now (none once deleted: article_deleting changed them while the rows were there)."""
    if _is_article(instance):
        forget_article([instance.url_path], kwargs.get("using"))
        invalidate_listings(stored_families(instance.pk), kwargs.get("using"))
    else:
        invalidate_on_change(**kwargs)


def article_saving(sender, instance, update_fields=None, raw=False, **kwargs) -> None:
    """pre_save receiver for articles: a whole save (a publish, an unpublish) replaces the
    live version, whose series and topics are still in the database now; lists drawn from
    them may show it. A draft saves named fields only (Wagtail's save_revision) and leaves
    the live version alone."""
    if raw or update_fields is not None or instance.pk is None:
        return
    generations.bump_families(stored_families(instance.pk, live_only=True), kwargs.get("using"))


def article_deleting(sender, instance, **kwargs) -> None:
    """pre_delete receiver for articles: their topics are deleted before the article."""
    generations.bump_families(stored_families(instance.pk), kwargs.get("using"))


def page_moved(sender, instance, url_path_before="", url_path_after="", **kwargs) -> None:
    """post_page_move receiver: lists drawn from the article's families link to it."""
    if _is_article(instance):
        forget_article([url_path_before, url_path_after])
        invalidate_listings(stored_families(instance.pk))
    else:
        invalidate_on_change()


def page_renamed(sender, instance, instance_before=None, **kwargs) -> None:
    """page_slug_changed receiver: the old path must no longer route to the article."""
    before = getattr(instance_before, "url_path", "")
    page_moved(sender, instance, url_path_before=before, url_path_after=instance.url_path)
