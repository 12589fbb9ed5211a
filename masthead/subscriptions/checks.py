"""A Stripe set-up without its keys fails at start-up, not on a reader's first payment; a
deployment that would take test payments fails `check --deploy`."""

from django.conf import settings
from django.core.checks import Error, Tags, register


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


TEST_PROVIDERS = ("test", "masthead.subscriptions.payments.test_provider")


@register(Tags.security, deploy=True)
def check_live_payments(app_configs, **kwargs):
    """A deployment takes real money, unless MASTHEAD_DEMO says it is a demo. Production
    settings already refuse to start with the test provider; this names it for any settings."""
    if settings.MASTHEAD_DEMO:
        return []
    errors = []
    if settings.MASTHEAD_PAYMENT_PROVIDER in TEST_PROVIDERS:
        errors.append(
            Error(
                "MASTHEAD_PAYMENT_PROVIDER is the offline test provider: test card 4242… "
                "buys a subscription.",
                hint="Set MASTHEAD_PAYMENT_PROVIDER=stripe (or MASTHEAD_DEMO=true for a demo).",
                id="masthead.E022",
            )
        )
    if settings.STRIPE_SECRET_KEY.startswith(("sk_test_", "rk_test_")):
        errors.append(
            Error(
                "STRIPE_SECRET_KEY is a test-mode key: Stripe's test cards pay, and no real "
                "payment is taken.",
                hint="Use the live secret key (sk_live_…) and its webhook's signing secret (or "
                "MASTHEAD_DEMO=true for a demo).",
                id="masthead.E023",
            )
        )
    return errors
