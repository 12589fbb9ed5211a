from django.conf import settings
from django.db import models


class SentNotice(models.Model):
    """One e-mail sent to a reader (queued at `sent_at`; the mail queue's worker delivers
    it). The unique (kind, key) is what makes each notice go out once: a run inserts the row
    and queues the mail in one transaction, so a second run racing it fails on the
    constraint instead of queueing again, and a failure to queue rolls the row back so the
    next run retries."""

    class Kind(models.TextChoices):
        RECEIPT = "receipt"
        PAYMENT_FAILED = "payment_failed"
        TRIAL_ENDING = "trial_ending"
        ACCESS_EXPIRED = "access_expired"

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="sent_notices"
    )
    kind = models.CharField(max_length=20, choices=Kind.choices)
    key = models.CharField(
        max_length=100, help_text="What the notice is about, e.g. a payment's id; see outbox.py."
    )
    sent_at = models.DateTimeField()

    class Meta:
        ordering = ["-sent_at", "-pk"]
        constraints = [
            models.UniqueConstraint(fields=["kind", "key"], name="notices_one_per_kind_and_key")
        ]

    def __str__(self):
        return f"{self.kind} {self.key} to {self.user}"
