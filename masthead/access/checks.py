"""Misconfiguration of the paywall is caught at start-up, not on a reader's request."""

from django.conf import settings
from django.core.checks import Error, register
from django.utils.module_loading import import_string


@register()
def check_paywall_settings(app_configs, **kwargs):
    errors = []
    try:
        import_string(f"{settings.MASTHEAD_METER_STORE}.MeterStore")
    except ImportError:
        errors.append(
            Error(
                f"MASTHEAD_METER_STORE {settings.MASTHEAD_METER_STORE!r} has no MeterStore.",
                hint="Use masthead.access.meter.db or masthead.access.meter.redis.",
                id="masthead.E001",
            )
        )
    if settings.MASTHEAD_METER_STORE.endswith(".redis") and not (
        getattr(settings, "MASTHEAD_METER_REDIS_URL", "") or settings.REDIS_URL
    ):
        errors.append(
            Error(
                "The Redis meter store needs a Redis server.",
                hint="Set REDIS_URL (or MASTHEAD_METER_REDIS_URL).",
                id="masthead.E002",
            )
        )
    if settings.MASTHEAD_TRUSTED_PROXY_HOPS < 0:
        errors.append(
            Error(
                "MASTHEAD_TRUSTED_PROXY_HOPS cannot be negative.",
                hint="0 when clients connect directly; 1 behind one nginx.",
                id="masthead.E003",
            )
        )
    return errors
