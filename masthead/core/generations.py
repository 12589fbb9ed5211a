"""Generation tokens: a random token in the shared cache that names the current version of a
family of cached values. Their keys carry it, so changing the token forgets them all at once,
in every process, and a value found under a key can never be stale.

- PAGES: what readers see on pages (articles, their routes, the meter settings, the paywall
  panel), changed on every publish and on edits of what pages show of other objects.
- CAMPAIGNS: banners and free-access windows (masthead.campaigns.fetch).

A request reads every token it may need in one round trip and keeps them for its whole
length (``current(name, request)``), so what it serves is consistent. None means the cache
cannot answer: then nothing is cached and everything comes from the database.
"""

import logging
import uuid

from django.core.cache import cache
from django.db import transaction

log = logging.getLogger(__name__)

PAGES = "masthead:pages:generation"
CAMPAIGNS = "masthead:campaigns:generation"
ALL = (PAGES, CAMPAIGNS)
_REQUEST_ATTRIBUTE = "_masthead_generations"


def current(name: str, request=None) -> str | None:
    if request is None:
        return _read((name,)).get(name)
    tokens = request.__dict__.get(_REQUEST_ATTRIBUTE)
    if tokens is None:
        tokens = _read(ALL)
        setattr(request, _REQUEST_ATTRIBUTE, tokens)
    return tokens.get(name)


def _read(names) -> dict[str, str]:
    try:
        found = {name: token for name, token in cache.get_many(names).items() if token}
        missing = [name for name in names if name not in found]
        if missing:
            for name in missing:
                # add() only sets a missing key, so concurrent workers agree on one token.
                cache.add(name, uuid.uuid4().hex, None)
            found.update(cache.get_many(missing))
    except Exception:  # noqa: BLE001 - the cache is an optimisation
        log.warning("cache unavailable for generation tokens", exc_info=True)
        return {}
    return {name: token for name, token in found.items() if token}


def bump(name: str) -> None:
    """A new token: everything cached under the old one is forgotten. Never raises: it runs
    inside saves."""
    try:
        cache.set(name, uuid.uuid4().hex, None)
    except Exception:  # noqa: BLE001
        log.warning("could not change the generation %s", name, exc_info=True)


def bump_with_transaction(name: str, using: str | None = None) -> None:
    """For save and delete signals: a new token now, and again once the transaction commits,
    so a request that read the old rows between the signal and the commit cannot keep them
    cached under the new token."""
    bump(name)
    transaction.on_commit(lambda: bump(name), using=using)
