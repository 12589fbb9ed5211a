"""Renditions made ahead: every picture the demo's pages show of each article's lead image
(the specs in masthead.news.images, the same the templates use), so that the first visitor
of each page does not wait for Pillow. Safe to run again: existing renditions are kept."""

from collections.abc import Callable

from wagtail.images import get_image_model

from masthead.news.images import author_photo_specs, lead_image_specs
from masthead.news.models import ArticlePage, Author
from masthead.news.renditions import renditions_or_none


def make_renditions(progress: Callable[[str], None]) -> None:
    """Makes the renditions of every article's lead image; `progress` gets a line per image."""
    specs = lead_image_specs()
    used = ArticlePage.objects.filter(lead_image__isnull=False).values("lead_image")
    images = list(get_image_model().objects.filter(pk__in=used).order_by("pk"))
    for number, image in enumerate(images, start=1):
        made = renditions_or_none(image, specs) is not None
        state = f"{len(specs)} renditions" if made else "original file missing, skipped"
        progress(f"Renditions {number}/{len(images)}: {image.title} ({state})")
    photos = get_image_model().objects.filter(pk__in=Author.objects.values("photo")).order_by("pk")
    for image in photos:
        made = renditions_or_none(image, author_photo_specs()) is not None
        progress(f"Renditions: {image.title} ({'made' if made else 'original file missing'})")
