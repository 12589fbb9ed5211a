"""Sustained load through nginx on the topology of `make prod-up` (127.0.0.1 only): wrk at 64
connections for MASTHEAD_LOAD_SECONDS (60 in `make test`; `make soak` runs 300) on the home
page and a metered article, read by new anonymous readers and by one returning reader.

It asserts correctness, not throughput (the machine is shared and small): no 5xx, no socket
errors, and the app servers' workers do not grow by more than 20% in resident memory between
the end of a warm-up and the end of the run. wrk is installed with apt when missing.
"""

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from .conftest import (
    APP_PORTS,
    NGINX_PORT,
    Client,
    nginx_serves_both,
    requires_topology,
    wait_until,
    worker_pids,
)

pytestmark = requires_topology

CONNECTIONS = 64
WARM_UP_SECONDS = 20
MAX_RSS_GROWTH = 0.20

# Each connection cycles through the paths; a status count per wrk thread is summed in done().
SCRIPT = """
local paths = {%(paths)s}
local cookies = {%(cookies)s}
local threads = {}
local i = 0

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  statuses = {}
end

function request()
  i = i + 1
  local n = (i %% #paths) + 1
  local headers = {}
  if cookies[n] ~= "" then
    headers["Cookie"] = cookies[n]
  end
  return wrk.format("GET", paths[n], headers)
end

function response(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
end

function done(summary, latency, requests)
  local total = {}
  for _, thread in ipairs(threads) do
    for status, count in pairs(thread:get("statuses")) do
      total[status] = (total[status] or 0) + count
    end
  end
  for status, count in pairs(total) do
    io.write(string.format("status %%d %%d\\n", status, count))
  end
  local e = summary.errors
  io.write(string.format("errors connect=%%d read=%%d write=%%d timeout=%%d status=%%d\\n",
    e.connect, e.read, e.write, e.timeout, e.status))
  io.write(string.format("requests %%d p50_ms %%.1f p99_ms %%.1f\\n", summary.requests,
    latency:percentile(50) / 1000, latency:percentile(99) / 1000))
end
"""


def wrk() -> str:
    found = shutil.which("wrk")
    if found is None:
        subprocess.run(
            ["apt-get", "install", "-y", "-qq", "wrk"],
            check=True,
            capture_output=True,
            timeout=300,
            env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"},
        )
        found = shutil.which("wrk")
    assert found, "wrk is not installed"
    return found


def run_wrk(script: Path, seconds: int) -> dict:
    result = subprocess.run(
        [
            wrk(),
            f"--connections={CONNECTIONS}",
            "--threads=2",
            f"--duration={seconds}s",
            "--timeout=30s",
            f"--script={script}",
            f"http://127.0.0.1:{NGINX_PORT}/",
        ],
        capture_output=True,
        text=True,
        timeout=seconds + 120,
    )
    assert result.returncode == 0, result.stderr
    statuses = {
        int(status): int(count)
        for status, count in re.findall(r"^status (\d+) (\d+)$", result.stdout, re.M)
    }
    errors = dict(re.findall(r"(\w+)=(\d+)", re.search(r"^errors .*$", result.stdout, re.M)[0]))
    return {
        "statuses": statuses,
        "errors": {k: int(v) for k, v in errors.items()},
        "out": result.stdout,
    }


def workers_rss() -> dict[int, int]:
    """Resident memory (kB) of every granian worker of both app servers, by pid."""
    found = {}
    for port in APP_PORTS:
        for pid in worker_pids(port):
            status = Path(f"/proc/{pid}/status").read_text()
            found[pid] = int(re.search(r"^VmRSS:\s+(\d+) kB", status, re.M).group(1))
    return found


def test_sustained_load_at_64_connections_through_nginx_without_5xx_or_memory_growth(
    demo, tmp_path
):
    seconds = int(os.environ.get("MASTHEAD_LOAD_SECONDS", "60"))
    assert wait_until(nginx_serves_both, 40), "nginx does not reach both app servers"
    article = demo["metered"][0]
    returning = Client()
    # twice: the second visit stores the first read and settles the cookie to the bare id
    assert returning.get(article).status == 200
    assert returning.get(article).status == 200
    cookie = "mh_reader=" + returning.cookies["mh_reader"]
    paths = ["/", article, article]
    cookies = ["", "", cookie]  # the home page; a new reader each time; one who returns
    script = tmp_path / "statuses.lua"
    script.write_text(
        SCRIPT
        % {
            "paths": ", ".join(f'"{path}"' for path in paths),
            "cookies": ", ".join(f'"{value}"' for value in cookies),
        }
    )

    # given app servers past their first requests (imports, template and page caches)
    warm = run_wrk(script, WARM_UP_SECONDS)
    assert not [s for s in warm["statuses"] if s >= 500], warm["out"]
    before = workers_rss()

    # when 64 connections keep asking for the whole run
    load = run_wrk(script, seconds)
    after = workers_rss()
    print(load["out"])
    print(f"worker RSS kB: before {before} after {after}")

    # then nothing failed
    statuses = load["statuses"]
    assert sum(statuses.values()) > 0, load["out"]
    assert not [s for s in statuses if s >= 500], load["out"]
    assert set(statuses) == {200}, load["out"]
    assert load["errors"] == dict.fromkeys(("connect", "read", "write", "timeout", "status"), 0), (
        load["out"]
    )
    # and the workers' memory stayed within 20% (granian recycles a worker over
    # GRANIAN_WORKERS_MAX_RSS, which would only make the total smaller)
    assert sum(after.values()) <= sum(before.values()) * (1 + MAX_RSS_GROWTH), (before, after)


@pytest.fixture(autouse=True)
def _both_app_servers(topology):
    yield
    assert all(worker_pids(port) for port in APP_PORTS)
