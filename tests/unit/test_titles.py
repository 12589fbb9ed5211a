"""The document title names the publication once (masthead.core.titles)."""

import pytest

from masthead.core.titles import page_title

NAME = "The Meridian Ledger"


@pytest.mark.parametrize(
    ("title", "expected"),
    [
        ("Sign in", "Sign in | The Meridian Ledger"),
        ("  Yen rallies\n  after rate rise ", "Yen rallies after rate rise | The Meridian Ledger"),
        ("", NAME),  # a page without a title of its own
        ("   ", NAME),
        (NAME, NAME),  # the home page
        ("World | The Meridian Ledger", "World | The Meridian Ledger"),  # an SEO title with it
        ("The Meridian Ledger Awards", "The Meridian Ledger Awards | The Meridian Ledger"),
    ],
)
def test_the_title_ends_with_the_publication_name_once(title, expected):
    assert page_title(title, NAME) == expected
