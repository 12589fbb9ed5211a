"""The default meter store: the site's own database (SQLite or PostgreSQL)."""

from datetime import datetime

from django.db import transaction

from masthead.access.models import MeterEntry, MeterReader
from masthead.access.periods import MeterWindow
from masthead.access.policy import MeterResult

from .base import MeterStoreBase


class MeterStore(MeterStoreBase):
    def consume(self, *, reader_key, article_id, allowance, window, now) -> MeterResult:
        MeterReader.objects.get_or_create(key=reader_key)
        with transaction.atomic():
            # The lock row makes count-then-insert safe: a reader's concurrent requests
            # queue here, so "one left" can be spent only once.
            MeterReader.objects.select_for_update().get(key=reader_key)
            in_window = MeterEntry.objects.filter(reader_key=reader_key, read_at__gte=window.start)
            used = in_window.count()
            if in_window.filter(article_id=article_id).exists():
                return MeterResult(allowance=allowance, used=used, already_counted=True)
            if used >= allowance:
                return MeterResult(allowance=allowance, used=used)
            MeterEntry.objects.update_or_create(
                reader_key=reader_key, article_id=article_id, defaults={"read_at": now}
            )
            return MeterResult(allowance=allowance, used=used + 1, admitted=True)

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
