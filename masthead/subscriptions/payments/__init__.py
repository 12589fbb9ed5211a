"""Payments behind one provider interface. ``get_provider()`` returns the provider named by
``settings.MASTHEAD_PAYMENT_PROVIDER`` ("test" offline; "stripe" later)."""

from .interface import PaymentDeclined, PaymentProvider, checkout_key, get_provider

__all__ = ["PaymentDeclined", "PaymentProvider", "checkout_key", "get_provider"]
