"""Meter stores: where the count of articles each reader opened lives.

Chosen by dotted module path in settings.MASTHEAD_METER_STORE; every backend module exports
a class named MeterStore (the Django sessions pattern)."""

from functools import cache

from django.conf import settings
from django.utils.module_loading import import_string

from .base import MeterStoreBase, MeterUnavailable

__all__ = ["MeterStoreBase", "MeterUnavailable", "get_meter_store"]


@cache
def get_meter_store() -> MeterStoreBase:
    return import_string(f"{settings.MASTHEAD_METER_STORE}.MeterStore")()
