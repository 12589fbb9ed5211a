"""E-mail leaves the request through the mail queue: the database backend of django-tasks-db,
its worker and a real SMTP server (aiosmtpd) on a private port. Known and unknown addresses
cost the same queued task and get the same answer; a dead mail server changes no answer
and loses no mail; a send that keeps failing is retried, then Failed, in the admin."""

import re
from datetime import timedelta
from io import StringIO
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django_tasks import task_backends
from django_tasks.backends.immediate import ImmediateBackend
from django_tasks_db import DatabaseBackend
from django_tasks_db.models import DBTaskResult
from wagtail.tasks import update_reference_index_task

from masthead.core import mail
from masthead.settings import base
from tests.integration.mail_queue import rows, run_worker, time_passes

# The queue and its worker (`make demo` runs one) claim rows in the suite's database, with
# row locks on PostgreSQL and the write lock on SQLite. Run on both.
pytestmark = pytest.mark.sqlite

PASSWORD = "a-long-test-password"
CSRF = re.compile(r'name="csrfmiddlewaretoken" value="[^"]*"')


def make_reader(email):
    return get_user_model().objects.create_user(
        username=email.split("@")[0], email=email, password=PASSWORD, email_verified=True
    )


def page(response, *addresses):
    body = CSRF.sub("", response.content.decode())
    # The signed-in reader's own address (change_email's readers differ) is in the header.
    body = re.sub(r"changer-\d+@example\.com", "READER", body)
    for address in addresses:
        body = body.replace(address, "EMAIL")
    return body


# The four requests that must not tell whether an address has an account. Each takes a
# fresh client and the address, and returns the response.


def sign_up(client, email):
    return client.post("/account/sign-up/", {"email": email, "password": PASSWORD})


def sign_in_link(client, email):
    client.get("/account/sign-in/link/")
    return client.post("/account/sign-in/link/", {"email": email})


def password_reset(client, email):
    return client.post("/account/password/reset/", {"email": email})


def change_email(client, email):
    client.force_login(make_reader(f"changer-{get_user_model().objects.count()}@example.com"))
    return client.post("/account/email/", {"email": email, "password": PASSWORD})


FLOWS = [sign_up, sign_in_link, password_reset, change_email]


@pytest.mark.django_db
@pytest.mark.parametrize("flow", FLOWS, ids=lambda flow: flow.__name__)
def test_known_and_unknown_addresses_queue_one_task_and_answer_alike_with_smtp_down(
    flow, mail_queue
):
    # given an account, and a mail server that is down (mail_queue.start() is never called)
    make_reader("known@example.com")
    # when the request is made for the known address and for an unknown one
    before = len(rows())
    known = flow(Client(), "known@example.com")
    after_known = len(rows())
    unknown = flow(Client(), "nobody@example.com")
    after_unknown = len(rows())
    # then each queued exactly one task, and the answers are the same (and not errors)
    assert after_known - before == 1
    assert after_unknown - after_known == 1
    assert known.status_code == unknown.status_code
    assert known.status_code in (200, 302)
    assert known.get("Location") == unknown.get("Location")
    assert page(known, "known@example.com") == page(unknown, "nobody@example.com")
    assert mail_queue.messages == []


@pytest.mark.django_db(transaction=True)
def test_the_worker_sends_a_queued_message_over_smtp_and_drops_a_blank(mail_queue):
    # given a running mail server, and a reset asked for a known and for an unknown address
    mail_queue.start()
    make_reader("known@example.com")
    assert password_reset(Client(), "known@example.com").status_code == 302
    assert password_reset(Client(), "nobody@example.com").status_code == 302
    assert mail_queue.messages == []  # nothing is sent in the request
    # when the worker runs
    run_worker()
    # then the known address got its e-mail, the blank went nowhere, and both are done
    [message] = mail_queue.messages
    assert message["To"] == "known@example.com"
    assert "Reset your" in message["Subject"]
    assert "/account/password/reset/" in message.get_body(("plain",)).get_content()
    assert message.get_body(("html",)) is not None
    assert [row.status for row in rows()] == ["SUCCESSFUL", "SUCCESSFUL"]
    assert [row.return_value for row in rows()] == [{"sent": True}, {"sent": False}]


