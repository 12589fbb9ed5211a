"""Subscription e-mails: receipts, failed payments, trials ending and access expired, each
sent once by ``send_notices`` after the ledger row or the date that makes it due."""

import threading
import time
from datetime import datetime, timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import DatabaseError, connection
from django.test import override_settings

from masthead.core import mail
from masthead.notices import outbox
from masthead.notices.models import SentNotice
from masthead.subscriptions import actions
from masthead.subscriptions.payments import get_provider
from tests.integration.mail_queue import rows, run_worker, time_passes
from tests.integration.subscription_factories import (
    DAY,
    NOW,
    TOKYO,
    make_intro,
    make_plan,
    make_reader,
    make_trial,
)

SITE = "The Meridian Ledger"
MINUTE = timedelta(minutes=1)


@pytest.fixture
def catalogue(db):
    plan = make_plan(name="Digital")
    return {
        "plan": plan,
        "dollar": make_intro(plan, NOW, "0.99", 1, name="Dollar"),
        "trial": make_trial(plan, NOW, 14, name="Trial"),
    }


def subscribe(reader, offer, now=NOW):
    """The reader takes an intro offer and pays with the test provider."""
    provider = get_provider()
    checkout = provider.create_checkout(
        reader=reader, offer=offer, idempotency_key=f"{reader.pk}:{offer.pk}", now=now
    )
    result = provider.complete(checkout=checkout, reference="test_ref42", now=now)
    return result.checkout.subscription


def send(at, when) -> str:
    at(when)
    out = StringIO()
    call_command("send_notices", stdout=out)
    return out.getvalue()


def titled(outbox, words):
    return [m for m in outbox if words in m.subject]


def html(message) -> str:
    [(body, kind)] = message.alternatives
    assert kind == "text/html"
    return body


# Receipts


def test_a_first_payment_gets_one_receipt_however_often_the_command_runs(catalogue, at, mailoutbox):
    # given a reader who paid $0.99 for the intro month
    reader = make_reader()
    subscribe(reader, catalogue["dollar"])
    # when the command runs twice
    printed = send(at, NOW + MINUTE)
    send(at, NOW + 2 * MINUTE)
    # then one receipt went out, to the reader, and the command said so
    [receipt] = mailoutbox
    assert receipt.to == [reader.email]
    assert receipt.subject == f"Your receipt from {SITE}: $0.99"
    assert f"receipt {receipt_key(reader)} to {reader.email}" in printed
    for body in (receipt.body, html(receipt)):
        assert "$0.99" in body and "(USD)" in body
        assert "15 October 2026, 12:00 JST" in body  # paid, in the site's time zone
        assert "15 November 2026, 12:00 JST" in body  # paid until
        assert "http://testserver/account/" in body
        assert "test_ref42" in body
        assert SITE in body
    assert 'href="http://testserver/account/"' in html(receipt)
    assert SentNotice.objects.get().kind == "receipt"


def receipt_key(reader) -> str:
    return str(reader.payment_events.get(kind="charge_succeeded").pk)


def test_each_renewal_gets_its_own_receipt(catalogue, at, mailoutbox):
    reader = make_reader()
    subscription = subscribe(reader, catalogue["dollar"])
    send(at, NOW + MINUTE)
    # when the plan's regular price is paid a month later
    renewed_at = datetime(2026, 11, 15, 12, tzinfo=TOKYO)
    get_provider().renew(subscription=subscription, now=renewed_at)
    send(at, renewed_at + MINUTE)
    send(at, renewed_at + 2 * MINUTE)
    # then a second receipt, for $12, and no more
    assert [m.subject for m in mailoutbox] == [
        f"Your receipt from {SITE}: $0.99",
        f"Your receipt from {SITE}: $12",
    ]
    assert "15 December 2026, 12:00 JST" in mailoutbox[1].body


def test_a_payment_from_before_the_look_back_window_is_not_mailed(catalogue, at, mailoutbox):
    # given a payment eight days old and a command that never ran
    subscribe(make_reader(), catalogue["dollar"])
    # when it runs for the first time
    send(at, NOW + 8 * DAY)
    # then the old payment gets no receipt
    assert mailoutbox == []
    assert not SentNotice.objects.exists()


