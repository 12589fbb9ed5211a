"""The site footer (templates/includes/site_footer.html).

It is part of the cached article frame, rendered from an anonymous request
(news.rendering), so it holds nothing about the reader: the same links for everyone."""

from django import template
from django.conf import settings
from django.urls import reverse

from masthead.core.sites import site_for_request
from masthead.news.models import FooterSettings, SeriesIndexPage

from .news_tags import section_nav

register = template.Library()


@register.inclusion_tag("includes/site_footer.html", takes_context=True)
def site_footer(context):
    request = context.get("request")
    site = site_for_request(request) if request is not None else None
    # Read only: FooterSettings.for_site() would create the row, and its save would forget
    # every cached page in the middle of rendering one. No row yet: no links yet.
    footer = FooterSettings.objects.filter(site=site).first() if site is not None else None
    pages = footer.linked_pages() if footer is not None else []
    series_index = SeriesIndexPage.objects.live().public().first()
    return {
        # The section navigation's own list (news_tags.section_nav), without its "current".
        "sections": [(title, url) for title, url, _current in section_nav(context)["sections"]],
        "series_url": series_index.get_url(request) if series_index else "",
        "pages": [(page.title, page.get_url(request)) for page in pages],
        "site_name": settings.MASTHEAD_SITE_NAME,
        "subscribe_url": settings.MASTHEAD_SUBSCRIBE_URL,
        "account_url": reverse("readers:account"),
    }
