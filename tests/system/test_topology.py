"""The production topology of `make prod-up`, tested from outside through nginx (127.0.0.1 only).

Runs when MASTHEAD_SYSTEM_TESTS=1 (`make system-test`) or when the topology is already up;
otherwise it is skipped, because bringing it up from nothing installs Debian packages and
takes ports 8001, 8002 and 8080 for a couple of minutes. A topology this module started is
stopped again at the end; one it found running is left running, with both app servers.
"""

import http.client
import os
import signal
import threading
import time
from collections import Counter

import pytest

from tests.system.conftest import (
    APP_PORTS,
    NGINX_PORT,
    PROD,
    prod,
    requires_topology,
    topology_is_up,
    worker_pids,
)

UPSTREAMS = {f"127.0.0.1:{port}" for port in APP_PORTS}

pytestmark = requires_topology


def get(path: str, headers: dict | None = None, conn=None) -> http.client.HTTPResponse:
    conn = conn or http.client.HTTPConnection("127.0.0.1", NGINX_PORT, timeout=10)
    conn.request("GET", path, headers=headers or {})
    response = conn.getresponse()
    response.read()
    return response


@pytest.fixture(scope="module")
def topology():
    started_here = not topology_is_up()
    if started_here:
        prod("up")
    yield
    if started_here:
        prod("down")
    else:
        # Whatever a test killed comes back, as the topology was found.
        prod("up")


@pytest.fixture(scope="module")
def article_path(topology):
    conn = http.client.HTTPConnection("127.0.0.1", NGINX_PORT, timeout=10)
    conn.request("GET", "/world/")
    html = conn.getresponse().read().decode()
    start = html.index('href="/world/') + len('href="')
    return html[start : html.index('"', start)]


def kill_app_server(port: int) -> None:
    """SIGKILL the whole app server: granian's master and its workers share a process group."""
    pid = int((PROD / "run" / f"app-{port}.pid").read_text().split()[0])
    group = os.getpgid(pid)
    assert group != os.getpgid(0)
    os.killpg(group, signal.SIGKILL)


class Load:
    """Threads sending GETs through nginx on keep-alive connections until stopped."""

    def __init__(self, paths: list[str], threads: int = 8):
        self.paths = paths
        self.threads = [threading.Thread(target=self._run, daemon=True) for _ in range(threads)]
        self.stop = threading.Event()
        self.lock = threading.Lock()
        self.statuses: Counter = Counter()
        self.errors: list[str] = []
        self.upstreams: list[tuple[float, str]] = []

    def __enter__(self):
        for thread in self.threads:
            thread.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        for thread in self.threads:
            thread.join(timeout=15)

    @property
    def total(self) -> int:
        return sum(self.statuses.values()) + len(self.errors)

    @property
    def failed(self) -> int:
        return sum(n for status, n in self.statuses.items() if status != 200) + len(self.errors)

    def answered_since(self, moment: float) -> int:
        with self.lock:
            return sum(1 for at, _ in self.upstreams if at > moment)

    def wait_for(self, condition, seconds: float) -> None:
        """Until the condition holds or the time is up (the assertions judge what was sent)."""
        deadline = time.monotonic() + seconds
        while not condition() and time.monotonic() < deadline:
            time.sleep(0.2)

    def _run(self):
        conn = http.client.HTTPConnection("127.0.0.1", NGINX_PORT, timeout=10)
        i = 0
        while not self.stop.is_set():
            path = self.paths[i % len(self.paths)]
            i += 1
            try:
                response = get(path, conn=conn)
            except (OSError, http.client.HTTPException) as error:
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", NGINX_PORT, timeout=10)
                with self.lock:
                    self.errors.append(repr(error))
                continue
            with self.lock:
                self.statuses[response.status] += 1
                self.upstreams.append((time.monotonic(), response.getheader("X-Upstream") or ""))


def test_nginx_spreads_requests_over_both_app_servers(topology, article_path):
    # given the topology, when the home page and an article are asked for a few times
    seen = {get(path).getheader("X-Upstream") for path in ["/", article_path] * 6}

    # then both app servers answered
    assert seen == UPSTREAMS