@pytest.mark.django_db(transaction=True)
def test_a_dead_mail_server_loses_no_mail_it_goes_out_when_the_server_is_back(mail_queue):
    # given a mail server that is down, and a sign-in link asked for
    make_reader("known@example.com")
    assert sign_in_link(Client(), "known@example.com").status_code == 200
    # when the worker tries
    run_worker()
    # then nothing went out; the attempt queued the next one a minute later
    assert mail_queue.messages == []
    first, retry = rows()
    assert first.status == "SUCCESSFUL" and first.return_value["retry"] == str(retry.id)
    assert "ConnectionRefusedError" in first.return_value["error"]
    assert retry.status == "READY"
    assert retry.args_kwargs["kwargs"]["attempt"] == 2
    wait = retry.run_after - timezone.now()
    assert timedelta(seconds=50) < wait <= timedelta(seconds=60)
    # when the worker runs again before the retry is due, nothing happens
    run_worker()
    assert rows(status="READY") == [retry]
    # when the mail server is back and the minute has passed
    mail_queue.start()
    time_passes()
    run_worker()
    # then the link goes out, once
    [message] = mail_queue.messages
    assert message["To"] == "known@example.com"
    assert "/account/sign-in/link/" in message.get_body(("plain",)).get_content()
    assert [row.status for row in rows()] == ["SUCCESSFUL", "SUCCESSFUL"]


@pytest.mark.django_db(transaction=True)
def test_a_send_that_keeps_failing_is_failed_after_the_last_attempt_and_shown_in_the_admin(
    mail_queue, settings
):
    # given two retries, and a mail server that stays down
    settings.MASTHEAD_MAIL_RETRY_DELAYS = [60, 300]
    mail.send("readers/email", "welcome", to="reader@example.com", context={"user": None})
    # when the worker tries three times, the delays apart
    run_worker()
    [retry] = rows(status="READY")
    assert timedelta(seconds=50) < retry.run_after - timezone.now() <= timedelta(seconds=60)
    time_passes()
    run_worker()
    [retry] = rows(status="READY")
    assert timedelta(seconds=290) < retry.run_after - timezone.now() <= timedelta(seconds=300)
    time_passes()
    run_worker()
    # then the third attempt is Failed, with the error, and nothing is left to try
    assert [row.status for row in rows()] == ["SUCCESSFUL", "SUCCESSFUL", "FAILED"]
    failed = rows()[-1]
    assert failed.args_kwargs["kwargs"]["attempt"] == 3
    assert failed.exception_class_path == "builtins.ConnectionRefusedError"
    assert "ConnectionRefusedError" in failed.traceback
    assert mail_queue.messages == []
    # and an administrator sees it in the admin's mail queue
    admin = get_user_model().objects.create_superuser("boss", "boss@example.com", PASSWORD)
    client = Client()
    client.force_login(admin)
    listing = reverse("wagtailsnippets_django_tasks_database_dbtaskresult:list")
    response = client.get(listing, {"status": "FAILED"})
    assert response.status_code == 200
    body = response.content.decode()
    assert "reader@example.com" in body
    assert "Failed" in body
    inspect = reverse(
        "wagtailsnippets_django_tasks_database_dbtaskresult:inspect", args=[failed.pk]
    )
    assert "ConnectionRefusedError" in client.get(inspect).content.decode()
    # and nobody can change or delete it there
    edit = reverse("wagtailsnippets_django_tasks_database_dbtaskresult:edit", args=[failed.pk])
    assert client.get(edit).status_code in (302, 403)


