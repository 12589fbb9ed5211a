"""The default meter store: the site's own database (SQLite or PostgreSQL)."""

from datetime import datetime

from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone

from masthead.access.models import MeterEntry, MeterReader, NetworkCounter
from masthead.access.networks import Take
from masthead.access.periods import MeterWindow
from masthead.access.policy import MeterResult

from .base import MeterStoreBase


class MeterStore(MeterStoreBase):
    def consume(self, *, reader_key, article_id, allowance, window, now) -> MeterResult:
        # Most requests are answered without a lock: a read counted in this window stays
        # counted, and the count only grows, so "already counted" and "used up" are final.
        answer = self._settled(self._reads(reader_key, window), article_id, allowance)
        if answer is not None:
            return answer
        with transaction.atomic():
            _no_wait_for_disk()
            # The lock row makes count-then-insert safe: a reader's concurrent requests
            # queue here (SELECT ... FOR UPDATE; SQLite's write lock), so the last free
            # article can be spent only once.
            MeterReader.objects.bulk_create([MeterReader(key=reader_key)], ignore_conflicts=True)
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
        with transaction.atomic():
            _no_wait_for_disk()
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
                    transaction.set_rollback(True)  # all or nothing
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
        MeterReader.objects.get_or_create(key=into_key)
        with transaction.atomic():
            MeterReader.objects.select_for_update().get(key=into_key)
            for entry in MeterEntry.objects.filter(reader_key=from_key, read_at__gte=window.start):
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
        deleted, _ = MeterEntry.objects.filter(read_at__lt=before).delete()
        MeterReader.objects.exclude(
            key__in=MeterEntry.objects.values("reader_key").distinct()
        ).delete()
        NetworkCounter.objects.filter(expires_at__lte=timezone.now()).delete()
        return deleted

    def clear(self) -> None:
        MeterEntry.objects.all().delete()
        MeterReader.objects.all().delete()
        NetworkCounter.objects.all().delete()


def _no_wait_for_disk() -> None:
    """On PostgreSQL, this transaction's commit does not wait for its WAL to reach the disk
    (synchronous_commit off, for this transaction only): the commit stays atomic and in
    order, but a crash of the database server can lose the last fraction of a second of
    meter reads, which then count again. Waiting for the disk on every article a reader
    opens would cap the whole site at the disk's flush rate."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL synchronous_commit TO OFF")
