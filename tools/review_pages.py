"""The pages a reviewer checks on a running demo, and how a reader reaches each one: shared
by tools/screenshots.py and tools/audit.py.

Five pages: the home page; an article on a new reader's first read; an article once the
meter's allowance is used up (a reader who has read the demo's metered stories in one
browser until the paywall shows); /subscribe/; and the account page of the demo's
subscriber (signed in with load_demo's password: MASTHEAD_DEMO_PASSWORD or masthead-demo).
Each page carries the cookies of its reader (a Playwright storage state); the pages without
any are opened by a new reader each time (so a first read is always one).

Debian's Chromium (/usr/bin/chromium) through Playwright; `playwright install` is never
needed."""

from __future__ import annotations

import os
from dataclasses import dataclass
from urllib.parse import urljoin

CHROMIUM = os.environ.get("CHROME_PATH", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-sync"]
DEFAULT_BASE = "http://127.0.0.1:8000"
VIEWPORTS = ((1366, 900), (390, 844))
SUBSCRIBER = "subscriber@example.com"
# Reads tried before giving up on meeting the meter (the demo's anonymous allowance is 5).
MAX_READS = 25


@dataclass(frozen=True)
class ReviewPage:
    name: str
    url: str
    # The reader's cookies, as a Playwright storage state; None: a new reader, no cookies.
    state: dict | None = None
    # False for a page the site keeps out of search engines on purpose (robots.txt's
    # Disallow: /account/): Lighthouse's "is crawlable" check does not apply to it.
    indexable: bool = True


class ReviewError(RuntimeError):
    """The demo is not in the state a page needs (no articles, no paywall, no sign-in)."""


def launch(playwright):
    if not os.path.exists(CHROMIUM):
        raise ReviewError(f"{CHROMIUM} is missing (apt-get install chromium)")
    return playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)


def demo_password() -> str:
    return os.environ.get("MASTHEAD_DEMO_PASSWORD") or "masthead-demo"


def article_links(browser, base: str) -> list[tuple[str, bool]]:
    """The home page's stories in page order: (absolute URL, subscribers-only)."""
    context = browser.new_context()
    page = context.new_page()
    response = page.goto(base + "/")
    if response is None or not response.ok:
        raise ReviewError(f"{base}/ does not answer; is the demo running?")
    cards = page.eval_on_selector_all(
        "main .card",
        """cards => cards.map(card => [
            card.querySelector('.card__headline a')?.getAttribute('href'),
            card.querySelector('.label--subscribers') !== null,
        ])""",
    )
    context.close()
    seen, links = set(), []
    for href, subscribers_only in cards:
        if href and href not in seen:
            seen.add(href)
            links.append((urljoin(base + "/", href), subscribers_only))
    if not links:
        raise ReviewError(f"no stories on {base}/; run manage.py load_demo")
    return links


def exhausted_reader(browser, links: list[tuple[str, bool]]) -> tuple[dict, str]:
    """Reads the metered and free stories in one browser until one shows the paywall: the
    reader's storage state and that story's URL (subscribers-only stories are skipped; their
    paywall says nothing about the meter)."""
    context = browser.new_context()
    page = context.new_page()
    try:
        for url in [url for url, subscribers_only in links if not subscribers_only][:MAX_READS]:
            page.goto(url)
            if page.locator(".paywall").count():
                return context.storage_state(), url
    finally:
        context.close()
    raise ReviewError(f"read {MAX_READS} stories without meeting the paywall")


def signed_in_subscriber(browser, base: str) -> dict:
    context = browser.new_context()
    page = context.new_page()
    try:
        page.goto(base + "/account/sign-in/")
        page.fill("input[name=username]", SUBSCRIBER)
        page.fill("input[name=password]", demo_password())
        page.locator("main form button[type=submit]").first.click()
        page.wait_for_load_state()
        page.goto(base + "/account/")
        if "/sign-in/" in page.url:
            raise ReviewError(f"could not sign in as {SUBSCRIBER}")
        return context.storage_state()
    finally:
        context.close()


def review_pages(browser, base: str) -> list[ReviewPage]:
    base = base.rstrip("/")
    links = article_links(browser, base)
    # The first story on the home page that a new reader may read (not subscribers-only).
    first_story = next((url for url, subscribers_only in links if not subscribers_only), None)
    if first_story is None:
        raise ReviewError(f"every story on {base}/ is for subscribers only")
    exhausted_state, exhausted_url = exhausted_reader(browser, links)
    subscriber_state = signed_in_subscriber(browser, base)
    return [
        ReviewPage("home", base + "/"),
        ReviewPage("article-first-read", first_story),
        ReviewPage("article-exhausted", exhausted_url, exhausted_state),
        ReviewPage("subscribe", base + "/subscribe/"),
        ReviewPage("account", base + "/account/", subscriber_state, indexable=False),
        ReviewPage("sign-out", base + "/account/sign-out/", subscriber_state, indexable=False),
    ]


def cookie_header(state: dict | None) -> str:
    """The storage state's cookies as one Cookie request header (for Lighthouse)."""
    if not state:
        return ""
    return "; ".join(f"{c['name']}={c['value']}" for c in state.get("cookies", []))
