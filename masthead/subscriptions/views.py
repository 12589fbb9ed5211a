"""The offers page and the (not yet open) checkout. Prices come only from the catalogue in
the database: the page links to an offer by id and the server looks the price up."""

from django.http import Http404
from django.shortcuts import render

from masthead.access import gate

from .fetch import current_offers, offers_for, reader_history
from .models import Plan
from .offers import eligible
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


def checkout(request, offer_id: int):
    """Payments are a later part of the work: this page names the offer and says checkout
    is not open. It never grants access."""
    now = gate.clock()
    found = {info.offer.pk: info for info in current_offers(now)}
    info = found.get(offer_id)
    if info is None:
        raise Http404("No such offer")
    available = eligible(info.terms, reader_history(request.user, now), now)
    return render(
        request,
        "subscriptions/checkout.html",
        {"offer": describe(info), "available": available},
    )
