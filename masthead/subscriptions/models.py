import uuid

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator, RegexValidator
from django.db import models
from django.db.models import Q
from wagtail.admin.panels import FieldPanel, FieldRowPanel, MultiFieldPanel

from masthead.access.policy import Status

from .offers import Eligibility, Interval, Money, OfferTerms, PlanTerms


class Plan(models.Model):
    name = models.CharField(max_length=80)
    slug = models.SlugField(unique=True)
    price = models.DecimalField(max_digits=10, decimal_places=2, validators=[MinValueValidator(0)])
    currency = models.CharField(
        max_length=3,
        default="USD",
        validators=[RegexValidator(r"^[A-Z]{3}$", "An ISO 4217 code in capitals, e.g. USD.")],
        help_text="ISO 4217 code, e.g. USD, EUR, JPY.",
    )
    interval = models.CharField(
        max_length=5, choices=[(i.value, i.value.capitalize()) for i in Interval]
    )
    web = models.BooleanField("read on the web", default=True)
    apps = models.BooleanField("read in the apps", default=True)
    active = models.BooleanField(default=True)

    panels = [
        FieldPanel("name"),
        FieldPanel("slug"),
        FieldRowPanel([FieldPanel("price"), FieldPanel("currency"), FieldPanel("interval")]),
        MultiFieldPanel([FieldPanel("web"), FieldPanel("apps")], heading="Entitlements"),
        FieldPanel("active"),
    ]

    class Meta:
        ordering = ["price", "name"]

    def __str__(self):
        return f"{self.name} ({self.terms().price} a {self.interval})"

    def terms(self) -> PlanTerms:
        return PlanTerms(
            price=Money(self.price, self.currency),
            interval=Interval(self.interval),
            name=self.name,
            web=self.web,
            apps=self.apps,
        )


class Offer(models.Model):
    plan = models.ForeignKey(Plan, on_delete=models.PROTECT, related_name="offers")
    name = models.CharField(max_length=80, help_text="For the newsroom; readers see the headline.")
    intro_price = models.DecimalField(
        max_digits=10,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(0)],
        help_text="The price of the whole intro span, in the plan's currency.",
    )
    intro_periods = models.PositiveIntegerField(
        null=True, blank=True, validators=[MinValueValidator(1)]
    )
    trial_days = models.PositiveIntegerField(
        null=True, blank=True, validators=[MinValueValidator(1)]
    )
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    eligibility = models.CharField(
        max_length=8,
        choices=[
            (Eligibility.NEW.value, "New readers"),
            (Eligibility.LAPSED.value, "Lapsed readers"),
            (Eligibility.EVERYONE.value, "Everyone"),
        ],
        default=Eligibility.EVERYONE.value,
    )
    paywall_position = models.PositiveSmallIntegerField(
        "position in the paywall",
        null=True,
        blank=True,
        validators=[MinValueValidator(1)],
        help_text="Where the paywall panel under a story shows this offer: 1 first, then 2, "
        "3 and so on. Each reader sees the first three they may take (new or lapsed, one trial "
        "per reader). Leave empty to keep the offer out of the paywall; the offers page lists "
        "it either way.",
    )
    active = models.BooleanField(default=True)

    panels = [
        FieldPanel("plan"),
        FieldPanel("name"),
        MultiFieldPanel(
            [
                FieldRowPanel([FieldPanel("intro_price"), FieldPanel("intro_periods")]),
                FieldPanel("trial_days"),
            ],
            heading="Either an intro price for N periods, or free trial days",
        ),
        FieldRowPanel([FieldPanel("starts_at"), FieldPanel("ends_at")]),
        FieldPanel("eligibility"),
        FieldPanel("paywall_position"),
        FieldPanel("active"),
    ]

    class Meta:
        ordering = ["ends_at", "pk"]

    def __str__(self):
        return self.name

    def clean(self):
        super().clean()
        intro = self.intro_price is not None or self.intro_periods is not None
        trial = self.trial_days is not None
        if intro and trial:
            raise ValidationError("Choose an intro price or free trial days, not both.")
        if not intro and not trial:
            raise ValidationError("Give an intro price for N periods, or free trial days.")
        if intro and self.intro_price is None:
            raise ValidationError({"intro_price": "An intro offer needs a price."})
        if intro and self.intro_periods is None:
            raise ValidationError({"intro_periods": "An intro offer needs a number of periods."})
        if self.starts_at and self.ends_at and self.ends_at <= self.starts_at:
            raise ValidationError({"ends_at": "The offer must end after it starts."})

    def terms(self) -> OfferTerms:
        currency = self.plan.currency
        return OfferTerms(
            key=str(self.pk),
            starts_at=self.starts_at,
            ends_at=self.ends_at,
            eligibility=Eligibility(self.eligibility),
            intro_price=None if self.intro_price is None else Money(self.intro_price, currency),
            intro_periods=self.intro_periods,
            trial_days=self.trial_days,
            paywall_position=self.paywall_position,
        )


