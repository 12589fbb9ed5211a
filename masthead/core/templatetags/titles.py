"""{% page_title %}...{% endpage_title %}: base.html's <title>, the rendered title block with
the publication's name after it once (masthead.core.titles).

The name comes from the settings, not from the template context: Django's auth views put
the request's host in the context's `site_name`, and their pages must not show it."""

from django import template
from django.conf import settings
from django.utils.html import conditional_escape
from django.utils.safestring import mark_safe

from masthead.core.titles import page_title

register = template.Library()


class PageTitleNode(template.Node):
    def __init__(self, nodelist):
        self.nodelist = nodelist  # holds {% block title %}, which child templates override

    def render(self, context):
        title = self.nodelist.render(context)  # already escaped by the template
        site_name = conditional_escape(settings.MASTHEAD_SITE_NAME)
        return mark_safe(page_title(title, site_name))  # noqa: S308 - both parts escaped


@register.tag("page_title")
def do_page_title(parser, token):
    nodelist = parser.parse(("endpage_title",))
    parser.delete_first_token()
    return PageTitleNode(nodelist)
