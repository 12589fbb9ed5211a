"""A reader's journeys through the site in a real browser: home page, article anatomy,
sponsored content, the print view and reading without JavaScript."""

from urllib.parse import quote, urljoin

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from .conftest import LEAD_PARAGRAPHS, LEAD_QUOTE, LEAD_QUOTE_BY, LEAD_SUBHEADING

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("transactional_db")]


def article_url(live_server, article):
    return live_server.url + article.url


def test_reader_goes_from_home_page_to_article_and_sees_its_anatomy(page, live_server, publication):
    lead = publication.lead
    url = article_url(live_server, lead)
    page.goto(live_server.url + "/")
    page.locator(".lead-story").get_by_role("link", name=lead.title).click()
    page.wait_for_url(url)
    article = page.locator("main article.article")

    # 1. The share row: plain links carrying the percent-encoded article URL, then Print.
    share = page.get_by_role("navigation", name="Share this article")
    encoded = quote(url, safe="")
    for name in ("Share on Facebook", "Share on LinkedIn", "Share on X", "Share by e-mail"):
        href = share.get_by_role("link", name=name).get_attribute("href")
        assert encoded in href, f"{name}: {href} lacks {encoded}"
    assert (
        share.get_by_role("link", name="Share by e-mail")
        .get_attribute("href")
        .startswith("mailto:")
    )
    print_href = share.get_by_role("link", name="Print").get_attribute("href")
    assert urljoin(url, print_href) == url + "print/"

    # 2. The kicker names the series and links to it.
    kicker = article.locator(".kicker a")
    expect(kicker).to_have_text(publication.series.title)
    assert urljoin(url, kicker.get_attribute("href")) == article_url(
        live_server, publication.series
    )

    # 3. Headline and both decks.
    expect(page.get_by_role("heading", level=1)).to_have_text(lead.title)
    expect(article.locator(".deck")).to_have_text([lead.deck, lead.deck_second])
    expect(article.locator(".label--sponsored")).to_have_count(0)

    # 4. Lead photo, described, with caption and credit; it really loads from our media.
    figure = article.locator("figure.lead-figure")
    image = figure.locator("img")
    expect(image).to_have_attribute("alt", publication.image.description)
    expect(image).to_have_js_property("complete", True)
    assert image.evaluate("img => img.naturalWidth") > 0
    expect(figure.locator("figcaption .caption")).to_have_text(lead.lead_image_caption)
    expect(figure.locator("figcaption .credit")).to_have_text(lead.lead_image_credit)

    # 5. The dateline opens the first paragraph; the byline carries machine-readable time.
    paragraphs = article.locator(".article__body > p, .article__body > .paywalled-content > p")
    expect(paragraphs.first).to_have_text(f"SEOUL/JAKARTA -- {LEAD_PARAGRAPHS[0]}")
    expect(paragraphs).to_have_text(
        [f"SEOUL/JAKARTA -- {LEAD_PARAGRAPHS[0]}", *LEAD_PARAGRAPHS[1:]]
    )
    byline = article.locator(".byline")
    expect(byline.get_by_role("link", name=publication.author.name)).to_have_attribute(
        "href", publication.author.get_url()
    )
    published = timezone.localtime(lead.published_at).isoformat()
    expect(byline.locator("time").first).to_have_attribute("datetime", published)

    # The rest of the body: a subheading and a pull quote with its attribution.
    body = article.locator(".article__body")
    expect(body.get_by_role("heading", level=2)).to_have_text(LEAD_SUBHEADING)
    expect(body.locator(".pull-quote blockquote")).to_have_text(LEAD_QUOTE)
    expect(body.locator(".pull-quote figcaption")).to_have_text(LEAD_QUOTE_BY)

    # The kicker takes the reader to the series, which lists this story.
    kicker.click()
    page.wait_for_url(article_url(live_server, publication.series))
    expect(page.get_by_role("heading", level=1)).to_have_text(publication.series.title)
    expect(page.locator("main").get_by_role("link", name=lead.title)).to_be_visible()


