"""The default meter store: the site's own database (SQLite or PostgreSQL)."""

import contextlib
import functools
from datetime import datetime

from django.db import DatabaseError, connection, transaction

from masthead.access.models import MeterEntry, MeterReader
from masthead.access.periods import MeterWindow
from masthead.access.policy import MeterResult

from .base import MeterStoreBase


class MeterStore(MeterStoreBase):
    def consume(
        self, *, reader_key, article_id, allowance, window, now, new_reader=False
    ) -> MeterResult:
        if new_reader:
            # No reads to look at and nobody to race (MeterStoreBase.consume): one insert.
            if allowance < 1:
                return MeterResult(allowance=allowance, used=0)
            _count_new_reader(reader_key, article_id, now)
            return MeterResult(allowance=allowance, used=1, admitted=True)
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
        return deleted

    def clear(self) -> None:
        MeterEntry.objects.all().delete()
        MeterReader.objects.all().delete()


def _no_wait_for_disk() -> None:
    """On PostgreSQL, this transaction's commit does not wait for its WAL to reach the disk
    (synchronous_commit off, for this transaction only): the commit stays atomic and in
    order, but a crash of the database server can lose the last fraction of a second of
    meter reads, which then count again. Waiting for the disk on every article a reader
    opens would cap the whole site at the disk's flush rate."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(_NO_WAIT_FOR_DISK)


_NO_WAIT_FOR_DISK = "SET LOCAL synchronous_commit TO OFF"


def _count_new_reader(reader_key: str, article_id: int, now: datetime) -> None:
    """A new reader's first read: on PostgreSQL outside any transaction, the transaction,
    its no-wait commit and the insert go as one query string, one round trip instead of
    four (BEGIN, SET LOCAL, INSERT, COMMIT) on the busiest write of the site. Elsewhere (SQLite,
    inside a caller's transaction, server-side binding, which allows one statement per
    query) the same through the ORM."""
    if (
        connection.vendor != "postgresql"
        or not connection.get_autocommit()
        or connection.settings_dict["OPTIONS"].get("server_side_binding")
    ):
        with transaction.atomic():
            _no_wait_for_disk()
            MeterEntry.objects.create(reader_key=reader_key, article_id=article_id, read_at=now)
        return
    with connection.cursor() as cursor:
        try:
            cursor.execute(_new_reader_sql(), [reader_key, article_id, now])
        except DatabaseError:
            # The failed insert left the session inside the aborted transaction.
            with contextlib.suppress(DatabaseError):
                cursor.execute("ROLLBACK")
            raise


@functools.cache  # the same string for every new reader (PostgreSQL's quoting)
def _new_reader_sql() -> str:
    meta, quote = MeterEntry._meta, connection.ops.quote_name
    columns = ", ".join(
        quote(meta.get_field(name).column) for name in ("reader_key", "article_id", "read_at")
    )
    # Names from the model's metadata; the values go as parameters.
    insert = f"INSERT INTO {quote(meta.db_table)} ({columns}) VALUES (%s, %s, %s)"  # noqa: S608
    return f"BEGIN; {_NO_WAIT_FOR_DISK}; {insert}; COMMIT"
