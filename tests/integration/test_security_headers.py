"""The security baseline every public response carries: a strict Content-Security-Policy with
no inline script, nosniff, a referrer policy and no framing; production adds HSTS. The CSP
middleware is in base settings, so this suite and every other one run through it."""

import json

import pytest
from bs4 import BeautifulSoup
from django.http import HttpResponse
from django.test import Client, RequestFactory, override_settings
from wagtail.embeds.blocks import EmbedValue
from wagtail.embeds.embeds import get_embed_hash
from wagtail.embeds.models import Embed

from masthead.core.middleware import ContentSecurityPolicyMiddleware
from tests.factories import make_article
from tests.integration.test_configuration import production_env, run

pytestmark = pytest.mark.django_db

ARTICLE = "/world/seoul-and-jakarta-sign-pact/"
PUBLIC_PAGES = [
    "/",
    "/world/",
    ARTICLE,
    ARTICLE + "print/",
    "/series/",
    "/account/sign-in/",
    "/account/sign-up/",
    "/subscribe/",
    "/no-such-page/",
]
# Scripts that are data, not code: browsers never execute them, so CSP does not apply.
DATA_SCRIPT_TYPES = {"application/ld+json"}


def policy(response, header="Content-Security-Policy") -> dict[str, list[str]]:
    directives = (part.split() for part in response[header].split(";"))
    return {name: sources for name, *sources in directives}


def test_public_pages_carry_a_strict_content_security_policy(site, client):
    for path in PUBLIC_PAGES:
        response = client.get(path)
        assert response.status_code == (404 if path == "/no-such-page/" else 200), path
        csp = policy(response)
        assert csp["default-src"] == ["'self'"]
        assert csp["script-src"] == ["'self'"], path
        assert csp["style-src"] == ["'self'"]
        assert csp["img-src"] == ["'self'", "data:"]
        assert csp["frame-ancestors"] == ["'none'"]
        assert csp["base-uri"] == ["'self'"]
        assert csp["form-action"][0] == "'self'"
        assert csp["object-src"] == ["'none'"]
        assert "'unsafe-inline'" not in response["Content-Security-Policy"]
        assert "'unsafe-eval'" not in response["Content-Security-Policy"]
        assert "Content-Security-Policy-Report-Only" not in response


def test_public_pages_hold_no_inline_script_style_or_event_handler(site, client):
    """What the policy would block must not be on the page: it would break silently."""
    for path in PUBLIC_PAGES:
        soup = BeautifulSoup(client.get(path).content, "html.parser")
        for script in soup.find_all("script"):
            assert script.get("src") or script.get("type") in DATA_SCRIPT_TYPES, (path, script)
        assert not soup.find_all("style"), path
        for element in soup.find_all(True):
            attributes = set(element.attrs)
            assert "style" not in attributes, (path, element)
            assert not {a for a in attributes if a.startswith("on")}, (path, element)
        for link in soup.find_all(href=True):
            assert not link["href"].lower().startswith("javascript:"), (path, link)


def test_an_embedded_video_needs_no_inline_style_and_its_player_may_frame(site, client):
    # given an article with a video embed, its oEmbed answer already stored (no network)
    url = "https://www.youtube.com/watch?v=masthead"
    Embed.objects.create(
        url=url,
        hash=get_embed_hash(url),
        type="video",
        width=480,
        height=270,
        html='<iframe src="https://www.youtube-nocookie.com/embed/masthead" width="480" '
        'height="270" title="A video"></iframe>',
    )
    article = make_article(
        site["world"], "Watch the launch", access="free", body=[("embed", EmbedValue(url))]
    )
    # when
    response = client.get(article.url)
    # then Wagtail's style="padding-bottom: ..." wrapper is replaced by a class
    soup = BeautifulSoup(response.content, "html.parser")
    frame = soup.select_one(".article__body .responsive-object iframe")
    assert frame["src"].startswith("https://www.youtube-nocookie.com/")
    assert not soup.select("[style]")
    assert "https://www.youtube-nocookie.com" in policy(response)["frame-src"]


def test_the_json_ld_data_block_is_valid_json(site, client):
    soup = BeautifulSoup(client.get(ARTICLE).content, "html.parser")
    blocks = soup.find_all("script", type="application/ld+json")
    types = sorted(json.loads(block.string)["@type"] for block in blocks)
    assert types == ["BreadcrumbList", "NewsArticle"]


def test_other_security_headers_on_public_pages(site, client):
    response = client.get(ARTICLE)
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "strict-origin-when-cross-origin"
    assert response["X-Frame-Options"] == "DENY"
    assert response["Cross-Origin-Opener-Policy"] == "same-origin"


def test_wagtail_admin_is_exempt_because_it_needs_inline_script(client):
    response = client.get("/admin/login/")
    assert response.status_code == 200
    assert "Content-Security-Policy" not in response
    assert "Content-Security-Policy-Report-Only" not in response


def test_report_only_switch_sends_the_same_policy_without_enforcing(site):
    enforcing = Client().get(ARTICLE)["Content-Security-Policy"]
    with override_settings(MASTHEAD_CSP_REPORT_ONLY=True):
        response = Client().get(ARTICLE)
    assert "Content-Security-Policy" not in response
    assert response["Content-Security-Policy-Report-Only"] == enforcing


def middleware(view, **settings):
    with override_settings(**settings):
        return ContentSecurityPolicyMiddleware(view)(RequestFactory().get("/somewhere/"))


def test_a_response_with_its_own_policy_keeps_it():
    def view(request):
        response = HttpResponse("ok")
        response["Content-Security-Policy"] = "default-src 'none'"
        return response

    assert middleware(view)["Content-Security-Policy"] == "default-src 'none'"


def test_a_directive_without_sources_is_sent_as_none():
    response = middleware(lambda r: HttpResponse(), MASTHEAD_CSP={"frame-src": []})
    assert response["Content-Security-Policy"] == "frame-src 'none'"


def test_debug_error_pages_get_a_report_only_policy():
    # Django's technical error pages are inline script and style.
    response = middleware(lambda r: HttpResponse(status=500), DEBUG=True)
    assert "Content-Security-Policy" not in response
    assert response["Content-Security-Policy-Report-Only"]


def test_production_sends_hsts_and_the_policy_over_https():
    result = run(
        "import django; django.setup(); from django.test import Client; "
        "r = Client(HTTP_HOST='news.example', HTTP_X_FORWARDED_PROTO='https').get('/healthz'); "
        "print(r.status_code); print(r['Strict-Transport-Security']); "
        "print(r['Content-Security-Policy'])",
        **production_env(),
    )
    status, hsts, csp = result.stdout.splitlines()
    assert status == "200", result.stderr
    assert hsts == "max-age=31536000; includeSubDomains; preload"
    assert "script-src 'self';" in csp and "frame-ancestors 'none'" in csp
