"""Nothing a reader's browser loads comes from anywhere but our own server, and the admin
calls no other host by itself either (no Gravatar, no Wagtail update check)."""

import pytest
from django.contrib.auth import get_user_model

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


def recording(page):
    """Every request the page makes, and every one that failed or answered with an error."""
    requests, failures = [], []
    page.on("request", lambda request: requests.append(request.url))
    page.on("requestfailed", lambda request: failures.append(request.url))
    page.on(
        "response",
        lambda response: (
            response.status >= 400 and failures.append(f"{response.status} {response.url}")
        ),
    )
    return requests, failures


def test_the_admin_dashboard_and_page_editor_call_no_other_host(page, live_server, publication):
    # given a superuser with an address Gravatar would know, signed in to the admin
    get_user_model().objects.create_superuser(
        username="chief", email="chief@example.com", password="a long admin password"
    )
    requests, failures = recording(page)
    page.goto(live_server.url + "/admin/login/")
    page.get_by_label("Username").fill("chief")
    page.get_by_label("Password").fill("a long admin password")
    page.get_by_role("button", name="Sign in").click()
    # when the dashboard, the page explorer and an article's editor are opened
    page.wait_for_url(live_server.url + "/admin/")
    page.wait_for_load_state("networkidle")
    page.goto(live_server.url + f"/admin/pages/{publication.home.pk}/", wait_until="networkidle")
    page.goto(
        live_server.url + f"/admin/pages/{publication.lead.pk}/edit/", wait_until="networkidle"
    )
    page.get_by_role("tab", name="Promote").click()
    page.wait_for_load_state("networkidle")

    # then every request went to this server
    origin = live_server.url + "/"
    outside = [url for url in requests if not url.startswith((origin, "data:", "blob:"))]
    assert not outside, f"the admin called other hosts: {outside}"
    assert not failures, f"requests failed: {failures}"
    assert any("/admin/pages/" in url for url in requests), requests
    # the avatar is Wagtail's own default picture, served from here
    assert not any("gravatar" in url for url in requests), requests
