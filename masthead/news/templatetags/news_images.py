"""`{% picture_of image "card" alt="" lazy=True as picture %}`: a responsive picture of
one of the kinds in masthead.news.images, rendered by Wagtail's `Picture` (a `<source>`
per extra format, `srcset` and `sizes`, the fallback JPEG `<img>` with width and height).

An image whose original file is missing renders as nothing (with a warning in the log)
rather than failing the page or showing a broken picture: use the `as` form and wrap the
markup around it in `{% if picture %}`."""

from django import template
from wagtail.images.models import Picture

from masthead.news.images import KINDS
from masthead.news.renditions import renditions_or_none

register = template.Library()


@register.simple_tag
def picture_of(image, kind, alt="", lazy=False, priority=False):
    """`lazy`: below the fold (loading="lazy"); `priority`: the page's largest picture
    (fetchpriority="high"), never lazy."""
    if not image:
        return ""
    spec = KINDS[kind]
    renditions = renditions_or_none(image, spec.filter_specs)
    if renditions is None:
        return ""
    attrs = {"alt": alt}
    if priority:
        attrs["fetchpriority"] = "high"
    elif lazy:
        attrs["loading"] = "lazy"
        attrs["decoding"] = "async"
    if len(renditions) == 1:
        (rendition,) = renditions.values()
        return rendition.img_tag(attrs)
    if spec.sizes:
        attrs["sizes"] = spec.sizes
    return Picture(renditions, attrs).__html__()
