"""Editors work in Wagtail's admin: the forms for every page type and snippet must render."""

import pytest
from django.contrib.auth.models import Group

from masthead.news.models import Author

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
