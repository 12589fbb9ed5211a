"""The admin's test-payment buttons: a superuser records renewals, failures and refunds for
one subscription through the same provider methods as `manage.py payments_test`."""

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.test import Client

from masthead.subscriptions import actions, admin_views
from masthead.subscriptions.models import Subscription
from tests.integration.subscription_factories import DAY, NOW, make_intro, make_plan, make_reader

pytestmark = pytest.mark.django_db


@pytest.fixture
def subscription(at):
    plan = make_plan(price="12.00")
    offer = make_intro(plan, NOW, "0.99", 1)
    period_end = NOW + 30 * DAY
    return actions.start(user=make_reader(), plan=plan, offer=offer, period_end=period_end, now=NOW)


@pytest.fixture
def superuser_client():
    client = Client()
    client.force_login(
        get_user_model().objects.create_superuser("boss", "boss@example.com", "pw-for-tests")
    )
    return client


def page_url(subscription) -> str:
    return f"/admin/subscriptions/test-payments/{subscription.pk}/"


def test_the_subscription_list_links_to_the_test_payment_page(subscription, superuser_client):
    response = superuser_client.get("/admin/snippets/subscriptions/subscription/")
    assert response.status_code == 200
    assert page_url(subscription) in response.content.decode()


def test_a_superuser_records_a_failure_then_a_renewal(subscription, superuser_client):
    # when
    failed = superuser_client.post(page_url(subscription), {"event": "fail"})
    # then
    assert failed.status_code == 302
    subscription.refresh_from_db()
    assert subscription.status == "past_due"
    # when
    superuser_client.post(page_url(subscription), {"event": "renew"})
    # then
    subscription.refresh_from_db()
    assert subscription.status == "active"
    kinds = list(subscription.payment_events.values_list("kind", flat=True))
    assert kinds == ["renewal_failed", "renewal_paid"]
    page = superuser_client.get(page_url(subscription)).content.decode()
    assert "renewal_paid" in page and "past_due" in page


def test_a_refund_expires_the_subscription(subscription, superuser_client):
    # given a payment to refund
    superuser_client.post(page_url(subscription), {"event": "renew"})
    # when
    superuser_client.post(page_url(subscription), {"event": "refund"})
    # then
    subscription.refresh_from_db()
    assert subscription.status == "expired"
    assert subscription.payment_events.last().kind == "refunded"


def test_what_the_actions_refuse_is_reported_and_records_nothing(subscription, superuser_client):
    superuser_client.post(page_url(subscription), {"event": "refund"})  # nothing paid yet
    page = superuser_client.get(page_url(subscription)).content.decode()
    assert "Nothing was recorded" in page
    subscription.refresh_from_db()
    assert subscription.status == "active" and not subscription.payment_events.exists()


def test_an_unknown_event_records_nothing(subscription, superuser_client):
    response = superuser_client.post(page_url(subscription), {"event": "delete"}, follow=True)
    assert "Choose one of the buttons" in response.content.decode()
    assert Subscription.objects.get().status == "active"


def test_editors_who_are_not_superusers_cannot_use_it(subscription, site):
    editor = get_user_model().objects.create_user(
        "ed", "ed@example.com", "pw-for-tests", is_staff=True
    )
    editor.user_permissions.add(*Permission.objects.filter(codename="access_admin"))
    client = Client()
    client.force_login(editor)
    response = client.post(page_url(subscription), {"event": "fail"})
    # Wagtail answers a PermissionDenied in its admin with a redirect to the dashboard.
    assert response.status_code == 302 and response["Location"] == "/admin/"
    subscription.refresh_from_db()
    assert subscription.status == "active"


def test_readers_are_sent_to_the_admin_sign_in(subscription):
    client = Client()
    client.force_login(make_reader())
    response = client.post(page_url(subscription), {"event": "fail"})
    assert response.status_code == 302 and "/admin/login/" in response["Location"]
    assert Subscription.objects.get().status == "active"


def test_the_page_is_gone_when_another_provider_takes_payments(
    subscription, superuser_client, monkeypatch
):
    class OtherProvider:
        name = "other"

    monkeypatch.setattr(admin_views, "get_provider", OtherProvider)
    assert superuser_client.get(page_url(subscription)).status_code == 404
    listing = superuser_client.get("/admin/snippets/subscriptions/subscription/")
    assert page_url(subscription) not in listing.content.decode()
