"""Every e-mail the site sends carries the same links in its plain-text part as in its HTML
part: a reader whose mail program shows the text (or who copies a link from it) must reach
the same pages, the story a sign-up was for included."""

import re
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest
from bs4 import BeautifulSoup

from masthead.core import mail
from masthead.subscriptions.offers import Money

URL = re.compile(r"https?://[^\s<>\"']+")
WHEN = datetime(2026, 10, 15, 12, tzinfo=ZoneInfo("Asia/Tokyo"))
# Links with a query (the story to come back to) and a fragment-free path each.
NEXT = "https://news.test/account/verify/tok-123/?next=%2Fsubscribe%2F7%2F%3Fnext%3D%252Fworld%252Fstory%252F"
ACCOUNT = "https://news.test/account/"
OFFERS = "https://news.test/subscribe/?from=mail&next=%2Fworld%2F"

CONTEXTS = {
    ("readers", "verify_email"): {"url": NEXT, "changing": False},
    ("readers", "sign_in_link"): {"url": NEXT.replace("verify", "sign-in/link"), "minutes": 15},
    ("readers", "account_exists"): {
        "sign_in_url": "https://news.test/account/sign-in/?next=%2Fworld%2F",
        "reset_url": "https://news.test/account/password/reset/",
    },
    ("readers", "welcome"): {"user": SimpleNamespace(email="ada@news.test", pk=1)},
    ("readers", "password_reset"): {
        "protocol": "https",
        "domain": "news.test",
        "uid": "MQ",
        "token": "abc-123",
        "email": "ada@news.test",
        "user": SimpleNamespace(email="ada@news.test", pk=1),
    },
    ("notices", "receipt"): {
        "plan": "Digital",
        "amount": Money(Decimal("17.00"), "USD"),
        "paid_on": WHEN,
        "paid_until": WHEN + timedelta(days=30),
        "payment": SimpleNamespace(pk=41),
        "reference": "test_ref",
        "account_url": ACCOUNT,
    },
    ("notices", "payment_failed"): {
        "plan": "Digital",
        "amount": Money(Decimal("17.00"), "USD"),
        "failed_on": WHEN,
        "until": WHEN + timedelta(days=7),
        "account_url": ACCOUNT,
    },
    ("notices", "trial_ending"): {
        "plan": "Digital",
        "ends": WHEN,
        "account_url": ACCOUNT,
        "offers_url": OFFERS,
    },
    ("notices", "access_expired"): {"plan": "Digital", "ended": WHEN, "offers_url": OFFERS},
}


def every_email() -> set[tuple[str, str]]:
    """(folder, name) of every e-mail: three templates under <app>/email/ each."""
    root = Path(mail.__file__).resolve().parents[1] / "templates"
    return {
        (path.parent.parent.name, path.stem)
        for path in root.glob("*/email/*.txt")
        if not path.stem.endswith("_subject")
    }


def text_links(text: str) -> set[str]:
    return {url.rstrip(".,;:)") for url in URL.findall(text)}


def html_links(html: str) -> set[str]:
    soup = BeautifulSoup(html, "html.parser")
    found = {a["href"] for a in soup.find_all("a", href=True)}
    return found | text_links(soup.get_text(" "))


def test_every_email_is_checked():
    # a new e-mail fails here until it is given a context below
    assert every_email() == set(CONTEXTS)


@pytest.mark.parametrize("email", sorted(CONTEXTS), ids="/".join)
def test_the_text_part_has_the_links_of_the_html_part(email):
    folder, name = email
    _subject, text, html = mail.render(f"{folder}/email", name, CONTEXTS[email])
    assert text_links(text) == html_links(html)
    # and every link of the context is in both, whole (a query is not cut or escaped)
    given = {v for v in CONTEXTS[email].values() if isinstance(v, str) and "://" in v}
    assert given <= text_links(text)
