"""The project's one clock: aware, in UTC, and moved by time-machine with the rest of time."""

import ast
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from masthead.core import clock

ROOT = Path(__file__).resolve().parents[2]


def test_now_is_aware_and_in_utc(settings):
    settings.TIME_ZONE = "Asia/Tokyo"  # the site's zone is for display, not for now()
    now = clock.now()
    assert now.tzinfo is not None
    assert now.utcoffset() == timedelta(0)


def test_time_machine_moves_it_and_it_stands_still_until_moved(time_machine):
    moment = datetime(2026, 10, 15, 12, tzinfo=ZoneInfo("Asia/Tokyo"))
    time_machine.move_to(moment, tick=False)
    assert clock.now() == moment == datetime(2026, 10, 15, 3, tzinfo=UTC)
    assert clock.now() == moment
    time_machine.shift(timedelta(days=40))
    assert clock.now() == moment + timedelta(days=40)


# The pure rules read no clock: the caller passes `now`, so one request decides at one moment
# and the rules can be tested at any moment without moving time.
PURE_RULES = [
    "masthead/access/policy.py",
    "masthead/access/periods.py",
    "masthead/access/networks.py",
    "masthead/access/teaser.py",
    "masthead/subscriptions/offers.py",
    "masthead/campaigns/windows.py",
]
CLOCK_READS = {"now", "utcnow", "today", "time", "time_ns", "monotonic"}


@pytest.mark.parametrize("path", PURE_RULES)
def test_pure_rules_take_now_as_an_argument(path):
    tree = ast.parse((ROOT / path).read_text())
    imported = {
        node.module or "" for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)
    } | {
        alias.name
        for node in ast.walk(tree)
        if isinstance(node, ast.Import)
        for alias in node.names
    }
    assert not {name for name in imported if name.startswith(("django", "masthead", "time"))}
    reads = [
        node.func.attr
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr in CLOCK_READS
    ]
    assert reads == []
