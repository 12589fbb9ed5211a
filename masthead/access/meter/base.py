from collections.abc import Sequence
from datetime import datetime

from masthead.access.networks import Take
from masthead.access.periods import MeterWindow
from masthead.access.policy import MeterResult


class MeterUnavailable(Exception):
    """The store could not answer (e.g. Redis is down). Callers fail closed: teaser."""


class MeterStoreBase:
    """The contract every meter store keeps.

    consume() is the one hot-path call, and it must be atomic: with one article left, any
    number of concurrent calls for different articles admit exactly one."""

    def consume(
        self,
        *,
        reader_key: str,
        article_id: int,
        allowance: int,
        window: MeterWindow,
        now: datetime,
    ) -> MeterResult:
        """Count `article_id` for the reader unless it was counted in `window` already or the
        allowance is used up; report which happened and how many are used. `now` is when the
        read happened (a new reader's first read is recorded when its cookie comes back)."""
        raise NotImplementedError("subclasses of MeterStoreBase must provide a consume() method")

    def take(self, takes: Sequence[Take]) -> Take | None:
        """Add each take's amount to its counter (masthead.access.networks), all or nothing:
        if any counter would go over its limit nothing is counted and that take is returned;
        None when everything was taken. Atomic: with one place left, any number of
        concurrent calls get exactly one. A counter is forgotten at its `expires`."""
        raise NotImplementedError("subclasses of MeterStoreBase must provide a take() method")

    def merge(self, *, from_key: str, into_key: str, window: MeterWindow) -> None:
        """Carry what one reader key read in `window` over to another (sign-in)."""
        raise NotImplementedError("subclasses of MeterStoreBase must provide a merge() method")

    def purge(self, *, before: datetime) -> int:
        """Forget reads older than `before`; return how many were removed (if known)."""
        raise NotImplementedError("subclasses of MeterStoreBase must provide a purge() method")

    def clear(self) -> None:
        """Forget everything (tests and the demo reset)."""
        raise NotImplementedError("subclasses of MeterStoreBase must provide a clear() method")
