"""A Stripe set-up without its keys fails at start-up, not on a reader's first payment."""

from django.conf import settings
from django.core.checks import Error, register


@register()
def check_stripe_settings(app_configs, **kwargs):
    if settings.MASTHEAD_PAYMENT_PROVIDER != "stripe":
        return []
    errors = []
    if not settings.STRIPE_SECRET_KEY:
        errors.append(
            Error(
                "MASTHEAD_PAYMENT_PROVIDER is stripe but STRIPE_SECRET_KEY is not set.",
                hint="Set STRIPE_SECRET_KEY to the account's secret key (sk_live_… or sk_test_…).",
                id="masthead.E020",
            )
        )
    if not settings.STRIPE_WEBHOOK_SECRET:
        errors.append(
            Error(
                "MASTHEAD_PAYMENT_PROVIDER is stripe but STRIPE_WEBHOOK_SECRET is not set.",
                hint="Set STRIPE_WEBHOOK_SECRET to the signing secret (whsec_…) of the "
                "endpoint for /subscribe/stripe/webhook/.",
                id="masthead.E021",
            )
        )
    return errors
