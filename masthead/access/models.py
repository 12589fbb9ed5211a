from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from wagtail.contrib.settings.models import BaseSiteSetting, register_setting

from .networks import NetworkBounds
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


class NetworkCounter(models.Model):
    """How many identity-less requests or new identities one client network had in one day
    or meter period (masthead.access.networks). The key is a keyed hash of the network and
    the bucket: no address is stored. Rows past `expires_at` are removed by purge_meter."""

    key = models.CharField(max_length=80, primary_key=True)
    count = models.PositiveIntegerField(default=0)
    expires_at = models.DateTimeField(db_index=True)

    def __str__(self):
        return f"{self.key}: {self.count}"


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
    identityless_per_day = models.PositiveIntegerField(
        "full texts per network per day without a cookie",
        default=20,
        help_text=(
            "At most this many metered articles a day go in full to requests from one client "
            "network (an IPv4 address, an IPv6 /64) that arrive without a reader cookie: "
            "clients that keep no cookies (scripts, archivers) read no more. Offices, "
            "universities and mobile carriers put many readers behind one address; only "
            "their first article each is counted here. 0 switches the bound off."
        ),
    )
    full_texts_per_network = models.PositiveIntegerField(
        "full texts per network per period for new readers",
        default=300,
        help_text=(
            "What new anonymous readers from one client network may read between them in a "
            "meter period: a new reader takes its first article here, and the rest of its "
            "allowance when its cookie comes back. Past this number, new readers from the "
            "network start with their allowance used. Readers who keep their cookie are "
            "counted once. 0 switches the bound off."
        ),
    )

    class Meta:
        verbose_name = "meter"

    def clean(self):
        super().clean()
        if 0 < self.full_texts_per_network < self.anonymous_allowance:
            raise ValidationError(
                {
                    "full_texts_per_network": (
                        "Less than one anonymous allowance: no new reader could read anything. "
                        "Raise it, or set 0 to switch the bound off."
                    )
                }
            )

    def bounds(self) -> NetworkBounds:
        return NetworkBounds(
            identityless_per_day=self.identityless_per_day,
            full_texts_per_period=self.full_texts_per_network,
        )

    def policy(self) -> MeterPolicy:
        return MeterPolicy(
            anonymous_allowance=self.anonymous_allowance,
            registered_allowance=self.registered_allowance,
            teaser_paragraphs=self.teaser_paragraphs,
        )
