from django.core.management.base import BaseCommand, CommandError

from masthead.core import clock
from masthead.subscriptions.actions import SubscriptionError
from masthead.subscriptions.models import Subscription
from masthead.subscriptions.payments import get_provider


class Command(BaseCommand):
    help = (
        "Test payment provider only: pay a renewal (renew), fail one (fail: past due, access "
        "for the grace period) or refund the latest payment (refund: access ends now)."
    )

    def add_arguments(self, parser):
        parser.add_argument("event", choices=["renew", "fail", "refund"])
        parser.add_argument("--subscription", type=int, required=True)

    def handle(self, *args, event, subscription, **options):
        provider = get_provider()
        if provider.name != "test":
            raise CommandError("MASTHEAD_PAYMENT_PROVIDER is not 'test'.")
        try:
            row = Subscription.objects.select_related("plan").get(pk=subscription)
        except Subscription.DoesNotExist as missing:
            raise CommandError(f"No subscription {subscription}.") from missing
        try:
            row = getattr(provider, event)(subscription=row, now=clock.now())
        except SubscriptionError as refused:
            raise CommandError(str(refused)) from refused
        self.stdout.write(
            f"Subscription {row.pk}: {event} done; now {row.status} "
            f"until {row.current_period_end:%Y-%m-%d %H:%M}."
        )
