"""schemathesis against docs/openapi.yaml, served by the app itself and called through the
Django WSGI app: no generated input may cause a 5xx, and every response must match the
document (status codes, content types, headers and bodies)."""

import pytest
import schemathesis
from django.core import signals
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from django.utils import timezone
from hypothesis import HealthCheck, settings

from masthead.api import tokens
from tests.factories import make_article, make_home, make_section
from tests.integration.subscription_factories import make_reader

# Slow (hypothesis drives hundreds of requests): `make test` runs it once, in the
# PostgreSQL pass, with the browser tests.
pytestmark = pytest.mark.schemathesis

schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.yaml", get_wsgi_application())
PASSWORD = "a long test password"  # subscription_factories.make_reader's


@pytest.fixture
def wsgi_keeps_the_test_database():
    """Django's handler closes database connections when a request ends, which would drop
    the test transaction (and SQLite's in-memory database); its test client unhooks the
    same receivers."""
    hooks = (signals.request_started, signals.request_finished)
    for hook in hooks:
        hook.disconnect(close_old_connections)
    yield
    for hook in hooks:
        hook.connect(close_old_connections)


@pytest.fixture
def publication(db, wsgi_keeps_the_test_database):
    """One article of each kind, and a reader who can ask for tokens."""
    world = make_section(make_home())
    articles = [
        make_article(world, f"A {access} story", access=access)
        for access in ("free", "metered", "subscribers")
    ]
    reader = make_reader()
    reader.email_verified = True  # password sign-in needs a confirmed address
    reader.save(update_fields=["email_verified"])
    return {"reader": reader, "articles": articles}


def bearer_for(reader) -> dict:
    issued = tokens.issue(user=reader, name="schemathesis", now=timezone.now())
    return {"Authorization": f"Bearer {issued.token}"}


@schema.parametrize()
@settings(
    max_examples=20,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
def test_no_generated_request_breaks_the_api_or_its_document(case, publication):
    # A fresh live token each time, since a generated DELETE revokes the one it presents;
    # where schemathesis sends its own Authorization header (to test rejection), it wins.
    headers = {} if "Authorization" in (case.headers or {}) else bearer_for(publication["reader"])
    case.call_and_validate(headers=headers)


@pytest.mark.parametrize("signed_in", [False, True], ids=["anonymous", "token"])
def test_every_kind_of_article_matches_the_document(publication, signed_in):
    operation = schema["/articles/{id}"]["GET"]
    for article in publication["articles"]:
        headers = bearer_for(publication["reader"]) if signed_in else {}
        case = operation.Case(path_parameters={"id": article.pk}, headers=headers)
        response = case.call_and_validate()
        assert response.status_code == 200


def test_issuing_a_token_matches_the_document(publication):
    operation = schema["/token"]["POST"]
    body = {"email": publication["reader"].email, "password": PASSWORD, "name": "Phone"}
    response = operation.Case(body=body, media_type="application/json").call_and_validate()
    assert response.status_code == 201
