"""Renditions of an image whose original file may be gone (a restored database without its
media, a file deleted by hand): the page is shown without the picture, and the log says
which image, instead of Wagtail's SourceImageIOError failing the whole page."""

import logging

from wagtail.images.models import SourceImageIOError

log = logging.getLogger(__name__)


def renditions_or_none(image, specs) -> dict | None:
    """The image's renditions for `specs` (each made now if it does not exist yet), keyed by
    spec in the order given, or None when the original file cannot be read."""
    try:
        return image.get_renditions(*specs)
    except SourceImageIOError as error:
        log.warning(
            "Image %s (%r) left out: its file cannot be read: %s", image.pk, image.title, error
        )
        return None


def rendition_or_none(image, spec: str):
    renditions = renditions_or_none(image, [spec])
    return None if renditions is None else renditions[spec]
