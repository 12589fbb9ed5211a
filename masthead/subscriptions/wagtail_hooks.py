from django.urls import path, reverse
from wagtail import hooks
from wagtail.admin.widgets import Button
from wagtail.permissions import register_permission_policy
from wagtail.snippets.models import register_snippet
from wagtail.snippets.views.snippets import SnippetViewSet, SnippetViewSetGroup

from masthead.core.dashboard import NEWSROOM_FIGURES
from masthead.core.permissions import ViewOnlyPermissionPolicy

from . import admin_views
from .dashboard import NewSubscribersFigure
from .models import Offer, Plan, Subscription

register_permission_policy(Subscription, ViewOnlyPermissionPolicy(Subscription))


class PlanViewSet(SnippetViewSet):
    model = Plan
    icon = "tag"
    menu_label = "Plans"
    list_display = ["name", "price", "currency", "interval", "active"]
    list_filter = ["interval", "active"]


class OfferViewSet(SnippetViewSet):
    model = Offer
    icon = "pick"
    menu_label = "Offers"
    list_display = [
        "name",
        "plan",
        "starts_at",
        "ends_at",
        "eligibility",
        "paywall_position",
        "active",
    ]
    list_filter = ["eligibility", "active"]


class SubscriptionViewSet(SnippetViewSet):
    model = Subscription
    icon = "user"
    menu_label = "Subscriptions"
    inspect_view_enabled = True
    list_display = ["user", "plan", "status", "current_period_end", "cancel_at_period_end"]
    list_filter = ["status", "plan"]


class SubscriptionsViewSetGroup(SnippetViewSetGroup):
    items = (PlanViewSet, OfferViewSet, SubscriptionViewSet)
    menu_label = "Subscriptions"
    menu_icon = "tag"
    menu_name = "subscriptions"


register_snippet(SubscriptionsViewSetGroup)


@hooks.register("register_admin_urls")
def test_payment_urls():
    return [
        path(
            "subscriptions/test-payments/<int:subscription_id>/",
            admin_views.test_payments,
            name="subscriptions_test_payments",
        )
    ]


@hooks.register("register_snippet_listing_buttons")
def test_payment_button(snippet, user, next_url=None):
    if isinstance(snippet, Subscription) and admin_views.available_to(user):
        yield Button(
            "Test payments",
            reverse("subscriptions_test_payments", args=[snippet.pk]),
            icon_name="tag",
            priority=50,
        )


@hooks.register(NEWSROOM_FIGURES)
def new_subscribers_figure(request, day, figures):
    """The newsroom panel on the dashboard shows how many readers subscribed today."""
    figures.append(NewSubscribersFigure(request, day))
