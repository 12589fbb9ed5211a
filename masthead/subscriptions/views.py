"""The offers page, checkout, and the account page's cancel and resume. Prices come only
from the catalogue in the database: the pages link to an offer by id, the server looks the
price up and stores it on the checkout, and nothing the browser posts is read as a price."""

import logging

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.cache import patch_cache_control
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from masthead.core import clock

from . import actions
from .fetch import current_offers, offers_for, reader_history
from .models import Plan, Subscription
from .offers import OfferKind, eligible
from .payments import ProviderUnavailable, checkout_key, get_provider, provider_for
from .templatetags.subscriptions_tags import describe

logger = logging.getLogger(__name__)


def offers_page(request):
    now = clock.now()
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
    now = clock.now()
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
        except ProviderUnavailable:
            logger.exception("Checkout for offer %s: the payment provider failed", offer_id)
            return payments_unavailable(request, describe(info))
    return render(
        request,
        "subscriptions/checkout.html",
        {"offer": describe(info), "available": available, "error": error},
    )


def _own(request, subscription_id: int) -> Subscription:
    """A reader reaches only their own subscriptions; anyone else's id is a 404."""
    return get_object_or_404(Subscription, pk=subscription_id, user=request.user)


def payments_unavailable(request, offer) -> HttpResponse:
    """The provider could not be reached or refused: say so and invite a retry (nothing was
    charged or granted; the same checkout is used again). 503, never cached."""
    response = render(
        request, "subscriptions/payments_unavailable.html", {"offer": offer}, status=503
    )
    response["Retry-After"] = "30"
    patch_cache_control(response, no_store=True)
    return response


def _change(request, subscription_id: int, check, action, *, cancel_at_period_end: bool, done):
    """Stripe first, outside any transaction, then ours: if the provider cannot be told,
    nothing changes here; if ours then fails, the provider's webhook brings ours to the
    same state. ``check`` refuses beforehand what ``action`` would refuse."""
    subscription = _own(request, subscription_id)
    now = clock.now()
    try:
        check(subscription=subscription, now=now)
        provider_for(subscription).push_change(
            subscription=subscription, cancel_at_period_end=cancel_at_period_end
        )
        action(subscription=subscription, now=now)
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
        actions.check_cancel,
        actions.cancel,
        cancel_at_period_end=True,
        done=_("Your subscription is cancelled. You keep access until the end of the period."),
    )


@login_required
@require_POST
def resume_subscription(request, subscription_id: int):
    return _change(
        request,
        subscription_id,
        actions.check_resume,
        actions.resume,
        cancel_at_period_end=False,
        done=_("Your subscription will continue."),
    )