# Payment failed, then access expired


def test_a_failed_renewal_says_until_when_access_continues_and_how_to_fix_it(
    catalogue, at, mailoutbox
):
    reader = make_reader()
    subscription = subscribe(reader, catalogue["dollar"])
    period_end = datetime(2026, 11, 15, 12, tzinfo=TOKYO)
    # when the renewal payment fails (the first payment is a month old by now)
    get_provider().fail(subscription=subscription, now=period_end)
    send(at, period_end + MINUTE)
    send(at, period_end + 2 * MINUTE)
    # then one "payment failed" e-mail: access lasts the three days of grace
    [failed] = mailoutbox
    assert failed.to == [reader.email]
    assert failed.subject == f"Your payment to {SITE} did not go through"
    for body in (failed.body, html(failed)):
        assert "$12" in body
        assert "15 November 2026, 12:00 JST" in body  # when it failed
        assert "until 18 November 2026, 12:00 JST" in body  # the end of the grace period
        assert "update it" in body
        assert "http://testserver/account/" in body
    # and when the grace period ends unpaid, one "access expired" e-mail
    send(at, period_end + 3 * DAY - MINUTE)
    assert len(mailoutbox) == 1
    send(at, period_end + 3 * DAY + MINUTE)
    send(at, period_end + 3 * DAY + 2 * MINUTE)
    assert [m.subject for m in mailoutbox[1:]] == [f"Your full access to {SITE} has expired"]
    assert "18 November 2026, 12:00 JST" in mailoutbox[1].body


def test_no_payment_failed_mail_once_the_reader_has_paid(catalogue, at, mailoutbox):
    subscription = subscribe(make_reader(), catalogue["dollar"])
    period_end = datetime(2026, 11, 15, 12, tzinfo=TOKYO)
    provider = get_provider()
    subscription = provider.fail(subscription=subscription, now=period_end)
    provider.renew(subscription=subscription, now=period_end + MINUTE)
    send(at, period_end + 2 * MINUTE)
    assert [m.subject for m in mailoutbox] == [f"Your receipt from {SITE}: $12"]


# Trials


def test_trial_ending_is_sent_once_within_the_notice_days(catalogue, at, mailoutbox):
    # given a 14-day trial ending on October 29 at noon
    reader = make_reader()
    actions.start_trial(user=reader, offer=catalogue["trial"], now=NOW)
    trial_end = datetime(2026, 10, 29, 12, tzinfo=TOKYO)
    # when the command runs before the three days, then within them, again and again
    send(at, trial_end - 3 * DAY - MINUTE)
    assert mailoutbox == []
    send(at, trial_end - 3 * DAY)
    send(at, trial_end - 2 * DAY)
    send(at, trial_end - MINUTE)
    # then one e-mail
    [ending] = mailoutbox
    assert ending.to == [reader.email]
    assert ending.subject == f"Your free trial of {SITE} ends on 29 October"
    for body in (ending.body, html(ending)):
        assert "29 October 2026, 12:00 JST" in body
        assert "http://testserver/subscribe/" in body
    assert 'href="http://testserver/subscribe/"' in html(ending)


@override_settings(MASTHEAD_TRIAL_ENDING_NOTICE_DAYS=1)
def test_the_notice_days_are_a_setting(catalogue, at, mailoutbox):
    actions.start_trial(user=make_reader(), offer=catalogue["trial"], now=NOW)
    trial_end = datetime(2026, 10, 29, 12, tzinfo=TOKYO)
    send(at, trial_end - 2 * DAY)
    assert mailoutbox == []
    send(at, trial_end - DAY)
    assert len(titled(mailoutbox, "ends on")) == 1


