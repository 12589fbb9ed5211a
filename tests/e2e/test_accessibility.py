"""axe-core finds nothing serious or critical on the pages readers see most."""

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import expect

from .conftest import sign_in

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("transactional_db")]

BLOCKING = {"serious", "critical"}


def describe(violations):
    lines = []
    for violation in violations:
        lines.append(f"{violation['id']} ({violation['impact']}): {violation['help']}")
        for node in violation["nodes"]:
            lines.append(f"    {', '.join(map(str, node['target']))}: {node['html']}")
    return "\n".join(lines)


@pytest.mark.parametrize(
    "which",
    ["home", "section", "article", "sponsored_article", "print_view"],
)
def test_page_has_no_serious_or_critical_accessibility_violations(
    page, live_server, publication, which
):
    path = {
        "home": "/",
        "section": publication.world.url,
        "article": publication.lead.url,
        "sponsored_article": publication.sponsored.url,
        "print_view": publication.lead.url + "print/",
    }[which]
    page.goto(live_server.url + path, wait_until="networkidle")
    # Colour contrast and visibility only mean something once the site's stylesheet applies.
    expect(page.locator(".skip-link")).to_have_css("position", "absolute")

    results = Axe().run(page)

    blocking = [v for v in results.response["violations"] if v["impact"] in BLOCKING]
    assert not blocking, f"axe on {path}:\n{describe(blocking)}"


@pytest.mark.parametrize("path", ["/account/", "/account/sign-out/"])
def test_a_signed_in_readers_page_has_no_serious_or_critical_violations(
    page, live_server, publication, django_user_model, path
):
    password = "a long accessibility-test password"
    django_user_model.objects.create_user(
        username="axe", email="axe@example.com", password=password, email_verified=True
    )
    sign_in(page, live_server, "axe@example.com", password, next_path=path)
    page.wait_for_load_state("networkidle")
    expect(page.locator(".skip-link")).to_have_css("position", "absolute")

    results = Axe().run(page)

    blocking = [v for v in results.response["violations"] if v["impact"] in BLOCKING]
    assert not blocking, f"axe on {path}:\n{describe(blocking)}"
