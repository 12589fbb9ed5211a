"""Small tags for the site header (templates/includes/site_header.html)."""

from datetime import date

from django import template
from django.urls import NoReverseMatch, reverse
from django.utils import timezone

from masthead.core import clock

register = template.Library()


@register.simple_tag
def url_if_routed(name: str) -> str:
    """The URL named `name`, or "" while no such route exists: the header's search form
    appears once site search has a route, and never points at a missing page before."""
    try:
        return reverse(name)
    except NoReverseMatch:
        return ""


@register.simple_tag
def newsroom_today() -> date:
    """Today in the newsroom's time zone (settings.TIME_ZONE), by the project's one clock."""
    return timezone.localdate(clock.now())
