from django.utils.functional import SimpleLazyObject

from masthead.core import clock

from .fetch import campaigns_for_request


def campaigns(request):
    """The live banners and free-access window, fetched only if a template uses them.

    Both values are lazy proxies over one shared fetch, so use them for truth and iteration
    (``{% if free_access_window %}``), not ``is None``.
    """
    fetched = SimpleLazyObject(lambda: campaigns_for_request(request, clock.now()))
    return {
        "campaign_banners": SimpleLazyObject(lambda: fetched.banners),
        "free_access_window": SimpleLazyObject(lambda: fetched.free_access),
    }
