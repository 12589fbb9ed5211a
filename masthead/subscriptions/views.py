"""The offers page, checkout, and the account page's cancel and resume. Prices come only
from the catalogue in the database: the pages link to an offer by id, the server looks the
price up and stores it on the checkout, and nothing the browser posts is read as a price."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from masthead.access import gate

from . import actions
from .fetch import current_offers, offers_for, reader_history
from .models import Plan, Subscription
from .offers import OfferKind, eligible
from .payments import ProviderUnavailable, checkout_key, get_provider, provider_for
from .templatetags.subscriptions_tags import describe


def offers_page(request):
    now = gate.clock()
    offers = [describe(info) for info in offers_for(request.user, now, limit=None)]
    plans = [plan.terms() for plan in Plan.objects.filter(active=True)]
    return render(
        request,
        "subscriptions/offers_page.html",
        {"offers": offers, "plans": plans, "entitled": reader_history(request.user, now).entitled},
    )


@login_required
@require_http_methods(["GET", "POST"])
def checkout(request, offer_id: int):
    """GET names the offer and its terms; POST (the Subscribe button) starts a free trial
    at once, or opens the provider's checkout, once per reader and offer."""
    now = gate.clock()
    found = {info.offer.pk: info for info in current_offers(now)}
    info = found.get(offer_id)
    if info is None:
        raise Http404("No such offer")
    available = eligible(info.terms, reader_history(request.user, now), now)
    error = ""
    if request.method == "POST" and available:
        try:
            if info.terms.kind == OfferKind.FREE_TRIAL:
                actions.start_trial(user=request.user, offer=info.offer, now=now)
                messages.info(request, _("Your free trial has started. Enjoy reading."))
                return redirect("readers:account")
            provider = get_provider()
            started = provider.create_checkout(
                reader=request.user,
                offer=info.offer,
                idempotency_key=checkout_key(reader=request.user, offer=info.offer),
                now=now,
            )
            return redirect(provider.checkout_url(started))
        except actions.SubscriptionError as refused:
            error = str(refused)
    return render(
        request,
        "subscriptions/checkout.html",
        {"offer": describe(info), "available": available, "error": error},
    )


def _own(request, subscription_id: int) -> Subscription:
    """A reader reaches only their own subscriptions; anyone else's id is a 404."""
    return get_object_or_404(Subscription, pk=subscription_id, user=request.user)


def _change(request, subscription_id: int, action, done: str):
    subscription = _own(request, subscription_id)
    try:
        with transaction.atomic():
            changed = action(subscription=subscription, now=gate.clock())
            # Where a provider bills it, the provider must stop (or resume) billing too.
            provider_for(changed).push_change(subscription=changed)
    except actions.SubscriptionError as refused:
        messages.error(request, str(refused))
    except ProviderUnavailable:
        messages.error(request, _("Billing is unavailable just now. Please try again later."))
    else:
        messages.info(request, done)
    return redirect("readers:account")


@login_required
@require_POST
def cancel_subscription(request, subscription_id: int):
    return _change(
        request,
        subscription_id,
        actions.cancel,
        _("Your subscription is cancelled. You keep access until the end of the period."),
    )


@login_required
@require_POST
def resume_subscription(request, subscription_id: int):
    return _change(request, subscription_id, actions.resume, _("Your subscription will continue."))
