"""Site search in a real browser: a reader types in the header's search box, gets the results
page with the matched words marked, narrows it by section, and opens a result."""

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("transactional_db")]


def test_a_reader_searches_from_the_header_and_opens_a_result(new_page, live_server, publication):
    page = new_page()
    page.goto(f"{live_server.url}/")
    page.get_by_label("Search the site").fill("shipyards")
    page.get_by_label("Search the site").press("Enter")
    page.wait_for_url("**/search/?q=shipyards")
    assert page.title().startswith("Search: shipyards | ")
    headlines = page.locator(".search-result__headline")
    assert headlines.all_inner_texts() == ["Shipyards report record orders"]
    assert page.locator(".search-result__headline mark").inner_text() == "Shipyards"
    headlines.get_by_role("link").click()
    page.wait_for_url(f"**{publication.business_brief.url}")
    assert page.locator("h1").first.inner_text() == "Shipyards report record orders"


def test_a_reader_narrows_a_search_by_section_without_javascript(
    new_page, live_server, publication
):
    page = new_page(java_script_enabled=False)
    page.goto(f"{live_server.url}/search/?q=seoul")
    assert "Seoul and Jakarta sign port pact" in page.locator(".search-results").inner_text()
    page.locator("summary", has_text="Filters and order").click()
    page.get_by_label("Section", exact=True).select_option("business")
    page.get_by_role("button", name="Apply").click()
    page.wait_for_url("**section=business**")
    assert "No articles match" in page.locator(".search-empty").inner_text()
    assert page.get_by_label("Section", exact=True).input_value() == "business"
