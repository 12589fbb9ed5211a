"""Editors see the teaser: a warning when a paywalled article is too short for one, and a
preview of the article as a reader without access sees it."""

import pytest
from django.contrib.messages import get_messages
from wagtail.models import Page
from wagtail.test.utils.form_data import (
    nested_form_data,
    querydict_from_html,
    rich_text,
    streamfield,
)

from masthead.news.models import ArticlePage

pytestmark = pytest.mark.django_db

SECRET = "The minister resigned at dawn"


def edit_form(client, page, **changes):
    """The article's edit form as the admin renders it, with `changes` (the body as a list
    of rich-text HTML strings, one per block)."""
    url = f"/admin/pages/{page.pk}/edit/"
    data = querydict_from_html(client.get(url).content.decode(), form_id="page-edit-form")
    body = changes.pop("body", None)
    if body is not None:
        for key in [key for key in data if key.startswith("body-")]:
            del data[key]
        blocks = streamfield([("paragraph", rich_text(html)) for html in body])
        data.update(nested_form_data({"body": blocks}))
    for name, value in changes.items():
        data[name] = value
    return url, data


def warnings_after_saving(client, page, **changes) -> list[str]:
    url, data = edit_form(client, page, **changes)
    response = client.post(url, data)
    assert response.status_code == 302, response.content.decode()[:2000]
    return [m.message for m in get_messages(response.wsgi_request) if m.level_tag == "warning"]


@pytest.mark.parametrize("access", ["metered", "subscribers"])
def test_the_admin_warns_when_a_paywalled_article_is_too_short_for_a_teaser(
    site, admin_client, access
):
    # given
    article = site["lead"]
    # when
    warnings = warnings_after_saving(
        admin_client, article, body=["<p>The only paragraph.</p>"], access=access
    )
    # then: a warning, and the draft is saved all the same
    assert len(warnings) == 1
    assert "has 1 paragraph of text" in warnings[0]
    assert "readers without access will see none of it" in warnings[0]
    draft = ArticlePage.objects.get(pk=article.pk).get_latest_revision_as_object()
    assert "The only paragraph." in str(draft.body)


@pytest.mark.parametrize(
    ("access", "body"),
    [
        ("metered", ["<p>One.</p><p>Two.</p>"]),  # one rich-text block is enough
        ("free", ["<p>The only paragraph.</p>"]),
    ],
)
def test_no_warning_for_a_teaser_or_a_free_article(site, admin_client, access, body):
    assert warnings_after_saving(admin_client, site["lead"], body=body, access=access) == []


def preview(client, page, mode, **changes):
    url, data = edit_form(client, page, **changes)
    preview_url = f"/admin/pages/{page.pk}/edit/preview/"
    assert client.post(preview_url, data).json()["is_valid"] is True
    response = client.get(preview_url, {"mode": mode})
    assert response.status_code == 200
    return response.content.decode()


def pasted_story():
    return "".join(
        f"<p>Draft paragraph {n}.{f' {SECRET}.' if n > 2 else ''}</p>" for n in range(1, 9)
    )


@pytest.mark.parametrize(
    ("access", "panel"),
    [
        ("metered", "You have read all your free articles"),
        ("subscribers", "This article is for subscribers"),
    ],
)
def test_editors_preview_the_article_as_a_reader_without_access(site, admin_client, access, panel):
    # given: an unsaved draft pasted as one block
    article = site["lead"]
    # when
    html = preview(admin_client, article, "paywalled", body=[pasted_story()], access=access)
    # then: the draft's teaser and the paywall panel, nothing beyond the cut
    assert "Draft paragraph 1." in html and "Draft paragraph 2." in html
    assert SECRET not in html and "Draft paragraph 3." not in html
    assert panel in html


def test_the_full_preview_still_shows_every_word(site, admin_client):
    html = preview(admin_client, site["lead"], "", body=[pasted_story()])
    assert SECRET in html and "Draft paragraph 8." in html
    assert 'class="paywall"' not in html


def test_the_paywalled_preview_is_offered_in_the_admin(site):
    article = Page.objects.get(pk=site["lead"].pk).specific
    assert ("paywalled", "As a reader without access") in article.preview_modes
    assert article.default_preview_mode == ""


def test_the_admin_warns_when_a_new_article_is_too_short_for_a_teaser(site, admin_client):
    # given: the add form, filled in with one paragraph and an author
    url = f"/admin/pages/add/news/articlepage/{site['world'].pk}/"
    data = querydict_from_html(admin_client.get(url).content.decode(), form_id="page-edit-form")
    blocks = streamfield([("paragraph", rich_text("<p>A brief.</p>"))])
    data.update(nested_form_data({"body": blocks}))
    data.update(
        {
            "title": "A brief",
            "slug": "a-brief",
            "access": "metered",
            "article_authors-TOTAL_FORMS": "1",
            "article_authors-0-author": str(site["authors"][0].pk),
            "article_authors-0-ORDER": "1",
            "article_authors-0-DELETE": "",
        }
    )
    # when
    response = admin_client.post(url, data)
    # then
    assert response.status_code == 302, response.content.decode()[:2000]
    warnings = [m.message for m in get_messages(response.wsgi_request) if m.level_tag == "warning"]
    assert len(warnings) == 1 and "has 1 paragraph of text" in warnings[0]
    assert ArticlePage.objects.filter(slug="a-brief").exists()
