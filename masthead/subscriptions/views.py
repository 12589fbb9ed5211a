"""The offers page, checkout, and the account page's cancel and resume. Prices come only
from the catalogue in the database: the pages link to an offer by id, the server looks the
price up and stores it on the checkout, and nothing the browser posts is read as a price."""

import logging
from datetime import timedelta
from urllib.parse import urlencode, urlsplit

from django.apps import apps
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import patch_cache_control, patch_vary_headers
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST
from wagtail.models import Site

from masthead.core import clock, links

from . import actions
from .fetch import current_offers, grace, offers_for, plan_choices, reader_history
from .models import Plan, Subscription
from .offers import OfferKind, eligible
from .payments import ProviderUnavailable, checkout_key, get_provider, provider_for
from .templatetags.subscriptions_tags import describe, describe_plan, tree_url_path

logger = logging.getLogger(__name__)


def offers_page(request):
    """Every offer this reader may take and every plan on sale, each with its buy button
    (carrying on the story the reader came from, if any: ``next``, or else the Referer's
    story); a subscriber is shown the way to manage theirs instead. The offers come first:
    they are the query the page cannot do without."""
    now = clock.now()
    offers = [describe(info) for info in offers_for(request.user, now, limit=None)]
    plans = plan_choices()
    entitled = reader_history(request.user, now).entitled
    story = links.safe_next(request, request.GET.get("next")) or _story_from_referer(request)
    context = {
        "offers": offers,
        "plans": plans,
        "entitled": entitled,
        "buy": not entitled,  # a subscriber gets the account page instead of buy buttons
        "story": story,
        # Said once for the page: what any plan on sale gives.
        "benefits": {
            "web": any(plan.terms.web for plan in plans),
            "apps": any(plan.terms.apps for plan in plans),
            "differ": len({(plan.terms.web, plan.terms.apps) for plan in plans}) > 1,
        },
        "grace_days": grace().days,
    }
    response = render(request, "subscriptions/offers_page.html", context)
    patch_vary_headers(response, ["Referer"])  # the story may come from it
    return response


def _story_from_referer(request) -> str:
    """The story a reader was reading when they followed a plain Subscribe link: the site
    header's, the meter notice's and the footer's carry no ``next``, because they are
    shared by every page or kept per reader across pages. The Referer's path when it is a
    live article of this site (the site's Referrer-Policy sends it within the site), else
    "": a section, the offers page itself or another site gives nothing to come back to."""
    referer = request.headers.get("Referer", "")
    if not referer or not links.safe_next(request, referer):
        return ""
    path = urlsplit(referer).path
    if not path.startswith("/") or path.startswith("//"):
        return ""
    site = Site.find_for_request(request)
    if site is None:
        return ""
    articles = apps.get_model("news", "ArticlePage").objects.live().public()
    return path if articles.filter(url_path=tree_url_path(site, path)).exists() else ""


def _story(request) -> str:
    """The page the reader came from (a story), if it is on this site."""
    return links.safe_next(request, request.POST.get("next") or request.GET.get("next"))


def _here(request, story: str) -> str:
    """This checkout's address, carrying the story on."""
    return f"{request.path}?{urlencode({'next': story})}" if story else request.path


def _create_account_first(request, story: str) -> HttpResponse:
    """A reader without an account creates one (sign-in is offered there too) and comes
    back to this checkout, which still knows the story."""
    query = urlencode({"next": _here(request, story)})
    return redirect(f"{reverse('readers:sign-up')}?{query}")


def _not_available(request, shown: dict, story: str, *, entitled: bool, error: str = ""):
    """Not for this reader (a subscriber already, a trial used, an offer for others): say
    so and offer the other ways on, never a dead end."""
    context = {"offer": shown, "story": story, "entitled": entitled, "error": error}
    response = render(request, "subscriptions/checkout.html", context)
    patch_cache_control(response, private=True, no_store=True)
    return response


def _pay(request, *, shown: dict, story: str, plan: Plan, offer=None, now) -> HttpResponse:
    """Straight to the provider's payment page, through the one checkout for this reader
    and offer (or plan): a second click, a reload or a retry finds the same one."""
    try:
        provider = get_provider()
        started = provider.create_checkout(
            reader=request.user,
            offer=offer,
            plan=plan,
            idempotency_key=checkout_key(reader=request.user, offer=offer, plan=plan),
            now=now,
            next_path=story,
        )
        return redirect(provider.checkout_url(started))
    except actions.SubscriptionError as refused:
        return _not_available(request, shown, story, entitled=False, error=str(refused))
    except ProviderUnavailable:
        logger.exception("Checkout for %s: the payment provider failed", offer or plan)
        return payments_unavailable(request, shown)


@require_http_methods(["GET", "POST"])
def checkout(request, offer_id: int):
    """An offer's buy button. A paid offer goes straight to the payment page; a free trial
    (nothing to pay) asks once, stating what it becomes, and POST starts it."""
    now = clock.now()
    found = {info.offer.pk: info for info in current_offers(now)}
    info = found.get(offer_id)
    if info is None:
        raise Http404("No such offer")
    story = _story(request)
    if not request.user.is_authenticated:
        return _create_account_first(request, story)
    shown = describe(info)
    history = reader_history(request.user, now)
    if not eligible(info.terms, history, now):
        return _not_available(request, shown, story, entitled=history.entitled)
    if info.terms.kind != OfferKind.FREE_TRIAL:
        return _pay(
            request, shown=shown, story=story, plan=info.offer.plan, offer=info.offer, now=now
        )
    if request.method == "POST":
        try:
            actions.start_trial(user=request.user, offer=info.offer, now=now)
        except actions.SubscriptionError as refused:
            return _not_available(request, shown, story, entitled=False, error=str(refused))
        if story:
            return redirect(story)
        messages.info(request, _("Your free trial has started. Enjoy reading."))
        return redirect("readers:account")
    ends = timezone.localtime(now + timedelta(days=info.offer.trial_days))
    response = render(
        request, "subscriptions/trial_confirm.html", {"offer": shown, "story": story, "ends": ends}
    )
    patch_cache_control(response, private=True, no_store=True)
    return response


@require_http_methods(["GET", "POST"])
def checkout_plan(request, plan_slug: str):
    """A plan's buy button: the plan at its full price, straight to the payment page."""
    plan = get_object_or_404(Plan, slug=plan_slug, active=True)
    story = _story(request)
    if not request.user.is_authenticated:
        return _create_account_first(request, story)
    now = clock.now()
    shown = describe_plan(plan)
    history = reader_history(request.user, now)
    if history.entitled:
        return _not_available(request, shown, story, entitled=True)
    return _pay(request, shown=shown, story=story, plan=plan, now=now)


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
