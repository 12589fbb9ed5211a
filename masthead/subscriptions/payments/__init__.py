"""Payments behind one provider interface. ``get_provider()`` returns the provider named by
``settings.MASTHEAD_PAYMENT_PROVIDER`` ("test" offline, or "stripe")."""

from .interface import (
    PaymentDeclined,
    PaymentProvider,
    ProviderUnavailable,
    checkout_key,
    get_provider,
    provider_for,
)

__all__ = [
    "PaymentDeclined",
    "PaymentProvider",
    "ProviderUnavailable",
    "checkout_key",
    "get_provider",
    "provider_for",
]
