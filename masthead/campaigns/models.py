"""Campaign snippets edited in Wagtail's admin. Whether one is live is decided by the pure
``windows.is_active``; what the site shows is assembled in ``fetch.py``."""

from datetime import datetime, timedelta

from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db import models
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from wagtail.admin.panels import FieldPanel, FieldRowPanel

_absolute_url = URLValidator(schemes=["http", "https"])


def validate_link(value: str) -> None:
    """A site-relative path ("/series/") or an http(s) URL; nothing a browser would run."""
    if value.startswith("/") and not value.startswith("//") and "\\" not in value:
        return
    try:
        _absolute_url(value)
    except ValidationError:
        raise ValidationError(
            _("Enter a path on this site such as /series/, or a full http(s) address."),
            code="invalid_link",
        ) from None


def _check_window(starts_at: datetime | None, ends_at: datetime | None) -> None:
    if starts_at and ends_at and ends_at <= starts_at:
        raise ValidationError({"ends_at": _("The end must be after the start.")})


def free_access_banner_text(starts_at: datetime, ends_at: datetime) -> str:
    """ "Free access for everyone — 30 September", dated in the site's time zone.

    ``ends_at`` is exclusive, so a window ending at midnight covers the day before it only.
    The year is shown only when the window crosses into a new year.
    """
    tz = timezone.get_default_timezone()
    first = timezone.localtime(starts_at, tz).date()
    last = timezone.localtime(ends_at - timedelta(microseconds=1), tz).date()
    day_format = "j F" if first.year == last.year else "j F Y"
    if first >= last:
        dates = date_format(first, day_format)
    else:
        dates = gettext("%(first)s to %(last)s") % {
            "first": date_format(first, day_format),
            "last": date_format(last, day_format),
        }
    return gettext("Free access for everyone — %(dates)s") % {"dates": dates}


class Banner(models.Model):
    """A site-wide message such as a rebrand announcement, shown during its window."""

    class Kind(models.TextChoices):
        ANNOUNCEMENT = "announcement", _("Announcement")
        NOTICE = "notice", _("Notice")

    text = models.CharField(max_length=200)
    link_url = models.CharField(
        _("link"),
        max_length=500,
        blank=True,
        validators=[validate_link],
        help_text=_("A path on this site such as /series/, or a full https:// address."),
    )
    link_text = models.CharField(
        max_length=80,
        blank=True,
        help_text=_("The words of the link. Leave empty to make the whole text the link."),
    )
    starts_at = models.DateTimeField(_("starts"))
    ends_at = models.DateTimeField(_("ends"), help_text=_("The banner disappears at this time."))
    kind = models.CharField(max_length=20, choices=Kind.choices, default=Kind.ANNOUNCEMENT)
    priority = models.IntegerField(default=0, help_text=_("Higher numbers are shown first."))

    panels = [
        FieldPanel("text"),
        FieldRowPanel([FieldPanel("link_url"), FieldPanel("link_text")]),
        FieldRowPanel([FieldPanel("starts_at"), FieldPanel("ends_at")]),
        FieldRowPanel([FieldPanel("kind"), FieldPanel("priority")]),
    ]

    class Meta:
        ordering = ["-priority", "starts_at", "pk"]
        indexes = [models.Index(fields=["ends_at", "starts_at"])]

    def __str__(self):
        return self.text

    def clean(self):
        _check_window(self.starts_at, self.ends_at)
        if self.link_text and not self.link_url:
            raise ValidationError({"link_url": _("Add the link that goes with the link text.")})


class FreeAccessWindow(models.Model):
    """A period when the meter is off, such as a free-access day.

    ``scope`` is the extension point for narrower campaigns (one section, one series): today
    the only choice is every article, and the access decision treats an active window as
    "full access for everyone". A new scope needs a new choice here and a matching rule in
    the access policy.
    """

    class Scope(models.TextChoices):
        ALL = "all", _("Every article")

    title = models.CharField(max_length=120, help_text=_("For editors; readers do not see it."))
    starts_at = models.DateTimeField(_("starts"))
    ends_at = models.DateTimeField(_("ends"), help_text=_("Metering resumes at this time."))
    banner_text = models.CharField(
        max_length=200,
        blank=True,
        help_text=_(
            "Leave empty for “Free access for everyone — <dates>”, dated in the site's time zone."
        ),
    )
    scope = models.CharField(max_length=20, choices=Scope.choices, default=Scope.ALL)

    panels = [
        FieldPanel("title"),
        FieldRowPanel([FieldPanel("starts_at"), FieldPanel("ends_at")]),
        FieldPanel("banner_text"),
        FieldPanel("scope"),
    ]

    class Meta:
        ordering = ["-starts_at", "-pk"]
        indexes = [models.Index(fields=["ends_at", "starts_at"])]
        verbose_name = _("free-access window")

    def __str__(self):
        return self.title

    def clean(self):
        _check_window(self.starts_at, self.ends_at)

    @property
    def banner_message(self) -> str:
        """What readers see: the editor's words, or the dates of the window."""
        return self.banner_text or free_access_banner_text(self.starts_at, self.ends_at)
