"""Signed Stripe events from tests/fixtures/stripe, a fake Stripe account for the cases
localstripe cannot play (Checkout Sessions, Prices, the billing portal, refunds and
disputes), and a localstripe server run as a subprocess."""

import hashlib
import hmac
import json
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from datetime import datetime
from pathlib import Path
from urllib.parse import urlencode

from django.db import connection

from masthead.subscriptions.payments import stripe_api

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "stripe"
SECRET_KEY = "sk_test_masthead"
WEBHOOK_SECRET = "whsec_masthead_test"
WEBHOOK_URL = "/subscribe/stripe/webhook/"


def sign(payload: bytes, secret: str = WEBHOOK_SECRET, timestamp: int | None = None) -> str:
    """Stripe's scheme: t=<unix time>,v1=<HMAC-SHA256 of "t.payload" with the secret>."""
    timestamp = int(time.time()) if timestamp is None else timestamp
    digest = hmac.new(
        secret.encode(), f"{timestamp}.".encode() + payload, hashlib.sha256
    ).hexdigest()
    return f"t={timestamp},v1={digest}"


def _fill(value, values: dict):
    if isinstance(value, dict):
        return {key: _fill(item, values) for key, item in value.items()}
    if isinstance(value, list):
        return [_fill(item, values) for item in value]
    if isinstance(value, str) and value.startswith("{") and value.endswith("}"):
        return values.get(value[1:-1], value)
    return value


def load_event(name: str, **values) -> dict:
    """A fixture event with its "{placeholders}" filled in and a fresh id (pass event=...
    to replay one)."""
    values.setdefault("event", f"evt_{uuid.uuid4().hex[:24]}")
    event = _fill(json.loads((FIXTURES / f"{name}.json").read_text()), values)
    event["created"] = int(time.time())
    return event


def post_event(client, event: dict | bytes, *, secret=WEBHOOK_SECRET, signature=None):
    payload = event if isinstance(event, bytes) else json.dumps(event).encode()
    headers = {}
    if signature is not False:
        headers["HTTP_STRIPE_SIGNATURE"] = signature or sign(payload, secret)
    return client.post(WEBHOOK_URL, payload, content_type="application/json", **headers)


def unix(moment: datetime) -> int:
    return int(moment.timestamp())


def in_transaction() -> bool:
    """Whether the code under test opened a transaction on this thread's connection. The
    atomic blocks Django's TestCase wraps each test in are marked, and do not count."""
    return any(not block._from_testcase for block in connection.atomic_blocks)


