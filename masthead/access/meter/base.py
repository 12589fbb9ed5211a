from datetime import datetime

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
        new_reader: bool = False,
    ) -> MeterResult:
        """Count `article_id` for the reader unless it was counted in `window` already or the
        allowance is used up; report which happened and how many are used.

        new_reader=True promises that `reader_key` was made up while handling this request
        (a reader without a cookie): nobody else can know it yet, so it has read nothing and
        no other request can count for it at the same time. A store may skip its reads and
        locks then; it must still record the read."""
        raise NotImplementedError("subclasses of MeterStoreBase must provide a consume() method")

    def merge(self, *, from_key: str, into_key: str, window: MeterWindow) -> None:
        """Carry what one reader key read in `window` over to another (sign-in)."""
        raise NotImplementedError("subclasses of MeterStoreBase must provide a merge() method")

    def purge(self, *, before: datetime) -> int:
        """Forget reads older than `before`; return how many were removed (if known)."""
        raise NotImplementedError("subclasses of MeterStoreBase must provide a purge() method")

    def clear(self) -> None:
        """Forget everything (tests and the demo reset)."""
        raise NotImplementedError("subclasses of MeterStoreBase must provide a clear() method")
