"""Browser tests: Debian's Chromium driven by Playwright (sync API) against pytest-django's
live server, on a small publication each test builds for itself."""

import contextlib
import io
import os
import re
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest
from django.core.cache import cache
from django.core.files.images import ImageFile
from django.utils import timezone
from PIL import Image as PILImage
from PIL import ImageDraw
from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import sync_playwright
from wagtail.images import get_image_model
from wagtail.models import Site
from wagtail.rich_text import RichText

from masthead.news.models import (
    ArticleAuthor,
    ArticlePage,
    Author,
    HomePage,
    SectionPage,
    SeriesIndexPage,
    SeriesPage,
    Sponsor,
)
from tests.factories import wagtail_roots
from tests.indexing import indexed_once

# Playwright's sync API keeps an event loop running in the test thread; Django would then
# refuse every ORM call made from that thread (the fixtures and the tests make several).
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
# Serve on 127.0.0.1 rather than "localhost", so "nothing leaves 127.0.0.1" is checkable by
# prefix. Still pytest-django's own live_server fixture; an explicit setting wins.
os.environ.setdefault("DJANGO_LIVE_TEST_SERVER_ADDRESS", "127.0.0.1")

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-background-networking",
    "--disable-gpu",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
RESULTS_DIR = Path("test-results")  # under the rootdir: screenshots of failed tests


# --- Browser -------------------------------------------------------------------------------


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """Keep each phase's report on the item, so fixtures can tell a failed test."""
    outcome = yield
    report = outcome.get_result()
    setattr(item, f"rep_{report.when}", report)


@pytest.fixture(scope="session")
def browser():
    if not os.path.exists(CHROMIUM):
        pytest.skip(f"{CHROMIUM} is not installed")

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True
        )
        yield browser
        browser.close()


@pytest.fixture
def new_page(browser, request):
    """Opens pages in fresh contexts; all are closed, and failures screenshotted, at the end."""
    contexts = []

    def open_page(**context_options):
        context = browser.new_context(**context_options)
        context.set_default_timeout(10_000)
        contexts.append(context)
        return context.new_page()

    yield open_page
    report = getattr(request.node, "rep_call", None)
    if report is not None and report.failed:
        results = request.config.rootpath / RESULTS_DIR
        results.mkdir(exist_ok=True)
        name = re.sub(r"[^\w.-]+", "_", request.node.name)
        for n, context in enumerate(contexts):
            suffix = f"-{n}" if n else ""  # a second context (e.g. without JavaScript)
            for page in context.pages[:1]:
                with contextlib.suppress(PlaywrightError):
                    page.screenshot(path=str(results / f"{name}{suffix}.png"), full_page=True)
    for context in contexts:
        context.close()


@pytest.fixture
def page(new_page):
    return new_page()


def sign_in(page, live_server, email, password, next_path="/account/"):
    """Signs in through the sign-in form, as a reader would, and waits for `next_path`."""
    page.goto(f"{live_server.url}/account/sign-in/?next={next_path}")
    page.get_by_label("E-mail address").fill(email)
    page.get_by_label("Password", exact=True).fill(password)
    page.get_by_role("main").get_by_role("button", name="Sign in").click()
    page.wait_for_url(live_server.url + next_path)


# --- A small publication -------------------------------------------------------------------


@dataclass
class Publication:
    home: object
    world: object
    business: object
    series_index: object
    series: object
    author: object
    sponsor: object
    lead: object
    sponsored: object
    world_brief: object
    business_brief: object
    image: object


LEAD_PARAGRAPHS = [
    "The two governments signed a ten-year port agreement on Tuesday.",
    "Officials said the deal covers dredging, customs and shared patrols.",
    "Shipping lines welcomed the news; fishing unions asked for a hearing.",
]
LEAD_SUBHEADING = "What the pact covers"
LEAD_QUOTE = "We are building a harbour for the next generation."
LEAD_QUOTE_BY = "Minister Han, at the signing"


def _home(title):
    """As masthead.demo.loader._home: drop Wagtail's welcome page, root the site at home."""
    root = wagtail_roots()
    for placeholder in root.get_children().filter(content_type__model="page"):
        placeholder.delete()
    home = root.add_child(instance=HomePage(title=title, slug="home", intro="News, tested."))
    site = Site.objects.filter(is_default_site=True).first()
    if site is None:
        Site.objects.create(
            hostname="localhost", port=80, root_page=home, is_default_site=True, site_name=title
        )
    else:
        site.root_page = home
        site.site_name = title
        site.save()
    return home


def _publish(parent, page):
    parent.add_child(instance=page)
    page.save_revision().publish()
    return page


