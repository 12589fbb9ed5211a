"""The reader's state for the site header's menu, as a template tag (masthead.readers.menu)."""

from django import template

from masthead.readers.menu import ReaderState, state_of

register = template.Library()


@register.simple_tag(takes_context=True)
def reader_state(context) -> ReaderState:
    return state_of(context.get("request"))