def test_no_trial_ending_mail_for_a_trial_already_paid(catalogue, at, mailoutbox):
    trial = actions.start_trial(user=make_reader(), offer=catalogue["trial"], now=NOW)
    get_provider().renew(subscription=trial, now=NOW + DAY)
    trial_end = datetime(2026, 10, 29, 12, tzinfo=TOKYO)
    send(at, NOW + DAY + MINUTE)
    send(at, trial_end - 2 * DAY)
    send(at, trial_end + MINUTE)
    assert [m.subject for m in mailoutbox] == [f"Your receipt from {SITE}: $12"]


def test_an_unpaid_trial_that_ended_gets_trial_expired_once(catalogue, at, mailoutbox):
    reader = make_reader()
    actions.start_trial(user=reader, offer=catalogue["trial"], now=NOW)
    trial_end = datetime(2026, 10, 29, 12, tzinfo=TOKYO)
    send(at, trial_end + MINUTE)
    send(at, trial_end + DAY)
    [expired] = mailoutbox
    assert expired.subject == f"Your trial period of {SITE} has expired"
    for body in (expired.body, html(expired)):
        assert "29 October 2026, 12:00 JST" in body
        assert "http://testserver/subscribe/" in body


# Access expired


def test_a_lapsed_subscriber_gets_access_expired_once(catalogue, at, mailoutbox):
    # given a subscriber who cancelled; access lasts to the end of the month paid for
    reader = make_reader()
    subscription = subscribe(reader, catalogue["dollar"])
    actions.cancel(subscription=subscription, now=NOW + DAY)
    period_end = datetime(2026, 11, 15, 12, tzinfo=TOKYO)
    send(at, NOW + DAY + MINUTE)
    send(at, period_end - MINUTE)
    assert [m.subject for m in mailoutbox] == [f"Your receipt from {SITE}: $0.99"]
    # when the period is over (and even when the lapse is recorded later by expire())
    send(at, period_end + MINUTE)
    actions.expire(subscription=subscription, now=period_end + DAY)
    send(at, period_end + DAY + MINUTE)
    # then one "access expired" with a link to the offers
    [expired] = titled(mailoutbox, "has expired")
    assert expired.to == [reader.email]
    assert expired.subject == f"Your full access to {SITE} has expired"
    for body in (expired.body, html(expired)):
        assert "Digital subscription" in body
        assert "15 November 2026, 12:00 JST" in body
        assert "http://testserver/subscribe/" in body
        assert SITE in body
    assert 'href="http://testserver/subscribe/"' in html(expired)


def test_no_access_expired_for_a_reader_who_subscribed_again(catalogue, at, mailoutbox):
    # given a subscription that lapsed, and a new one taken before the command ran
    reader = make_reader()
    lapsed = subscribe(reader, catalogue["dollar"])
    actions.cancel(subscription=lapsed, now=NOW + DAY)
    period_end = datetime(2026, 11, 15, 12, tzinfo=TOKYO)
    actions.start(
        user=reader,
        plan=catalogue["plan"],
        period_end=period_end + 31 * DAY,
        now=period_end + DAY,
    )
    # when it runs, and again later
    send(at, period_end + DAY + MINUTE)
    send(at, period_end + 2 * DAY)
    # then no "access expired"
    assert titled(mailoutbox, "has expired") == []


def test_no_access_expired_while_a_renewal_may_still_be_reported(catalogue, at, mailoutbox):
    # given a subscription past its period end, neither cancelled nor reported unpaid
    subscription = subscribe(make_reader(), catalogue["dollar"])
    period_end = datetime(2026, 11, 15, 12, tzinfo=TOKYO)
    send(at, period_end + MINUTE)
    assert titled(mailoutbox, "has expired") == []
    # when the provider then reports the renewal paid, there was nothing to tell
    get_provider().renew(subscription=subscription, now=period_end + 2 * MINUTE)
    send(at, period_end + 3 * MINUTE)
    assert [m.subject for m in mailoutbox] == [f"Your receipt from {SITE}: $12"]


def test_a_refund_ends_access_and_says_so(catalogue, at, mailoutbox):
    reader = make_reader()
    subscription = subscribe(reader, catalogue["dollar"])
    refunded_at = datetime(2026, 10, 20, 9, 30, tzinfo=TOKYO)
    get_provider().refund(subscription=subscription, now=refunded_at)
    send(at, refunded_at + MINUTE)
    send(at, refunded_at + 2 * MINUTE)
    assert [m.subject for m in mailoutbox] == [
        f"Your receipt from {SITE}: $0.99",
        f"Your full access to {SITE} has expired",
    ]
    assert "20 October 2026, 09:30 JST" in mailoutbox[1].body