def _image(title, description):
    picture = PILImage.new("RGB", (1600, 900), (32, 84, 140))
    draw = ImageDraw.Draw(picture)
    draw.ellipse([500, 150, 1100, 750], fill=(220, 170, 60))
    draw.rectangle([0, 700, 1600, 900], fill=(20, 20, 20))
    buffer = io.BytesIO()
    picture.save(buffer, format="JPEG", quality=80)
    image = get_image_model()(title=title, description=description)
    image.file = ImageFile(buffer, name="e2e-lead.jpg")
    image.save()
    return image


def _article(section, title, *, when, authors, topics=(), **fields):
    body = fields.pop("body", None) or [
        ("paragraph", RichText(f"<p>{title}: the first paragraph.</p>")),
        ("paragraph", RichText(f"<p>{title}: the second paragraph.</p>")),
    ]
    page = ArticlePage(title=title, published_at=when, body=body, **fields)
    for order, author in enumerate(authors):
        page.article_authors.add(ArticleAuthor(author=author, sort_order=order))
    if topics:
        page.topics.add(*topics)
    return _publish(section, page)


@pytest.fixture
def publication(transactional_db):
    with indexed_once():
        cache.clear()  # Wagtail caches the site's root paths; the tables were just flushed
        home = _home("The Test Gazette")
        world = _publish(home, SectionPage(title="World", slug="world", show_in_menus=True))
        business = _publish(
            home, SectionPage(title="Business", slug="business", show_in_menus=True)
        )
        series_index = _publish(home, SeriesIndexPage(title="Series", slug="series"))
        series = _publish(
            series_index,
            SeriesPage(
                title="Southern Compass", slug="southern-compass", intro="A running series."
            ),
        )
        author = Author.objects.create(name="Ada Reporter", slug="ada-reporter", role="Reporter")
        sponsor = Sponsor.objects.create(
            name="Harbour Bank",
            slug="harbour-bank",
            disclosure="This content was commissioned by Harbour Bank and written by our studio.",
        )
        image = _image("Pact signing", "Two ministers shake hands in front of a harbour")
        now = timezone.now().replace(microsecond=0)

        lead_body = [("paragraph", RichText(f"<p>{LEAD_PARAGRAPHS[0]}</p>"))]
        lead_body.append(("paragraph", RichText(f"<p>{LEAD_PARAGRAPHS[1]}</p>")))
        lead_body.append(("subheading", LEAD_SUBHEADING))
        lead_body.append(("pull_quote", {"quote": LEAD_QUOTE, "attribution": LEAD_QUOTE_BY}))
        lead_body.append(("paragraph", RichText(f"<p>{LEAD_PARAGRAPHS[2]}</p>")))

        business_brief = _article(
            business,
            "Shipyards report record orders",
            slug="shipyards-report-record-orders",
            when=now - timedelta(days=3),
            authors=[author],
            deck="Order books are full until 2030.",
            topics=["Shipping"],
        )
        world_brief = _article(
            world,
            "Fishing unions ask for a hearing",
            slug="fishing-unions-ask-for-a-hearing",
            when=now - timedelta(days=2),
            authors=[author],
            series=series,
            deck="They fear the dredging will empty the bay.",
            topics=["Ports"],
        )
        sponsored = _article(
            business,
            "How automated ports move more boxes",
            slug="how-automated-ports-move-more-boxes",
            when=now - timedelta(days=1),
            authors=[author],
            deck="A look inside the cranes that never sleep.",
            sponsor=sponsor,
            access="free",
            lead_image=image,
            lead_image_caption="Cranes at night",
            lead_image_credit="Photo: Harbour Bank",
        )
        lead = _article(
            world,
            "Seoul and Jakarta sign port pact",
            slug="seoul-and-jakarta-sign-port-pact",
            when=now - timedelta(hours=2),
            authors=[author],
            series=series,
            deck="The deal opens two harbours to both navies.",
            deck_second="Beijing calls it bloc politics.",
            lead_image=image,
            lead_image_caption="Ministers Han and Sari shake hands after the signing",
            lead_image_credit="Source photos by Pool via Wire Agency",
            dateline="SEOUL/JAKARTA",
            body=lead_body,
            topics=["Ports", "Diplomacy"],
        )
        home.lead_article = lead
        home.save_revision().publish()

    yield Publication(
        home=home,
        world=world,
        business=business,
        series_index=series_index,
        series=series,
        author=author,
        sponsor=sponsor,
        lead=lead,
        sponsored=sponsored,
        world_brief=world_brief,
        business_brief=business_brief,
        image=image,
    )

    # The live server rendered files into MEDIA_ROOT; the flush will not remove them.
    image_model = get_image_model()
    for rendition in image_model.get_rendition_model().objects.all():
        rendition.file.delete(save=False)
    for stored in image_model.objects.all():
        stored.file.delete(save=False)
