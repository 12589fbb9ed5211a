"""Messages (django.contrib.messages) through masthead.core.middleware.MessageMiddleware,
whose storage is made only when a request adds or reads a message."""

import pytest
from django.test import Client

from tests.integration.subscription_factories import make_reader

pytestmark = pytest.mark.django_db


def signed_in() -> Client:
    client = Client()
    client.force_login(make_reader())
    return client


def test_a_message_added_by_one_request_is_shown_by_the_next_and_then_gone():
    # given a signed-in reader
    client = signed_in()
    # when they save their display name (the view adds a message and redirects)
    response = client.post("/account/name/", {"display_name": "Ada"})
    assert response.status_code == 302
    # then the account page shows the message once
    assert "Your display name is saved." in client.get("/account/").content.decode()
    assert "Your display name is saved." not in client.get("/account/").content.decode()


def test_a_message_waits_through_an_article_page_for_a_page_that_shows_it(site):
    # given a message waiting for the next page that shows messages
    client = signed_in()
    client.post("/account/name/", {"display_name": "Ada"})
    # when the reader opens an article first (its shared frame shows no messages)
    article = client.get(site["sponsored"].url)
    assert article.status_code == 200
    assert "Your display name is saved." not in article.content.decode()
    # then the message is still there on the account page
    assert "Your display name is saved." in client.get("/account/").content.decode()


def test_an_article_request_that_uses_no_message_sets_no_message_cookie(site):
    # given an anonymous reader
    client = Client()
    # when they open a free article
    response = client.get(site["sponsored"].url)
    # then nothing about messages is sent back
    assert response.status_code == 200
    assert "messages" not in response.cookies
