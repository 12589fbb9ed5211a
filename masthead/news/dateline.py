"""The dateline opens the first paragraph of a story ("SEOUL/JAKARTA -- The two ...")."""

import re

from django.utils.html import format_html

_OPENING_P = re.compile(r"^\s*<p(\s[^>]*)?>")


def with_dateline(paragraph_html: str, dateline: str) -> str:
    """Insert the dateline inside the paragraph's opening tag, so it reads as one sentence
    and screen readers do not announce it as a separate block."""
    if not dateline:
        return paragraph_html
    marker = format_html('<span class="dateline">{} --</span> ', dateline)
    match = _OPENING_P.match(paragraph_html)
    if match is None:
        return format_html("<p>{}</p>", marker) + paragraph_html
    return paragraph_html[: match.end()] + marker + paragraph_html[match.end() :]