@pytest.mark.django_db(transaction=True)
def test_an_address_the_server_refuses_for_good_fails_at_once(mail_queue):
    # given a mail server that answers 550 for one mailbox
    mail_queue.inbox.refuse.add("gone@example.com")
    mail_queue.start()
    mail.send("readers/email", "welcome", to="gone@example.com", context={"user": None})
    # when the worker tries
    run_worker()
    # then it is Failed without a retry
    [row] = rows()
    assert row.status == "FAILED"
    assert row.exception_class_path == "smtplib.SMTPRecipientsRefused"
    assert mail_queue.messages == []


@pytest.mark.django_db(transaction=True)
def test_a_failed_message_can_be_queued_again_once_the_cause_is_fixed(mail_queue):
    # given a message Failed because the server refused the address
    mail_queue.inbox.refuse.add("gone@example.com")
    mail_queue.start()
    mail.send("readers/email", "welcome", to="gone@example.com", context={"user": None})
    run_worker()
    [failed] = rows(status="FAILED")
    # when the mailbox exists again and the row is queued again
    mail_queue.inbox.refuse.clear()
    out = StringIO()
    call_command("retry_mail", str(failed.id), stdout=out)
    run_worker()
    # then the message arrives, from a new first attempt
    assert f"{failed.id} to gone@example.com: queued as" in out.getvalue()
    [message] = mail_queue.messages
    assert message["To"] == "gone@example.com"
    [sent] = rows(status="SUCCESSFUL")
    assert sent.args_kwargs["kwargs"]["attempt"] == 1


@pytest.mark.django_db(transaction=True)
def test_a_message_left_running_by_a_killed_worker_can_be_queued_again(mail_queue):
    # given a row a killed worker left Running an hour ago
    mail_queue.start()
    mail.send("readers/email", "welcome", to="reader@example.com", context={"user": None})
    [row] = rows()
    row.claim("killed-worker")
    DBTaskResult.objects.filter(pk=row.pk).update(started_at=timezone.now() - timedelta(hours=1))
    # when the stuck rows are queued again
    call_command("retry_mail", "--stuck-minutes=30", stdout=StringIO())
    run_worker()
    # then the message goes out, and the stuck row says what became of it
    assert [m["To"] for m in mail_queue.messages] == ["reader@example.com"]
    stuck = DBTaskResult.objects.get(pk=row.pk)
    assert stuck.status == "FAILED"
    assert "stopped worker" in stuck.traceback


def test_wagtail_tasks_still_run_at_once_and_mail_goes_to_its_own_backend(settings):
    # Wagtail's own tasks (the reference index) run on "default", in the request, as they
    # did before the mail queue; the base settings give mail the database backend.
    assert base.TASKS["default"]["BACKEND"] == "django_tasks.backends.immediate.ImmediateBackend"
    assert base.TASKS["mail"]["BACKEND"] == "django_tasks_db.DatabaseBackend"
    settings.TASKS = base.TASKS
    assert isinstance(task_backends["default"], ImmediateBackend)
    assert isinstance(update_reference_index_task.get_backend(), ImmediateBackend)
    assert isinstance(task_backends["mail"], DatabaseBackend)


def test_the_search_reindexing_runs_on_the_workers_queue_and_the_worker_takes_it(settings):
    # given the base settings
    from masthead.news.search_index import reindex_teasers

    settings.TASKS = base.TASKS

    # then a teaser change's reindexing goes to the database queue, never the request...
    assert isinstance(reindex_teasers.get_backend(), DatabaseBackend)
    assert reindex_teasers.queue_name == "search"
    assert "search" in base.TASKS["mail"]["QUEUES"]
    # ...and every worker that deploy/ and make demo start takes that queue as well as mail's
    root = Path(__file__).resolve().parents[2]
    for path in ("Makefile", "deploy/prod.sh", "deploy/systemd/masthead-mail-worker.service"):
        text = (root / path).read_text()
        assert "db_worker --backend mail --queue-name default,search" in text, path


def test_reader_emails_come_from_the_publication_by_default(settings):
    from email.utils import parseaddr

    assert parseaddr(settings.DEFAULT_FROM_EMAIL)[0] == settings.MASTHEAD_SITE_NAME
