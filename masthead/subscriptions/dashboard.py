"""New subscribers of the newsroom's day, for the newsroom panel on the admin's dashboard
(masthead.core.dashboard): readers whose subscription started that day according to the
ledger, paid from the start or as a free trial."""

from dataclasses import dataclass

from django.urls import reverse
from wagtail.admin.ui.components import Component

from masthead.core.dashboard import Day

from .models import Subscription, SubscriptionEvent

STARTS = [SubscriptionEvent.Kind.STARTED, SubscriptionEvent.Kind.TRIAL_STARTED]


@dataclass(frozen=True)
class NewSubscribers:
    readers: int  # readers with a subscription started during the day
    on_trial: int  # of them, those who started a free trial


def new_subscribers_on(day: Day) -> NewSubscribers:
    """Counted by reader: a reader who took a trial and a paid plan the same day is one."""
    starts = SubscriptionEvent.objects.filter(kind__in=STARTS, at__gte=day.start, at__lt=day.end)
    readers = starts.values("subscription__user").distinct().count()
    on_trial = (
        starts.filter(kind=SubscriptionEvent.Kind.TRIAL_STARTED)
        .values("subscription__user")
        .distinct()
        .count()
    )
    return NewSubscribers(readers=readers, on_trial=on_trial)


class NewSubscribersFigure(Component):
    """The figure, linking to the subscriptions listing for those allowed to open it."""

    template_name = "subscriptions/admin/new_subscribers_figure.html"

    def __init__(self, request, day: Day):
        self.user = request.user
        self.day = day

    def get_context_data(self, parent_context):
        viewset = Subscription.snippet_viewset
        can_view = viewset.permission_policy.user_has_permission(self.user, "view")
        return {
            "new": new_subscribers_on(self.day),
            "listing_url": reverse(viewset.get_url_name("list")) if can_view else None,
        }
