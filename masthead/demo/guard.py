"""The demo's commands write accounts with a published password or made-up data: they run
only where MASTHEAD_DEMO opts in, never on a production database by mistake."""

from django.conf import settings
from django.core.management.base import CommandError


def require_demo(command: str) -> None:
    if not settings.MASTHEAD_DEMO:
        raise CommandError(
            f"{command} runs only with MASTHEAD_DEMO=true: it is for demos and benchmarks, "
            "and creates accounts with a published password or made-up data. `make demo` "
            "and `make prod-up` set it; never set it on a site with real readers."
        )
