"""Nothing a reader's browser loads comes from anywhere but our own server."""

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("transactional_db")]


def test_no_request_leaves_the_site_on_home_article_and_print_pages(page, live_server, publication):
    requests, failures = [], []
    page.on("request", lambda request: requests.append(request.url))
    page.on("requestfailed", lambda request: failures.append(request.url))
    page.on(
        "response",
        lambda response: (
            response.status >= 400 and failures.append(f"{response.status} {response.url}")
        ),
    )

    page.goto(live_server.url + "/", wait_until="networkidle")
    page.locator(".lead-story").get_by_role("link", name=publication.lead.title).click()
    page.wait_for_load_state("networkidle")
    page.get_by_role("link", name="Print").click()
    page.wait_for_load_state("networkidle")

    origin = live_server.url + "/"
    assert origin.startswith("http://127.0.0.1:")
    outside = [url for url in requests if not (url.startswith(origin) or url.startswith("data:"))]
    assert not outside, f"requests left {origin}: {outside}"
    assert not failures, f"requests failed: {failures}"
    assert any("/media/images/" in url for url in requests), requests
    assert any("/static/masthead/css/site.css" in url for url in requests), requests
