"""Typographic punctuation for the demo's text: the files are typed with straight quotes and
double hyphens, readers get curly quotes, apostrophes and dashes.

Pure Python, for prose in English; datelines never pass through it (news.dateline writes
"SEOUL --" itself, the reference's form)."""

import re

# A quote mark opens after these (or at the start of the text), and closes after anything else.
_OPENS_AFTER = r"(^|[\s(\[{\u2014\u2013/\u201c\u2018])"
_RULES = (
    # " -- " between words: a spaced en dash.
    (re.compile(r"(?<=\S) -- (?=\S)"), " \u2013 "),
    # Year ranges, 1991-2020 and 2025-26: an en dash.
    (re.compile(r"\b((?:1[89]|20)\d\d)-((?:1[89]|20)?\d\d)\b"), "\\1\u2013\\2"),
    # Double quotes first, so a single quote just inside one opens.
    (re.compile(_OPENS_AFTER + '"'), "\\1\u201c"),
    (re.compile('"'), "\u201d"),
    # Apostrophes inside words (Myanmar's, don't) and eliding decades ('90s).
    (re.compile(r"(?<=\w)'(?=\w)"), "\u2019"),
    (re.compile(_OPENS_AFTER + r"'(?=\d\ds\b)"), "\\1\u2019"),
    (re.compile(_OPENS_AFTER + "'"), "\\1\u2018"),
    (re.compile("'"), "\u2019"),
)


def typographic(text: str) -> str:
    for pattern, replacement in _RULES:
        text = pattern.sub(replacement, text)
    return text