# Failures and races


def test_a_notice_that_cannot_be_queued_leaves_nothing_recorded_and_is_retried(
    catalogue, at, mailoutbox, monkeypatch
):
    reader = make_reader()
    subscribe(reader, catalogue["dollar"])

    def broken_queue(**message):
        raise DatabaseError("the mail queue's table is locked")

    # when the message cannot be queued
    monkeypatch.setattr(mail, "queue", broken_queue)
    err = StringIO()
    at(NOW + MINUTE)
    with pytest.raises(CommandError, match="1 of 1 notices could not be queued"):
        call_command("send_notices", stdout=StringIO(), stderr=err)
    # then nothing is marked sent, the failure is reported, and the next run queues it
    assert "the mail queue's table is locked" in err.getvalue()
    assert not SentNotice.objects.exists()
    assert mailoutbox == []
    monkeypatch.undo()
    send(at, NOW + 2 * MINUTE)
    assert [m.to for m in mailoutbox] == [[reader.email]]


@pytest.mark.django_db(transaction=True)
def test_a_dead_mail_server_fails_no_run_and_the_notice_goes_out_once_it_is_back(at, mail_queue):
    # given a receipt due, and a mail server that is down
    plan = make_plan(name="Digital")
    reader = make_reader()
    subscribe(reader, make_intro(plan, NOW, "0.99", 1))
    # when the command runs twice and the worker tries
    printed = send(at, NOW + MINUTE)
    send(at, NOW + 2 * MINUTE)
    run_worker()
    # then the run succeeded and recorded the notice once; the mail waits in the queue
    assert f"Queued receipt {receipt_key(reader)} to {reader.email}" in printed
    assert SentNotice.objects.count() == 1
    assert mail_queue.messages == []
    assert len(rows(status="READY")) == 1
    # when the mail server is back and the retry is due
    mail_queue.start()
    time_passes()
    run_worker()
    send(at, NOW + 3 * MINUTE)
    run_worker()
    # then the receipt went out once
    [receipt] = mail_queue.messages
    assert receipt["To"] == reader.email
    assert receipt["Subject"] == f"Your receipt from {SITE}: $0.99"


@pytest.mark.sqlite  # a race: row locks on PostgreSQL, the write lock on SQLite
@pytest.mark.django_db(transaction=True)
def test_two_runs_at_once_send_each_notice_once(mailoutbox, monkeypatch):
    # given a receipt and a trial ending, both due
    plan = make_plan(name="Digital")
    subscribe(make_reader(), make_intro(plan, NOW, "0.99", 1))
    actions.start_trial(user=make_reader(), offer=make_trial(plan, NOW, 2), now=NOW)
    now = NOW + MINUTE
    barrier = threading.Barrier(2)
    errors, results = [], []
    send_mail = outbox.emails.send

    def slow_send(*args, **kwargs):
        time.sleep(0.2)  # hold the transaction open, so the other run meets the row
        send_mail(*args, **kwargs)

    monkeypatch.setattr(outbox.emails, "send", slow_send)

    def run():
        try:
            found = outbox.due(now=now)
            assert len(found) == 2
            barrier.wait(timeout=10)  # both have read the same due notices
            results.extend(outbox.deliver(notice, now=now) for notice in found)
        except Exception as error:  # noqa: BLE001 - reported below
            errors.append(error)
        finally:
            connection.close()

    # when two runs deliver them at the same moment
    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    # then each went out once
    assert not errors, errors
    assert sum(r is None for r in results) == 2  # the later run found each row taken
    assert sorted(m.subject for m in mailoutbox) == [
        f"Your free trial of {SITE} ends on 17 October",
        f"Your receipt from {SITE}: $0.99",
    ]
    assert SentNotice.objects.count() == 2
