"""Editors work in Wagtail's admin: the forms for every page type and snippet must render."""

import pytest
from django.contrib.auth.models import Group
from wagtail.test.utils.form_data import (
    nested_form_data,
    querydict_from_html,
    rich_text,
    streamfield,
)

from masthead.news.models import ArticlePage, Author

pytestmark = pytest.mark.django_db


@pytest.fixture
def editor_client(client, django_user_model):
    editor = django_user_model.objects.create_user(
        username="ed", email="ed@example.com", password="pw-for-tests-only"
    )
    editor.groups.add(Group.objects.get(name="Editors"))
    client.force_login(editor)
    return client


def test_admin_sign_in_page_answers(client):
    response = client.get("/admin/login/")
    assert response.status_code == 200


def test_anonymous_visitor_is_sent_to_sign_in(client):
    response = client.get("/admin/")
    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")


def test_editor_can_open_the_edit_form_of_every_page_type(site, editor_client):
    for key in ["home", "world", "series", "lead", "sponsored"]:
        response = editor_client.get(f"/admin/pages/{site[key].pk}/edit/")
        assert response.status_code == 200, key
    body = editor_client.get(f"/admin/pages/{site['lead'].pk}/edit/").content.decode()
    for label in ["Headline", "Decks", "Lead photo", "Authors", "Dateline", "Access"]:
        assert label in body


def test_editor_can_create_an_article_in_a_section(site, editor_client):
    response = editor_client.get(f"/admin/pages/add/news/articlepage/{site['world'].pk}/")
    assert response.status_code == 200


def test_author_and_sponsor_snippets_are_listed(site, admin_client):
    assert admin_client.get("/admin/snippets/news/author/").status_code == 200
    assert admin_client.get("/admin/snippets/news/sponsor/").status_code == 200
    author = Author.objects.first()
    response = admin_client.get(f"/admin/snippets/news/author/edit/{author.pk}/")
    assert response.status_code == 200


def add_article_form(client, section, **changes):
    """The admin's add form for an article in `section`, as rendered, with `changes`."""
    url = f"/admin/pages/add/news/articlepage/{section.pk}/"
    data = querydict_from_html(client.get(url).content.decode(), form_id="page-edit-form")
    for key in [key for key in data if key.startswith("body-")]:
        del data[key]
    blocks = streamfield([("paragraph", rich_text("<p>One.</p><p>Two.</p>"))])
    data.update(nested_form_data({"body": blocks}))
    for name, value in changes.items():
        data[name] = value
    return url, data


def test_a_new_article_is_saved_with_a_slug_made_from_its_headline(site, editor_client):
    # given: the add form filled in as an editor would, the Promote tab untouched
    ada, _ = site["authors"]
    url, data = add_article_form(
        editor_client,
        site["world"],
        title="Rain returns to the valley",
        **{
            "article_authors-TOTAL_FORMS": "1",
            "article_authors-INITIAL_FORMS": "0",
            "article_authors-0-author": str(ada.pk),
            "article_authors-0-ORDER": "1",
            "article_authors-0-id": "",
            "article_authors-0-DELETE": "",
        },
    )
    assert data.get("slug", "") == ""
    # when
    response = editor_client.post(url, data)
    # then
    assert response.status_code == 302, response.content.decode()[:2000]
    article = ArticlePage.objects.get(title="Rain returns to the valley")
    assert article.slug == "rain-returns-to-the-valley"


def test_the_title_panel_fills_the_slug_and_access_comes_before_the_body(site, editor_client):
    body = editor_client.get(f"/admin/pages/add/news/articlepage/{site['world'].pk}/")
    html = body.content.decode()
    # Wagtail's TitleFieldPanel wires the title to the slug with its w-sync controller.
    assert 'data-w-sync-target-value="#id_slug"' in html
    edit = editor_client.get(f"/admin/pages/{site['lead'].pk}/edit/").content.decode()
    assert edit.index('data-contentpath="access"') < edit.index('data-contentpath="body"')


@pytest.mark.parametrize("who", ["editor_client", "admin_client"])
def test_the_admin_dashboard_fetches_nothing_from_third_parties(site, who, request):
    # given: an editor, and a superuser (the only one Wagtail shows its update check to)
    client = request.getfixturevalue(who)
    # when
    html = client.get("/admin/").content.decode()
    # then: no avatar from Gravatar, no call to Wagtail's release server
    assert "gravatar.com" not in html
    assert "w-upgrade" not in html
