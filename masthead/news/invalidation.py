"""What a change to a page forgets of the cached pages (news.rendering, news.routing).

An article's publish, unpublish, move, rename or delete forgets that article's cached
routes and changes the listings generation (related articles); its own pieces need nothing,
since their keys name its live revision. Any other page (home, a section, a series) is
shown on every article (menus, breadcrumbs, kickers) and holds articles' paths, so a change
to one forgets everything (the pages generation)."""

from .rendering import invalidate_listings, invalidate_on_change
from .routing import forget_article


def _is_article(page) -> bool:
    from .models import ArticlePage  # the models import the rendering

    if isinstance(page, ArticlePage):
        return True
    specific_class = getattr(page, "specific_class", None)
    return specific_class is not None and issubclass(specific_class, ArticlePage)


def page_changed(sender, instance, **kwargs) -> None:
    """page_published, page_unpublished and post_delete receiver."""
    if _is_article(instance):
        forget_article([instance.url_path], kwargs.get("using"))
        invalidate_listings(**kwargs)
    else:
        invalidate_on_change(**kwargs)


def page_moved(sender, instance, url_path_before="", url_path_after="", **kwargs) -> None:
    """post_page_move receiver."""
    if _is_article(instance):
        forget_article([url_path_before, url_path_after])
        invalidate_listings()
    else:
        invalidate_on_change()


def page_renamed(sender, instance, instance_before=None, **kwargs) -> None:
    """page_slug_changed receiver: the old path must no longer route to the article."""
    before = getattr(instance_before, "url_path", "")
    page_moved(sender, instance, url_path_before=before, url_path_after=instance.url_path)
