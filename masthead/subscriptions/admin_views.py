"""The admin's buttons for the offline test provider: record a paid renewal, a failed one
or a refund for one subscription, as `manage.py payments_test` does. They exist so a
newsroom can rehearse what readers see without a card processor; with a real provider the
processor's own events do this, so the page is a 404 then."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse

from masthead.core import clock

from .actions import SubscriptionError
from .models import Subscription
from .payments import get_provider

EVENTS = {
    "renew": "Record a paid renewal",
    "fail": "Record a failed renewal (past due)",
    "refund": "Refund the latest payment (access ends now)",
}


def available_to(user) -> bool:
    """Superusers only: these buttons move money in the ledger, even if only test money."""
    return user.is_superuser and get_provider().name == "test"


def test_payments(request, subscription_id: int):
    if get_provider().name != "test":
        raise Http404("The test payment provider is not in use")
    if not request.user.is_superuser:
        raise PermissionDenied
    subscription = get_object_or_404(
        Subscription.objects.select_related("plan", "user"), pk=subscription_id
    )
    if request.method == "POST":
        event = request.POST.get("event", "")
        if event not in EVENTS:
            messages.error(request, "Choose one of the buttons.")
        else:
            try:
                record = getattr(get_provider(), event)
                changed = record(subscription=subscription, now=clock.now())
            except SubscriptionError as refused:
                messages.error(request, f"Nothing was recorded: {refused}")
            else:
                messages.success(
                    request,
                    f"Recorded. The subscription is now {changed.status} until "
                    f"{changed.current_period_end:%Y-%m-%d %H:%M}.",
                )
        return redirect(reverse("subscriptions_test_payments", args=[subscription.pk]))
    return render(
        request,
        "subscriptions/admin/test_payments.html",
        {
            "subscription": subscription,
            "events": EVENTS.items(),
            "history": subscription.events.all(),
            "payments": subscription.payment_events.all(),
            "page_title": "Test payments",
            "page_subtitle": str(subscription),
            "header_icon": "tag",
        },
    )