class FakeStripe:
    """Stripe's side, as plain dicts, installed over the wrappers in ``stripe_api`` (the
    one module that talks to Stripe). Subscriptions have the current API's shape: the
    period lives on the items.

    Every wrapper it replaces notes a call made while a transaction is open on the
    calling thread's connection (the transactions a TestCase-style test runs in do not
    count): ``in_transaction`` names them, and the `fake` fixture fails a test that made
    any."""

    API = (
        "ensure_product",
        "ensure_price",
        "create_checkout_session",
        "retrieve_checkout_session",
        "retrieve_subscription",
        "cancel_subscription",
        "retrieve_invoice",
        "retrieve_charge",
        "retrieve_dispute",
        "create_portal_session",
        "set_cancel_at_period_end",
        "set_collection_paused",
    )

    def __init__(self):
        self.subscriptions: dict[str, dict] = {}
        self.invoices: dict[str, dict] = {}
        self.charges: dict[str, dict] = {}
        self.sessions: dict[str, dict] = {}
        self.session_calls: list[dict] = []
        self.prices: dict[str, dict] = {}
        self.canceled: list[str] = []
        self.disputes: dict[str, dict] = {}
        self.portals: list[dict] = []
        self.paused: dict[str, bool] = {}
        self.modify_keys: list[str | None] = []
        self.calls: list[str] = []
        self.in_transaction: list[str] = []
        self.fail_with: Exception | None = None
        self.fail_on: set[str] = set()

    def install(self, monkeypatch):
        for name in self.API:
            monkeypatch.setattr(stripe_api, name, self._watched(name), raising=False)
        return self

    def _watched(self, name):
        method = getattr(self, name)

        def call(*args, **kwargs):
            self.calls.append(name)
            if in_transaction():
                self.in_transaction.append(name)
            if name in self.fail_on:
                raise self.fail_with or stripe_api.StripeError(f"{name} failed")
            return method(*args, **kwargs)

        return call

    def subscription(
        self,
        sub_id="sub_test_1",
        *,
        period_end: datetime,
        status="active",
        customer="cus_test_1",
        checkout="",
        cancel_at_period_end=False,
        latest_invoice="in_test_first",
    ) -> dict:
        self.subscriptions[sub_id] = {
            "id": sub_id,
            "object": "subscription",
            "status": status,
            "customer": customer,
            "cancel_at_period_end": cancel_at_period_end,
            "cancel_at": None,
            "latest_invoice": latest_invoice,
            "metadata": {"checkout": checkout} if checkout else {},
            "items": {"data": [{"id": "si_1", "current_period_end": unix(period_end)}]},
        }
        self.invoice(latest_invoice, sub_id, customer=customer)
        return self.subscriptions[sub_id]

    def invoice(self, invoice_id, sub_id="sub_test_1", *, customer="cus_test_1") -> dict:
        return self.invoices.setdefault(
            invoice_id,
            {
                "id": invoice_id,
                "object": "invoice",
                "customer": customer,
                "parent": {"subscription_details": {"subscription": sub_id}},
            },
        )

    def charge(self, charge_id="ch_1", *, invoice="in_test_first", amount=99) -> dict:
        self.charges[charge_id] = {
            "id": charge_id,
            "object": "charge",
            "customer": "cus_test_1",
            "invoice": invoice,
            "amount": amount,
            "currency": "usd",
        }
        return self.charges[charge_id]

    def dispute(self, dispute_id="dp_test_1", *, charge="ch_1", status="needs_response"):
        self.disputes[dispute_id] = {
            "id": dispute_id,
            "object": "dispute",
            "charge": charge,
            "amount": 99,
            "currency": "usd",
            "status": status,
        }
        return self.disputes[dispute_id]

    def ensure_product(self, *, product_id, name):
        return product_id

    def ensure_price(self, *, lookup_key, product, unit_amount, currency, interval):
        self.prices[lookup_key] = {
            "product": product,
            "unit_amount": unit_amount,
            "currency": currency,
            "interval": interval,
        }
        return f"price_{lookup_key}"

    def create_checkout_session(self, *, idempotency_key, **params):
        self.session_calls.append({"idempotency_key": idempotency_key, **params})
        if idempotency_key not in self.sessions:
            number = len(self.sessions) + 1
            self.sessions[idempotency_key] = {
                "id": f"cs_test_{number}",
                "url": f"https://checkout.stripe.com/c/pay/cs_test_{number}",
                "status": "open",
            }
        return self.sessions[idempotency_key]

    def retrieve_checkout_session(self, session_id):
        return next(s for s in self.sessions.values() if s["id"] == session_id)

    def retrieve_subscription(self, subscription_id):
        if self.fail_with is not None:
            raise self.fail_with
        return json.loads(json.dumps(self.subscriptions[subscription_id]))

    def cancel_subscription(self, subscription_id):
        self.canceled.append(subscription_id)
        self.subscriptions[subscription_id]["status"] = "canceled"

    def set_cancel_at_period_end(self, subscription_id, cancel, *, idempotency_key=None):
        self.modify_keys.append(idempotency_key)
        self.subscriptions[subscription_id]["cancel_at_period_end"] = cancel
        return self.subscriptions[subscription_id]

    def set_collection_paused(self, subscription_id, paused):
        self.paused[subscription_id] = paused
        return self.retrieve_subscription(subscription_id)

    def retrieve_dispute(self, dispute_id):
        return dict(self.disputes[dispute_id])

    def retrieve_invoice(self, invoice_id):
        return self.invoices[invoice_id]

    def retrieve_charge(self, charge_id):
        return self.charges[charge_id]

    def create_portal_session(self, *, customer, return_url):
        self.portals.append({"customer": customer, "return_url": return_url})
        return {"url": f"https://billing.stripe.com/p/session/{customer}"}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class LocalStripe:
    """localstripe on a free port, started from scratch (it keeps no state between runs
    of ours, though it writes /tmp/localstripe.pickle as it goes)."""

    def __init__(self):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process = subprocess.Popen(  # noqa: S603 - our own venv's executable
            [sys.executable, "-m", "localstripe", "--port", str(self.port), "--from-scratch"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 20
        while True:
            try:
                self.request("GET", "/v1/customers")
                return
            except (urllib.error.URLError, ConnectionError):
                if time.monotonic() > deadline or self.process.poll() is not None:
                    self.stop()
                    raise RuntimeError("localstripe did not start") from None
                time.sleep(0.2)

    def request(self, method: str, path: str, data: dict | None = None) -> dict:
        body = urlencode(_flatten(data or {})).encode() if data is not None else None
        request = urllib.request.Request(  # noqa: S310 - a local http URL
            self.url + path,
            data=body,
            method=method,
            headers={"Authorization": f"Bearer {SECRET_KEY}"},
        )
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
            return json.loads(response.read() or b"{}")

    def stop(self):
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()


def _flatten(data: dict, prefix: str = "") -> list[tuple[str, str]]:
    """Stripe's form encoding: items[0][plan]=..., metadata[checkout]=..."""
    pairs = []
    for key, value in data.items():
        name = f"{prefix}[{key}]" if prefix else str(key)
        if isinstance(value, dict):
            pairs.extend(_flatten(value, name))
        elif isinstance(value, list):
            for index, item in enumerate(value):
                if isinstance(item, dict):
                    pairs.extend(_flatten(item, f"{name}[{index}]"))
                else:
                    pairs.append((f"{name}[{index}]", str(item)))
        else:
            pairs.append((name, str(value)))
    return pairs
