"""DATABASE_STATEMENT_TIMEOUT_MS: PostgreSQL cancels an app server's statement that runs too
long, on the default and the meter connections alike (deploy/granian.sh sets it for the app
servers, which cannot interrupt a request themselves). Each case loads the settings afresh in
a subprocess, since they are read once at start-up."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import require_service
from tests.services import PORTS

pytestmark = pytest.mark.postgres

ROOT = Path(__file__).resolve().parents[2]
# SHOW on each alias's connection (the meter's too, where settings define it), then a
# statement slower than a 200 ms limit.
SNIPPET = """
import json
from django.db import OperationalError, connections
found = {"aliases": {}}
for alias in connections:
    with connections[alias].cursor() as cursor:
        cursor.execute("SHOW statement_timeout")
        found["aliases"][alias] = cursor.fetchone()[0]
try:
    with connections["default"].cursor() as cursor:
        cursor.execute("SELECT pg_sleep(1)")
    found["slow"] = "finished"
except OperationalError as exc:
    found["slow"] = type(exc.__cause__).__name__
print(json.dumps(found))
"""


def run_with(timeout_ms: str | None) -> dict:
    require_service("postgres")
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "masthead.settings.test",
        "DATABASE_URL": f"postgres://postgres@127.0.0.1:{PORTS['postgres']}/postgres",
    }
    env.pop("DATABASE_STATEMENT_TIMEOUT_MS", None)
    if timeout_ms is not None:
        env["DATABASE_STATEMENT_TIMEOUT_MS"] = timeout_ms
    result = subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", SNIPPET],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_a_statement_past_the_limit_is_cancelled_on_every_alias():
    found = run_with("200")
    assert "default" in found["aliases"]
    assert set(found["aliases"].values()) == {"200ms"}, found
    assert found["slow"] == "QueryCanceled"


@pytest.mark.parametrize("value", [None, "", "0"])
def test_without_a_limit_statements_run_to_the_end(value):
    found = run_with(value)
    assert "default" in found["aliases"]
    assert set(found["aliases"].values()) == {"0"}, found
    assert found["slow"] == "finished"
