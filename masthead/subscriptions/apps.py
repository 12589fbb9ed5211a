from django.apps import AppConfig


class SubscriptionsConfig(AppConfig):
    name = "masthead.subscriptions"
    label = "subscriptions"
    verbose_name = "Subscriptions"

    def ready(self):
        from django.db.models.signals import post_delete, post_save

        from masthead.access import entitlements

        from . import checks  # noqa: F401 - registers the system checks
        from .fetch import entitlement_for_request, entitlements_key, forget_entitlements
        from .models import Subscription

        # The access rules ask this app what a signed-in reader's subscription is.
        entitlements.provide(entitlement_for_request, cache_key=entitlements_key)

        for signal in (post_save, post_delete):
            signal.connect(
                forget_entitlements, sender=Subscription, dispatch_uid=f"entitlements-{id(signal)}"
            )