class Subscription(models.Model):
    """One subscription of a reader; a reader has many over time (a trial, then a paid one,
    then a comeback). Change it only through `actions`, which write the ledger."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="subscriptions"
    )
    plan = models.ForeignKey(Plan, on_delete=models.PROTECT, related_name="subscriptions")
    offer = models.ForeignKey(
        Offer, on_delete=models.PROTECT, null=True, blank=True, related_name="subscriptions"
    )
    status = models.CharField(max_length=10, choices=[(s.value, s.value) for s in Status])
    current_period_end = models.DateTimeField()
    trial_end = models.DateTimeField(null=True, blank=True)
    cancel_at_period_end = models.BooleanField(default=False)
    activated_at = models.DateTimeField(
        null=True, blank=True, help_text="First payment; empty while only a trial has run."
    )
    created = models.DateTimeField(auto_now_add=True)
    updated = models.DateTimeField(auto_now=True)
    # Where it is billed: empty for trials and the test provider; "stripe" with Stripe's ids.
    provider = models.CharField(max_length=20, blank=True, default="")
    provider_customer_id = models.CharField(max_length=255, blank=True, default="")
    provider_subscription_id = models.CharField(max_length=255, blank=True, default="")

    class Meta:
        ordering = ["-created", "-pk"]
        constraints = [
            # One trial per reader, enforced by the database so two racing requests get one.
            models.UniqueConstraint(
                fields=["user"],
                condition=Q(trial_end__isnull=False),
                name="subscriptions_one_trial_per_reader",
            ),
            # One of ours per provider subscription, so racing webhooks create one.
            models.UniqueConstraint(
                fields=["provider", "provider_subscription_id"],
                condition=~Q(provider_subscription_id=""),
                name="subscriptions_one_per_provider_subscription",
            ),
        ]

    def __str__(self):
        return f"{self.user} · {self.plan.name} · {self.status}"


class AppendOnlyError(Exception):
    """The ledger is history: rows are added, never changed or removed."""


class LedgerQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise AppendOnlyError("subscription events cannot be updated")

    def delete(self):
        raise AppendOnlyError("subscription events cannot be deleted")


class SubscriptionEvent(models.Model):
    """Append-only ledger of every change to a subscription, so a reader's history can be
    replayed and audited. save() refuses to change an existing row and delete() refuses
    outright (and so do the queryset's update() and delete()); the foreign key is PROTECT,
    so a subscription with history cannot be deleted either. Raw SQL can still do anything:
    this guards against mistakes, not against the database owner."""

    class Kind(models.TextChoices):
        TRIAL_STARTED = "trial_started"
        STARTED = "started"
        ACTIVATED = "activated"
        RENEWED = "renewed"
        PAST_DUE = "past_due"
        CANCELED = "canceled"
        RESUMED = "resumed"
        EXPIRED = "expired"
        RESTORED = "restored"

    subscription = models.ForeignKey(Subscription, on_delete=models.PROTECT, related_name="events")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    at = models.DateTimeField()
    data = models.JSONField(default=dict, blank=True)

    objects = LedgerQuerySet.as_manager()

    class Meta:
        ordering = ["at", "pk"]

    def __str__(self):
        return f"{self.kind} at {self.at:%Y-%m-%d %H:%M}"

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise AppendOnlyError("subscription events cannot be updated")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise AppendOnlyError("subscription events cannot be deleted")


class Checkout(models.Model):
    """A reader's attempt to buy a plan, at full price or through one of its offers. The
    price is copied here from the catalogue when the checkout is created, so nothing the
    reader's browser sends can change it. One row per idempotency key (unique): a
    double-clicked Subscribe finds the same checkout. ``next_path`` is the page of this
    site the reader was on (a story), checked before it is stored, for the thank-you page
    to lead back to."""

    class State(models.TextChoices):
        OPEN = "open"
        PAID = "paid"

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    provider = models.CharField(max_length=20)
    idempotency_key = models.CharField(max_length=120, unique=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="checkouts"
    )
    offer = models.ForeignKey(
        Offer, on_delete=models.PROTECT, null=True, blank=True, related_name="checkouts"
    )
    plan = models.ForeignKey(Plan, on_delete=models.PROTECT, related_name="checkouts")
    amount = models.DecimalField(max_digits=10, decimal_places=2)
    currency = models.CharField(max_length=3)
    state = models.CharField(max_length=4, choices=State.choices, default=State.OPEN)
    subscription = models.ForeignKey(
        Subscription, on_delete=models.PROTECT, null=True, blank=True, related_name="checkouts"
    )
    created = models.DateTimeField()
    # The provider's hosted checkout (a Stripe Checkout Session), when it has one.
    provider_session_id = models.CharField(max_length=255, blank=True, default="")
    provider_url = models.URLField(max_length=1000, blank=True, default="")
    next_path = models.CharField(max_length=500, blank=True, default="")

    class Meta:
        ordering = ["-created", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["provider", "provider_session_id"],
                condition=~Q(provider_session_id=""),
                name="subscriptions_one_checkout_per_provider_session",
            )
        ]

    def __str__(self):
        return f"{self.user} · {self.offer or self.plan} · {self.state}"


class PaymentLedgerQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise AppendOnlyError("payment events cannot be updated")

    def delete(self):
        raise AppendOnlyError("payment events cannot be deleted")


class PaymentEvent(models.Model):
    """Append-only ledger of every payment attempt, success or not, as the provider reported
    it. Declined attempts are kept too: they are part of an account's audit trail. Guarded
    like `SubscriptionEvent`."""

    class Kind(models.TextChoices):
        CHARGE_SUCCEEDED = "charge_succeeded"
        CHARGE_DECLINED = "charge_declined"
        RENEWAL_PAID = "renewal_paid"
        RENEWAL_FAILED = "renewal_failed"
        REFUNDED = "refunded"
        DISPUTED = "disputed"
        DISPUTE_WON = "dispute_won"
        DISPUTE_LOST = "dispute_lost"

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="payment_events"
    )
    subscription = models.ForeignKey(
        Subscription,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="payment_events",
    )
    checkout = models.ForeignKey(
        Checkout, on_delete=models.PROTECT, null=True, blank=True, related_name="payment_events"
    )
    provider = models.CharField(max_length=20)
    kind = models.CharField(max_length=20, choices=Kind.choices)
    amount = models.DecimalField(max_digits=10, decimal_places=2)
    currency = models.CharField(max_length=3)
    at = models.DateTimeField()
    data = models.JSONField(default=dict, blank=True)

    objects = PaymentLedgerQuerySet.as_manager()

    class Meta:
        ordering = ["at", "pk"]

    def __str__(self):
        return f"{self.kind} {self.amount} {self.currency} at {self.at:%Y-%m-%d %H:%M}"

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise AppendOnlyError("payment events cannot be updated")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise AppendOnlyError("payment events cannot be deleted")


class ProviderEvent(models.Model):
    """Every verified webhook a payment provider sent, by its id. The unique constraint is
    what makes processing happen once: the row is inserted in the same transaction that
    applies the event, so a duplicate delivery (even a concurrent one) finds it and does
    nothing, and an event whose processing failed leaves no row and is retried."""

    provider = models.CharField(max_length=20)
    event_id = models.CharField(max_length=255)
    type = models.CharField(max_length=100)
    received_at = models.DateTimeField()
    payload = models.JSONField(default=dict)

    class Meta:
        ordering = ["received_at", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["provider", "event_id"], name="subscriptions_provider_event_once"
            )
        ]

    def __str__(self):
        return f"{self.provider} {self.type} {self.event_id}"
