from django.apps import AppConfig


class NewsConfig(AppConfig):
    name = "masthead.news"
    label = "news"
    verbose_name = "News"

    def ready(self):
        """Cached article pages and routes (news.rendering) are forgotten whenever what a
        reader could see of any page changes. Broad on purpose: related articles and the
        section menu depend on other pages, and publishing is rare next to reading."""
        from django.apps import apps
        from django.db.models.signals import post_delete, post_save
        from taggit.models import Tag
        from wagtail.images import get_image_model
        from wagtail.models import Page, PageViewRestriction, Site, get_page_models
        from wagtail.signals import (
            page_published,
            page_slug_changed,
            page_unpublished,
            post_page_move,
        )

        from .models import Author, Sponsor
        from .rendering import invalidate_on_change

        for signal in (page_published, page_unpublished, post_page_move, page_slug_changed):
            signal.connect(invalidate_on_change, dispatch_uid=f"news-cache-{id(signal)}")

        # Per model, not for every sender: a receiver for all models would turn Django's
        # fast bulk deletes (the meter's purge) into one signal per row.
        watched = [Page, *get_page_models(), Author, Sponsor, Tag, Site, PageViewRestriction]
        # The paywall panel cached for anonymous readers lists offers.
        watched += [apps.get_model("subscriptions", name) for name in ("Offer", "Plan")]
        for model in (*watched, get_image_model()):
            # Pages: post_save is every draft; only publishing (above) or deleting counts.
            signals = (post_delete,) if issubclass(model, Page) else (post_save, post_delete)
            for signal in signals:
                signal.connect(
                    invalidate_on_change,
                    sender=model,
                    dispatch_uid=f"news-cache-{model._meta.label}-{id(signal)}",
                )
