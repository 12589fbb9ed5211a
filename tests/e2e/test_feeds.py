"""A feed reader's view of the site in a real browser: a section page announces its feed
in its head, and the announced address answers with the feed."""

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("transactional_db")]


def test_a_section_page_makes_its_feed_discoverable(new_page, live_server, publication):
    page = new_page()
    page.goto(f"{live_server.url}/world/")
    announced = page.eval_on_selector_all(
        'head link[rel="alternate"]',
        "links => links.map(l => [l.type, l.getAttribute('href'), l.href])",
    )
    kinds = {(kind, href) for kind, href, _ in announced}
    assert ("application/rss+xml", "/world/feed/") in kinds
    assert ("application/atom+xml", "/feed/atom/") in kinds
    feed_url = next(url for kind, href, url in announced if href == "/world/feed/")
    response = page.request.get(feed_url)
    assert response.ok
    assert response.headers["content-type"].startswith("application/rss+xml")
    assert "<rss" in response.text() and "<item>" in response.text()
