"""Curly quotes, apostrophes and dashes for the demo's text (masthead.demo.typography)."""

import pytest

from masthead.demo.typography import typographic


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ('"We are ready," she said.', "\u201cWe are ready,\u201d she said."),
        ("Myanmar's ministers", "Myanmar\u2019s ministers"),
        ("the farmers' seed", "the farmers\u2019 seed"),
        ("the 'Korea discount' is", "the \u2018Korea discount\u2019 is"),
        (
            "\"Whether it is 'noted' or 'welcomed'.\"",
            "\u201cWhether it is \u2018noted\u2019 or \u2018welcomed\u2019.\u201d",
        ),
        (
            "He said: \"'Bloc politics' is wrong.\"",
            "He said: \u201c\u2018Bloc politics\u2019 is wrong.\u201d",
        ),
        ('("quoted")', "(\u201cquoted\u201d)"),
        ("since the '90s", "since the \u201990s"),
        (
            "the 1991-2020 average, the 2025-26 budget",
            "the 1991\u20132020 average, the 2025\u201326 budget",
        ),
        ("ports -- and airports -- grew", "ports \u2013 and airports \u2013 grew"),
        # not dashes: hyphenated words, codes and numbers that are not year ranges
        ("Ferreira-Lim, 650-0024, a 4-2 vote", "Ferreira-Lim, 650-0024, a 4-2 vote"),
        ("text without quotes", "text without quotes"),
    ],
)
def test_straight_punctuation_becomes_typographic(typed, expected):
    assert typographic(typed) == expected
