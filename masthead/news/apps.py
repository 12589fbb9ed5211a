from django.apps import AppConfig


class NewsConfig(AppConfig):
    name = "masthead.news"
    label = "news"
    verbose_name = "News"

    def ready(self):
        """Cached article pieces and routes (news.rendering, news.routing) are forgotten when
        what readers see changes. An article's publish, unpublish, move or delete forgets its
        own route and the lists of articles; edits of what every page shows (other pages,
        authors, sponsors, images, topics, sites, view restrictions, offers, the footer's
        settings) forget everything."""
        from django.apps import apps
        from django.db.models.signals import post_delete, post_save, pre_delete, pre_save
        from taggit.models import Tag
        from wagtail.images import get_image_model
        from wagtail.models import Page, PageViewRestriction, Site, get_page_models
        from wagtail.signals import (
            page_published,
            page_slug_changed,
            page_unpublished,
            post_page_move,
        )

        from masthead.core.sites import forget_sites

        from .invalidation import (
            article_deleting,
            article_saving,
            page_changed,
            page_moved,
            page_renamed,
        )
        from .models import ArticlePage, Author, FooterSettings, RobotsSettings, Sponsor
        from .rendering import invalidate_on_change

        for signal in (page_published, page_unpublished):
            signal.connect(page_changed, dispatch_uid=f"news-cache-{id(signal)}")
        post_page_move.connect(page_moved, dispatch_uid="news-cache-move")
        page_slug_changed.connect(page_renamed, dispatch_uid="news-cache-slug")

        # Per model, not for every sender: a receiver for all models would turn Django's
        # fast bulk deletes (the meter's purge) into one signal per row.
        for model in (Page, *get_page_models()):
            # Pages: post_save is every draft; only publishing (above) or deleting counts.
            post_delete.connect(
                page_changed, sender=model, dispatch_uid=f"news-cache-{model._meta.label}"
            )
        # An article's series and topics before a publish or delete replaces them.
        for model in get_page_models():
            if issubclass(model, ArticlePage):
                pre_save.connect(article_saving, sender=model, dispatch_uid=f"news-was-{model}")
                pre_delete.connect(article_deleting, sender=model, dispatch_uid=f"news-del-{model}")
        # FooterSettings: every page's footer links to the pages it chooses.
        watched = [Author, Sponsor, FooterSettings, Tag, Site, PageViewRestriction]
        watched.append(RobotsSettings)  # /robots.txt is cached under the pages generation
        watched.append(get_image_model())
        # The paywall panel cached for anonymous readers lists offers.
        watched += [apps.get_model("subscriptions", name) for name in ("Offer", "Plan")]
        for model in watched:
            for signal in (post_save, post_delete):
                signal.connect(
                    invalidate_on_change,
                    sender=model,
                    dispatch_uid=f"news-cache-{model._meta.label}-{id(signal)}",
                )
        for model in (Site, Page, *get_page_models()):
            for signal in (post_save, post_delete):
                signal.connect(
                    forget_sites,
                    sender=model,
                    dispatch_uid=f"news-sites-{model._meta.label}-{id(signal)}",
                )