def test_sponsored_story_is_labelled_on_home_page_and_discloses_its_sponsor(
    page, live_server, publication
):
    sponsored = publication.sponsored
    page.goto(live_server.url + "/")
    card = page.locator("article.card").filter(has_text=sponsored.title)
    expect(card.locator(".label--sponsored")).to_contain_text("Sponsored")
    expect(card.locator(".label--sponsored")).to_contain_text(publication.sponsor.name)
    others = page.locator("article.card").filter(has_not_text=sponsored.title)
    expect(others.locator(".label--sponsored")).to_have_count(0)

    card.get_by_role("link", name=sponsored.title).click()
    page.wait_for_url(article_url(live_server, sponsored))
    article = page.locator("main article.article")
    expect(article.locator(".label--sponsored")).to_have_text("Sponsored content")
    disclosure = article.get_by_role("complementary", name="About sponsored content")
    expect(disclosure.get_by_role("heading", level=2)).to_have_text("About sponsored content")
    expect(disclosure).to_contain_text(publication.sponsor.disclosure)


def test_print_view_has_the_story_without_navigation_or_share_row(page, live_server, publication):
    lead = publication.lead
    url = article_url(live_server, lead)
    page.goto(url)
    page.get_by_role("link", name="Print").click()
    page.wait_for_url(url + "print/")

    expect(page.get_by_role("navigation")).to_have_count(0)
    expect(page.locator(".site-header, .section-nav, .share, .site-footer")).to_have_count(0)
    expect(page.get_by_role("link", name="Share on Facebook")).to_have_count(0)
    expect(page.get_by_role("heading", level=1)).to_have_text(lead.title)
    body = page.locator(".article__body")
    for paragraph in LEAD_PARAGRAPHS:
        expect(body).to_contain_text(paragraph)
    expect(page.locator(".print-source")).to_have_text(url)


def test_printing_the_article_page_hides_navigation_and_share_row(page, live_server, publication):
    page.goto(article_url(live_server, publication.lead))
    chrome = [
        page.locator(".site-header"),
        page.get_by_role("navigation", name="Sections"),
        page.get_by_role("navigation", name="Share this article"),
        page.locator(".site-footer"),
    ]
    for locator in chrome:
        expect(locator).to_be_visible()

    page.emulate_media(media="print")
    for locator in chrome:
        expect(locator).to_be_hidden()
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    expect(page.locator(".article__body")).to_contain_text(LEAD_PARAGRAPHS[-1])


def test_article_reads_the_same_with_javascript_disabled(new_page, live_server, publication):
    url = article_url(live_server, publication.lead)
    with_js = new_page()
    with_js.goto(url)
    text = with_js.locator("main").inner_text()

    without_js = new_page(java_script_enabled=False)
    without_js.goto(url)
    expect(without_js.locator("main")).to_have_text(text, use_inner_text=True)
    expect(without_js.get_by_role("heading", level=1)).to_have_text(publication.lead.title)
    for paragraph in LEAD_PARAGRAPHS:
        assert paragraph in text


def test_reader_browses_by_section_author_and_topic(page, live_server, publication):
    lead, world = publication.lead, publication.world
    page.goto(live_server.url + "/")

    page.get_by_role("navigation", name="Sections").get_by_role("link", name="World").click()
    page.wait_for_url(article_url(live_server, world))
    expect(page.get_by_role("heading", level=1)).to_have_text(world.title)
    sections = page.get_by_role("navigation", name="Sections")
    expect(sections.get_by_role("link", name="World")).to_have_attribute("aria-current", "page")
    expect(page.locator("main .card__headline")).to_have_text(
        [lead.title, publication.world_brief.title]
    )

    page.locator("main").get_by_role("link", name=lead.title).click()
    page.wait_for_url(article_url(live_server, lead))
    page.locator(".byline").get_by_role("link", name=publication.author.name).click()
    page.wait_for_url(live_server.url + publication.author.get_url())
    expect(page.get_by_role("heading", level=1)).to_have_text(publication.author.name)
    expect(page.locator("main").get_by_role("link", name=lead.title)).to_be_visible()

    page.go_back()
    page.get_by_role("navigation", name="Topics").get_by_role("link", name="Ports").click()
    page.wait_for_url(live_server.url + "/topics/ports/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Ports")
    expect(page.locator("main .card__headline")).to_have_text(
        [lead.title, publication.world_brief.title]
    )
