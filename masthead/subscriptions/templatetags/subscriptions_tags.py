from datetime import timedelta
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from django import template
from django.utils import timezone
from django.utils.translation import ngettext

from masthead.core import clock

from ..fetch import OfferInfo, paywall_offers_for, subscriptions_for_account
from ..offers import PAYWALL_LIMIT, Money, OfferKind, headline, price_schedule, schedule_text

register = template.Library()


def last_day(ends_at):
    """The day an offer is last available, in the site's time zone: an offer that ends at
    midnight ends the day before ("Offer ends October 31st", not November 1st)."""
    return timezone.localtime(ends_at - timedelta(microseconds=1))


def describe(info: OfferInfo) -> dict:
    return {
        "id": info.offer.pk,
        "headline": headline(info.terms, info.plan, ngettext),
        "schedule": schedule_text(info.plan, info.terms, ngettext),
        "steps": price_schedule(info.plan, info.terms),
        "ends_on": last_day(info.terms.ends_at),
        "plan": info.plan,
        "trial": info.terms.kind == OfferKind.FREE_TRIAL,
    }


def describe_plan(plan) -> dict:
    """A plan bought at its full price, in the shape `describe` gives an offer."""
    terms = plan.terms()
    return {
        "id": None,
        "slug": plan.slug,
        "headline": plan.name,
        "schedule": schedule_text(terms, None, ngettext),
        "steps": price_schedule(terms, None),
        "ends_on": None,
        "plan": terms,
    }


@register.simple_tag(takes_context=True)
def paywall_offers(context, limit=PAYWALL_LIMIT):
    """The offers the editors put in the paywall, in their order, that the reader in front
    of it may take. Only the paywall panel loads this, and the panel is rendered only for
    readers without full text, so entitled readers pay no query for it."""
    request = context.get("request")
    user = getattr(request, "user", None)
    return [describe(info) for info in paywall_offers_for(user, clock.now(), limit=limit)]


@register.filter
def common_end(offers):
    """The last day of the offers in a list of two or more when it is one and the same
    day, else None: then the list says "These offers end January 31st" once, instead of
    under every offer."""
    if len(offers) < 2 or any(not offer.get("ends_on") for offer in offers):
        return None
    if len({offer["ends_on"].date() for offer in offers}) != 1:
        return None
    return offers[0]["ends_on"]


@register.simple_tag
def with_next(url, next_path):
    """`url` with ``next=<next_path>`` in its query (replacing one it had); `url` itself
    when there is no page to come back to."""
    if not next_path:
        return url
    parts = urlsplit(url)
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k != "next"]
    query.append(("next", next_path))
    return urlunsplit(parts._replace(query=urlencode(query, safe="/")))


def story_title(path: str) -> str:
    """The title of the live page at this site path ("/world/a-story/"), or "" when it is
    not one (a section, a page since unpublished, anything with a query)."""
    if not path or not path.startswith("/") or "?" in path:
        return ""
    from wagtail.models import Page, Site

    site = Site.objects.filter(is_default_site=True).select_related("root_page").first()
    if site is None:
        return ""
    url_path = tree_url_path(site, path)
    found = Page.objects.live().filter(url_path=url_path).values_list("title", flat=True).first()
    return found or ""


def tree_url_path(site, path: str) -> str:
    """The page tree's url_path of a path on `site` ("/world/a-story/" under a root page
    at "/home/" is "/home/world/a-story/")."""
    url_path = site.root_page.url_path + path.lstrip("/")
    return url_path if url_path.endswith("/") else url_path + "/"


def describe_checkout(checkout) -> dict:
    """A checkout as its pages show it: the terms and the amount stored on the row."""
    offer, plan = checkout.offer, checkout.plan
    terms = offer.terms() if offer is not None else None
    return {
        "id": checkout.public_id,
        "headline": headline(terms, plan.terms(), ngettext) if terms else plan.name,
        "schedule": schedule_text(plan.terms(), terms, ngettext),
        "amount": Money(checkout.amount, checkout.currency),
        "next": checkout.next_path,
        "story_title": story_title(checkout.next_path),
    }


@register.simple_tag(takes_context=True)
def account_subscriptions(context):
    """The signed-in reader's subscriptions with their history, for the account page."""
    request = context.get("request")
    return subscriptions_for_account(getattr(request, "user", None), clock.now())