def test_nginx_fails_over_when_an_app_server_is_killed_mid_load(topology, article_path):
    # given readers requesting pages through nginx (mostly the cheap liveness check, so that
    # even a busy machine sends enough requests for 0.5% to mean something)
    cheap = "/healthz" if get("/healthz").status == 200 else "/"
    survivor = f"127.0.0.1:{APP_PORTS[1]}"
    try:
        with Load([cheap, cheap, cheap, article_path]) as load:
            load.wait_for(lambda: load.total >= 100, seconds=20)

            # when one app server dies with everything in flight
            kill_app_server(APP_PORTS[0])
            killed_at = time.monotonic()
            # (an idle machine answers hundreds of health checks in the first second, so
            # the wait is for answers from after it, which are the ones judged below)
            load.wait_for(lambda: load.answered_since(killed_at + 1) >= 200, seconds=40)
    finally:
        # `prod-up` brings the killed server back beside the survivor, whatever happened
        # above: the tests after this one need both
        prod("up")

    print(f"failover: {load.total} requests, {load.failed} failed, {dict(load.statuses)}")
    # then under 0.5% of requests failed, and soon after the kill only the survivor answered
    # (nginx may still try the dead one first now and then: "127.0.0.1:8001, 127.0.0.1:8002")
    assert load.total >= 250, load.statuses
    assert load.failed / load.total < 0.005, (load.statuses, load.errors[:5])
    late = {upstream for at, upstream in load.upstreams if at > killed_at + 1}
    assert late and all(upstream.split(", ")[-1] == survivor for upstream in late), late

    # and both answer again
    seen = {get("/").getheader("X-Upstream") for _ in range(12)}
    assert seen == UPSTREAMS


def test_a_reload_puts_every_worker_on_new_code_without_failing_a_request(topology, article_path):
    # given readers requesting pages through nginx, and the workers of both app servers
    cheap = "/healthz" if get("/healthz").status == 200 else "/"
    before = {port: worker_pids(port) for port in APP_PORTS}
    with Load([cheap, cheap, cheap, article_path]) as load:
        load.wait_for(lambda: load.total >= 100, seconds=20)

        # when both reload (deploy/prod.sh reload: SIGHUP to one app server, then the other
        # once its workers are all replaced)
        prod("reload", timeout=420)
        reloaded_at = time.monotonic()
        load.wait_for(lambda: load.answered_since(reloaded_at) >= 100, seconds=30)

    print(f"reload: {load.total} requests, {load.failed} failed, {dict(load.statuses)}")
    # then each app server runs as many workers as before, all of them new
    for port in APP_PORTS:
        after = worker_pids(port)
        assert len(after) == len(before[port]), (port, before[port], after)
        assert not set(after) & set(before[port]), (port, before[port], after)
    # and nginx found a worker for every request
    assert load.total >= 200, load.statuses
    assert load.failed == 0, (load.statuses, load.errors[:5])
    assert {upstream for _, upstream in load.upstreams if "," not in upstream} == UPSTREAMS


@pytest.mark.parametrize("port", APP_PORTS)
def test_the_app_server_hands_nginx_forwarded_proto_to_django(topology, port):
    # given an app server asked directly, as nginx asks it
    def hsts(headers: dict) -> str | None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        response = get("/", headers={"Host": "127.0.0.1", **headers}, conn=conn)
        assert response.status == 200, response.status
        return response.getheader("Strict-Transport-Security")

    # then Django sees HTTPS exactly when nginx says so (SECURE_PROXY_SSL_HEADER), and
    # answers with HSTS only then: the server passes the header through untouched
    assert hsts({"X-Forwarded-Proto": "https"})
    assert hsts({}) is None
    assert hsts({"X-Forwarded-Proto": "http"}) is None


@pytest.mark.parametrize(
    "headers",
    [
        pytest.param({"X-Padding": "a" * 9000}, id="one header over 8k"),
        pytest.param({"Cookie": "mh_reader=" + "a" * 20_000}, id="cookie over 8k"),
        pytest.param({f"X-Padding-{i}": "a" * 7000 for i in range(6)}, id="headers over 32k"),
    ],
)
def test_nginx_answers_oversized_headers_itself(topology, headers):
    # when a request carries headers past nginx's buffers
    response = get("/", headers=headers)

    # then nginx refuses it (no app server was asked, so there is no X-Upstream)
    assert response.status in (400, 431)
    assert not response.getheader("X-Upstream")


def test_nginx_answers_an_oversized_request_line_with_414(topology):
    response = get("/" + "a" * 9000)

    assert response.status == 414
