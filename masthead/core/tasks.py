"""The mail queue's task: one message, sent by the worker, tried again after a failure.

django-tasks runs a task once and records an exception as Failed; it does not retry. So a
send that fails queues its own next attempt, ``run_after`` the next delay of
``MASTHEAD_MAIL_RETRY_DELAYS``, with ``attempt`` counted in its arguments, and the attempt
that failed ends Successful with ``{"retry": <id of the next attempt>, ...}`` as its result.
Only the last attempt, or an address the mail server refuses for good (a 5xx reply), raises:
that row is Failed, with the traceback, in the admin's "Mail queue" (``manage.py
retry_mail`` queues it again). Each row is therefore one attempt, and no message is
dropped: it stays queued until it is sent or Failed.
"""

import logging
import smtplib
from datetime import timedelta

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django_tasks import task

from masthead.core import clock

log = logging.getLogger(__name__)

MAIL_BACKEND = "mail"


def _refused_for_good(error: Exception) -> bool:
    """A 5xx answer to the message or its one recipient: trying again cannot help."""
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        codes = [code for code, _ in error.recipients.values()]
        return bool(codes) and all(500 <= code < 600 for code in codes)
    if isinstance(error, smtplib.SMTPResponseException):
        return 500 <= error.smtp_code < 600
    return False


@task(backend=MAIL_BACKEND)
def send_email(*, to: str, subject: str, text: str, html: str, attempt: int = 1) -> dict:
    """Send one message (``to`` empty: a blank, see ``masthead.core.mail.send_nothing``)."""
    if not to:
        return {"sent": False}
    message = EmailMultiAlternatives(subject, text, to=[to])
    message.attach_alternative(html, "text/html")
    try:
        message.send()
    except Exception as error:
        delays = settings.MASTHEAD_MAIL_RETRY_DELAYS
        backend = send_email.get_backend()
        if attempt > len(delays) or _refused_for_good(error) or not backend.supports_defer:
            log.error("mail to %s failed for good on attempt %s: %r", to, attempt, error)
            raise
        run_after = clock.now() + timedelta(seconds=delays[attempt - 1])
        retry = send_email.using(run_after=run_after).enqueue(
            to=to, subject=subject, text=text, html=html, attempt=attempt + 1
        )
        log.warning(
            "mail to %s failed on attempt %s (%r); attempt %s at %s",
            to,
            attempt,
            error,
            attempt + 1,
            run_after.isoformat(),
        )
        return {"sent": False, "error": repr(error), "retry": retry.id, "at": run_after.isoformat()}
    return {"sent": True}
