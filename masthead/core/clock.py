"""The project's one clock: every decision that depends on the time of day asks `now()`.

Access rules, offers, checkout and webhooks, notices, sign-in links and their limits, API
tokens and the mail queue all read this one function, so a request sees one idea of "now"
however many of them it touches, and a test moves all of them at once with time-machine
(the `time_machine` fixture patches the standard library underneath it). Pure rules
(access.policy, subscriptions.offers, campaigns.windows ...) never import it: they take
`now` as an argument from the code that calls them. A model field's `default=timezone.now`
only stamps a row and stays as it is.
"""

from datetime import datetime

from django.utils import timezone


def now() -> datetime:
    """The current moment, aware, in UTC."""
    return timezone.now()
