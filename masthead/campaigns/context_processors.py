from django.utils.functional import SimpleLazyObject

from masthead.core import clock

from .fetch import current_campaigns


def campaigns(request):
    """The live banners and free-access window, fetched only if a template uses them.

    Both values are lazy proxies over one shared fetch, so use them for truth and iteration
    (``{% if free_access_window %}``), not ``is None``.
    """
    fetched = SimpleLazyObject(lambda: _campaigns(request))
    return {
        "campaign_banners": SimpleLazyObject(lambda: fetched.banners),
        "free_access_window": SimpleLazyObject(lambda: fetched.free_access),
    }


def _campaigns(request):
    # The reader context's answer (masthead.access.context), so the banners agree with the
    # access decision of the same request; a request without one asks at this instant.
    context = getattr(request, "reader_context", None)
    if context is not None:
        return context.campaigns
    return current_campaigns(clock.now(), request)
