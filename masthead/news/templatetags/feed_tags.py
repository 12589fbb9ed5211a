from django import template

from masthead.news.feeds import feed_links as links_for

register = template.Library()


@register.simple_tag(takes_context=True)
def feed_links(context):
    """The feeds the page offers for autodiscovery (news.feeds.feed_links)."""
    return links_for(context)
