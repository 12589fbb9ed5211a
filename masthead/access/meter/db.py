"""The default meter store: the site's own database (SQLite or PostgreSQL).

Plain ORM calls; where they run is the router's choice (masthead.access.meter.router: the
"meter" alias on PostgreSQL, whose commits do not wait for the disk), and every transaction
is opened on that same alias. A database error is MeterUnavailable, so the gate fails
closed as it does when Redis is down."""

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime

from django.db import InterfaceError, OperationalError, router, transaction
from django.db.models import F

from masthead.access.models import MeterEntry, MeterReader, NetworkCounter
from masthead.access.networks import Take
from masthead.access.periods import MeterWindow
from masthead.access.policy import MeterResult
from masthead.core import clock

from .base import MeterStoreBase, MeterUnavailable


class MeterStore(MeterStoreBase):
    @property
    def database(self) -> str:
        """The alias the meter's rows are written to (and read from: the router sends both)."""
        return router.db_for_write(MeterEntry)

    def consume(self, *, reader_key, article_id, allowance, window, now) -> MeterResult:
        with _reported():
            # Most requests are answered without a lock: a read counted in this window stays
            # counted, and the count only grows, so "already counted" and "used up" are final.
            answer = self._settled(self._reads(reader_key, window), article_id, allowance)
            if answer is not None:
                return answer
            with transaction.atomic(using=self.database):
                # The lock row makes count-then-insert safe: a reader's concurrent requests
                # queue here (SELECT ... FOR UPDATE; SQLite's write lock), so the last free
                # article can be spent only once.
                MeterReader.objects.bulk_create(
                    [MeterReader(key=reader_key)], ignore_conflicts=True
                )
                MeterReader.objects.select_for_update().filter(key=reader_key).exists()
                reads = self._reads(reader_key, window)
                answer = self._settled(reads, article_id, allowance)
                if answer is not None:
                    return answer
                MeterEntry.objects.bulk_create(
                    [MeterEntry(reader_key=reader_key, article_id=article_id, read_at=now)],
                    update_conflicts=True,
                    unique_fields=["reader_key", "article_id"],
                    update_fields=["read_at"],
                )
                return MeterResult(allowance=allowance, used=len(reads) + 1, admitted=True)

    def take(self, takes) -> Take | None:
        if not takes:
            return None
        with _reported(), transaction.atomic(using=self.database):
            NetworkCounter.objects.bulk_create(
                [
                    NetworkCounter(key=t.counter.key, count=0, expires_at=t.counter.expires)
                    for t in takes
                ],
                ignore_conflicts=True,
            )
            for take in takes:
                # A conditional UPDATE is the check and the count in one statement: with one
                # place left, concurrent requests cannot both take it.
                taken = NetworkCounter.objects.filter(
                    key=take.counter.key, count__lte=take.counter.limit - take.amount
                ).update(count=F("count") + take.amount)
                if not taken:
                    transaction.set_rollback(True, using=self.database)  # all or nothing
                    return take
        return None

    @staticmethod
    def _reads(reader_key: str, window: MeterWindow) -> list[int]:
        return list(
            MeterEntry.objects.filter(reader_key=reader_key, read_at__gte=window.start).values_list(
                "article_id", flat=True
            )
        )

    @staticmethod
    def _settled(reads: list[int], article_id: int, allowance: int) -> MeterResult | None:
        if article_id in reads:
            return MeterResult(allowance=allowance, used=len(reads), already_counted=True)
        if len(reads) >= allowance:
            return MeterResult(allowance=allowance, used=len(reads))
        return None

    def merge(self, *, from_key, into_key, window: MeterWindow) -> None:
        if from_key == into_key:
            return
        with _reported():
            MeterReader.objects.get_or_create(key=into_key)
            with transaction.atomic(using=self.database):
                MeterReader.objects.select_for_update().get(key=into_key)
                for entry in MeterEntry.objects.filter(
                    reader_key=from_key, read_at__gte=window.start
                ):
                    existing = MeterEntry.objects.filter(
                        reader_key=into_key, article_id=entry.article_id
                    ).first()
                    if existing is None:
                        MeterEntry.objects.create(
                            reader_key=into_key, article_id=entry.article_id, read_at=entry.read_at
                        )
                    elif existing.read_at < entry.read_at:
                        existing.read_at = entry.read_at
                        existing.save(update_fields=["read_at"])
                MeterEntry.objects.filter(reader_key=from_key).delete()

    def purge(self, *, before: datetime) -> int:
        with _reported():
            deleted, _ = MeterEntry.objects.filter(read_at__lt=before).delete()
            MeterReader.objects.exclude(
                key__in=MeterEntry.objects.values("reader_key").distinct()
            ).delete()
            NetworkCounter.objects.filter(expires_at__lte=clock.now()).delete()
        return deleted

    def clear(self) -> None:
        with _reported():
            MeterEntry.objects.all().delete()
            MeterReader.objects.all().delete()
            NetworkCounter.objects.all().delete()


@contextmanager
def _reported() -> Iterator[None]:
    """A database that cannot answer (gone, out of connections, a lock wait that timed out)
    is the store being unavailable: the caller fails closed, as it does when Redis is down.
    Other database errors are bugs and stay what they are."""
    try:
        yield
    except (OperationalError, InterfaceError) as error:
        raise MeterUnavailable(str(error)) from error
