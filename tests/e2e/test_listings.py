"""A reader finds their way around the article in a real browser: the breadcrumb trail up
to the section, its Older and Newer pages, the author from the byline and the authors
index and its pages, the topics index and a topic (issue 13, pages around the article)."""

import pytest
from playwright.sync_api import expect

from masthead.news.models import Author
from tests.factories import make_article

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("transactional_db")]


def test_reader_climbs_the_breadcrumbs_and_pages_through_a_section(
    page, live_server, publication, settings
):
    settings.MASTHEAD_LISTING_PAGE_SIZE = 1
    lead, world = publication.lead, publication.world
    page.goto(live_server.url + lead.url)
    crumbs = page.get_by_role("navigation", name="Breadcrumb")
    expect(crumbs.locator("li")).to_have_text(["Home", "World", "Southern Compass", lead.title])
    expect(crumbs.locator('[aria-current="page"]')).to_have_text(lead.title)

    crumbs.get_by_role("link", name="World").click()
    page.wait_for_url(live_server.url + world.url)
    expect(page.locator("main .card__headline")).to_have_text([lead.title])
    page.get_by_role("navigation", name="Pages").get_by_role("link", name="Older").click()
    page.wait_for_url(live_server.url + world.url + "?page=2")
    expect(page.locator("main .card__headline")).to_have_text([publication.world_brief.title])
    expect(page.locator('link[rel="canonical"]')).to_have_attribute(
        "href", live_server.url + world.url + "?page=2"
    )
    page.get_by_role("navigation", name="Pages").get_by_role("link", name="Newer").click()
    page.wait_for_url(live_server.url + world.url)


def test_reader_goes_from_a_byline_to_the_authors_index_and_to_a_topic(
    page, live_server, publication
):
    author = publication.author
    page.goto(live_server.url + publication.lead.url)
    page.locator(".byline").get_by_role("link", name=author.name).click()
    page.wait_for_url(live_server.url + author.get_url())
    expect(page.locator(".author-role")).to_have_text("Reporter")

    page.get_by_role("navigation", name="Breadcrumb").get_by_role("link", name="Authors").click()
    page.wait_for_url(live_server.url + "/authors/")
    expect(page.locator(".author-index__name")).to_have_text([author.name])
    expect(page.locator(".author-index__count")).to_have_text(["4 articles"])

    page.goto(live_server.url + "/")
    page.get_by_role("link", name="All topics").click()
    page.wait_for_url(live_server.url + "/topics/")
    expect(page.locator(".topic-index a")).to_have_text(["Diplomacy", "Ports", "Shipping"])
    page.get_by_role("link", name="Ports").click()
    page.wait_for_url(live_server.url + "/topics/ports/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Ports")


def test_reader_pages_through_the_authors_index(page, live_server, publication, settings):
    # given a second author with a story, and one author to a page
    settings.MASTHEAD_LISTING_PAGE_SIZE = 1
    ben = Author.objects.create(name="Ben Writer", slug="ben-writer", role="Correspondent")
    make_article(publication.world, "Ben files from the coast", authors=[ben])

    # when the reader opens the authors index and goes to the next page
    page.goto(live_server.url + "/authors/")
    expect(page.locator(".author-index__name")).to_have_text([publication.author.name])
    pages = page.get_by_role("navigation", name="Pages")
    expect(pages).to_contain_text("Page 1 of 2")
    pages.get_by_role("link", name="Next").click()

    # then the second page names the other author and is its own canonical address
    page.wait_for_url(live_server.url + "/authors/?page=2")
    expect(page.locator(".author-index__name")).to_have_text(["Ben Writer"])
    expect(page.locator('link[rel="canonical"]')).to_have_attribute(
        "href", live_server.url + "/authors/?page=2"
    )
    page.get_by_role("navigation", name="Pages").get_by_role("link", name="Previous").click()
    page.wait_for_url(live_server.url + "/authors/")
