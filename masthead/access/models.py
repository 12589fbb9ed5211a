from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from wagtail.contrib.settings.models import BaseSiteSetting, register_setting

from .periods import PeriodKind
from .policy import MeterPolicy

PERIOD_CHOICES = [
    (PeriodKind.CALENDAR_MONTH.value, "Calendar month (resets at midnight on the 1st)"),
    (PeriodKind.ROLLING_DAYS.value, "Rolling number of days"),
]


class MeterReader(models.Model):
    """One row per reader key: the lock that serialises a reader's concurrent reads in the
    database store (SELECT ... FOR UPDATE on PostgreSQL; SQLite serialises writers)."""

    key = models.CharField(max_length=64, primary_key=True)

    def __str__(self):
        return self.key


class MeterEntry(models.Model):
    """An article a reader opened, and when it was last counted. One row per reader and
    article, so a reader's rows are bounded by what they read; old rows are purged."""

    reader_key = models.CharField(max_length=64)
    article_id = models.PositiveIntegerField()
    read_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["reader_key", "article_id"], name="meter_entry_once")
        ]
        indexes = [
            models.Index(fields=["reader_key", "read_at"]),
            models.Index(fields=["read_at"]),
        ]
        verbose_name_plural = "meter entries"

    def __str__(self):
        return f"{self.reader_key} read {self.article_id} at {self.read_at:%Y-%m-%d %H:%M}"


@register_setting(icon="time")
class MeterSettings(BaseSiteSetting):
    """The meter, edited by the business side in Settings > Meter."""

    anonymous_allowance = models.PositiveSmallIntegerField(
        default=5, validators=[MaxValueValidator(100)], help_text="Free articles per period."
    )
    registered_allowance = models.PositiveSmallIntegerField(
        default=10,
        validators=[MaxValueValidator(100)],
        help_text="For signed-in readers. Google suggests 6-10 a month for daily news sites.",
    )
    period = models.CharField(
        max_length=20, choices=PERIOD_CHOICES, default=PeriodKind.CALENDAR_MONTH
    )
    rolling_days = models.PositiveSmallIntegerField(
        default=30,
        validators=[MinValueValidator(1), MaxValueValidator(366)],
        help_text="Length of a rolling period.",
    )
    teaser_paragraphs = models.PositiveSmallIntegerField(
        default=2,
        validators=[MinValueValidator(1), MaxValueValidator(10)],
        help_text="Paragraphs shown above the paywall.",
    )

    class Meta:
        verbose_name = "meter"

    def policy(self) -> MeterPolicy:
        return MeterPolicy(
            anonymous_allowance=self.anonymous_allowance,
            registered_allowance=self.registered_allowance,
            teaser_paragraphs=self.teaser_paragraphs,
        )
