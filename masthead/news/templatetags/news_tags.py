from django import template

from masthead.news.models import SectionPage

register = template.Library()


@register.inclusion_tag("includes/section_nav.html", takes_context=True)
def section_nav(context):
    request = context.get("request")
    current_path = getattr(context.get("page"), "path", "")
    sections = SectionPage.objects.live().public().in_menu().order_by("path")
    return {
        "sections": [
            (section.title, section.get_url(request), current_path.startswith(section.path))
            for section in sections
        ]
    }
