"""Editors manage topics (taggit's tags) in the admin: listed A to Z whatever the case, and
called topics wherever an editor reads about them."""

import re

import pytest
from bs4 import BeautifulSoup
from django.test import Client
from taggit.models import Tag

from masthead.demo.roles import newsroom_editors
from tests.integration.subscription_factories import make_reader

pytestmark = pytest.mark.django_db

TAG_WORD = re.compile(r"\btags?\b", re.IGNORECASE)
TOPICS = "/admin/snippets/taggit/tag/"


@pytest.fixture
def editor(site):
    group, _ = newsroom_editors()
    user = make_reader("topic-desk")
    user.groups.add(group)
    client = Client()
    client.force_login(user)
    return client


def visible_text(response) -> str:
    assert response.status_code == 200, response.status_code
    soup = BeautifulSoup(response.content, "html.parser")
    for hidden in soup(["script", "style", "template"]):
        hidden.decompose()
    return " ".join((soup.find("main") or soup).get_text(" ").split())


def listed(client, query="") -> list[str]:
    soup = BeautifulSoup(client.get(TOPICS + query).content, "html.parser")
    return [row.select_one("a").get_text(" ", strip=True) for row in soup.select("tbody tr")]


def test_topics_are_listed_a_to_z_whatever_their_case(editor):
    # given topics in both cases (the site's own: Defence, Korea, Shipping...)
    Tag.objects.create(name="apple", slug="apple")
    Tag.objects.create(name="Zebra crossing", slug="zebra-crossing")
    Tag.objects.create(name="banks", slug="banks")
    expected = sorted(Tag.objects.values_list("name", flat=True), key=str.lower)
    # when the listing is opened, and sorted by name the other way
    first, reverse = listed(editor), listed(editor, "?ordering=-name")
    # then
    assert first == expected
    assert reverse == expected[::-1]
    assert first.index("apple") < first.index("banks") < first.index("Zebra crossing")


def test_every_topics_page_says_topic_not_tag(site, admin_client):
    # given a topic on two articles, and someone who may open every page about it
    editor = admin_client
    korea = Tag.objects.get(name="Korea")
    pages = [
        TOPICS,
        TOPICS + "add/",
        f"{TOPICS}edit/{korea.pk}/",
        f"{TOPICS}delete/{korea.pk}/",
        f"{TOPICS}history/{korea.pk}/",
    ]
    for path in pages:
        # when an editor opens it
        text = visible_text(editor.get(path))
        # then
        assert not TAG_WORD.search(text), (path, TAG_WORD.findall(text))
        assert "topic" in text.lower(), path
    # The usage page names the relation's field as the database does ("Article page tag →
    # Tag", news.ArticlePageTag): renaming it is a migration; its frame says topic.
    usage = visible_text(editor.get(f"{TOPICS}usage/{korea.pk}/"))
    assert usage.startswith("Usage: Korea Home Topics") and "2 items" in usage
    assert "Are you sure you want to delete this topic?" in visible_text(
        editor.get(f"{TOPICS}delete/{korea.pk}/")
    )


def test_adding_and_saving_a_topic_confirm_in_its_words(editor):
    # when an editor adds a topic and renames it
    added = editor.post(TOPICS + "add/", {"name": "Ports", "slug": "ports"}, follow=True)
    ports = Tag.objects.get(slug="ports")
    saved = editor.post(
        f"{TOPICS}edit/{ports.pk}/", {"name": "Sea ports", "slug": "ports"}, follow=True
    )
    # then each message says topic
    assert "Topic “Ports” added." in visible_text(added)
    assert "Topic “Sea ports” saved." in visible_text(saved)
    refused = editor.post(TOPICS + "add/", {"name": "", "slug": ""})
    assert "The topic could not be added" in visible_text(refused)


def test_the_article_editor_calls_its_tag_field_topics(site, editor):
    # when an editor opens an article
    response = editor.get(f"/admin/pages/{site['lead'].pk}/edit/")
    soup = BeautifulSoup(response.content, "html.parser")
    label = soup.select_one('label[for="id_topics"]').get_text(" ", strip=True)
    field = soup.select_one('[data-contentpath="topics"]')
    # then the field and its help speak of topics
    text = " ".join(field.get_text(" ").split())
    assert label.startswith("Topics"), label
    assert "topic" in text and not TAG_WORD.search(text), text
