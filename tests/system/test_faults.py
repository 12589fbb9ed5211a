"""Faults in the production topology of `make prod-up`, tested from outside (127.0.0.1 only):
the meter across app servers, Redis stopped, PostgreSQL stopped, a worker killed while it
applies a Stripe webhook.

Only the topology's own services are stopped (Redis :6380, PostgreSQL :5433 under
var/prod/), never the machine's 6379 and 5432, and every test starts again what it stopped,
in a `finally`, so the topology is left as it was found. The gating is test_topology.py's.
"""

import json
import os
import re
import signal
import threading
import time
import uuid
from pathlib import Path

import pytest
import redis

from .conftest import (
    APP_PORTS,
    NGINX_PORT,
    PG_DSN,
    AppLog,
    Client,
    applied,
    create_offer,
    create_reader,
    deliver,
    master_pid,
    nginx_serves_both,
    paragraphs,
    prod,
    refund_event,
    requires_topology,
    sql,
    visible_text,
    wait_until,
    worker_pids,
)

pytestmark = requires_topology

METER_REDIS = "redis://127.0.0.1:6380/1"
SITE_NAME = "The Meridian Ledger"
PORTS = (*APP_PORTS, NGINX_PORT)


def reads(client: Client) -> int:
    """How many articles the anonymous reader in `client`'s cookie has used, per Redis."""
    reader = client.cookies["mh_reader"].split(":")[0].split(".")[0]  # the id, not its state
    found = redis.Redis.from_url(METER_REDIS, socket_timeout=2)
    try:
        return found.zcard(f"masthead:meter:{{a:{reader}}}")
    finally:
        found.close()


def remaining(html: str) -> int | None:
    """The meter message's count of free articles left (0: "your last free article")."""
    text = " ".join(visible_text(html).split())
    if "your last free article" in text:
        return 0
    found = re.search(r"You have (\d+) free articles? left", text)
    return int(found.group(1)) if found else None


def full(response, marker: str) -> bool:
    assert response.status == 200, (response.status, response.text[:300])
    return marker in " ".join(paragraphs(response.text))


def assert_branded_503_or_page(response, what: str) -> None:
    """During an outage a page is either served (from cache) or a branded 503 that tells
    the client when to retry; never a 500 and never a stack trace."""
    assert response.status in (200, 503), (what, response.status, response.text[:300])
    assert "Traceback" not in response.text
    if response.status == 503:
        assert response.header("Retry-After").isdigit(), (what, dict(response.headers))
        assert SITE_NAME in response.text, (what, response.text[:300])


# The meter across app servers


def test_a_reader_is_counted_once_per_article_on_whichever_server_answers(demo):
    allowance, markers = demo["allowance"], demo["markers"]
    articles = list(markers)
    reader = Client()

    # when the reader opens one article on 8001, 8002 and through nginx, again and again
    first = articles[0]
    for port in (8001, 8002, NGINX_PORT, 8002, 8001):
        response = reader.get(first, port=port)
        assert full(response, markers[first]), port
        # then it counts once, whichever server answered
        assert reads(reader) == 1, port
    assert remaining(reader.get(first, port=8002).text) in (allowance - 1, None)

    # when it opens more distinct articles, alternating between the servers
    for n, path in enumerate(articles[1:allowance], start=2):
        port = PORTS[n % len(PORTS)]
        response = reader.get(path, port=port)

        # then each counts once and the message says what is left
        assert full(response, markers[path]), (n, port)
        assert reads(reader) == n
        assert remaining(response.text) == allowance - n, (n, port)

    # and the next article is a teaser on every server, while the counted ones stay open
    over = articles[allowance]
    for port in PORTS:
        assert not full(reader.get(over, port=port), markers[over]), port
        assert full(reader.get(first, port=port), markers[first]), port
    assert reads(reader) == allowance


def race(reader: Client, paths: list[str], markers: dict) -> dict[str, bool]:
    """All the paths at once, alternately on each app server: which came back in full."""
    barrier = threading.Barrier(len(paths))
    results: dict[str, bool] = {}

    def read(i: int, path: str):
        barrier.wait(timeout=10)
        results[path] = full(reader.get(path, port=APP_PORTS[i % 2]), markers[path])

    threads = [threading.Thread(target=read, args=(i, path)) for i, path in enumerate(paths)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results


def test_one_reader_racing_both_servers_never_gets_more_than_the_allowance(demo):
    allowance, markers = demo["allowance"], demo["markers"]
    articles = list(markers)
    assert len(articles) > 2 * allowance, "the demo needs more metered articles"

    for round_ in range(3):
        # given a reader with one article counted (the cookie is only issued by the meter)
        reader = Client()
        opened = articles[round_]
        assert full(reader.get(opened, port=8001), markers[opened])
        others = [path for path in articles if path != opened][: 2 * allowance]

        # when it asks for twice its allowance of other articles at once, on both servers
        results = race(reader, others, markers)

        # then exactly the rest of the allowance was granted, and counted
        assert len(results) == len(others)
        granted = sum(results.values())
        assert granted == allowance - 1, (round_, results)
        assert reads(reader) == allowance


# Redis stopped


def test_redis_stopped_fails_closed_for_the_meter_only_and_recovers_without_restart(demo):
    markers = demo["markers"]
    path = list(markers)[-1]
    subscriber = Client()
    account = create_reader(subscribed=True)
    subscriber.sign_in(account["email"], account["password"])
    members_only = demo["subscribers"][0]
    members_marker = paragraphs(subscriber.get(members_only).text)[-1][:80]
    assert members_marker not in Client().get(members_only).text
    masters = {port: master_pid(port) for port in APP_PORTS}
    log = AppLog()
    statuses = []

    prod("stop-redis")
    try:
        # subscribers keep full access: entitlements come from PostgreSQL
        for port in PORTS:
            response = subscriber.get(path, port=port)
            statuses.append(response.status)
            assert full(response, markers[path]), port
            response = subscriber.get(members_only, port=port)
            statuses.append(response.status)
            assert members_marker in " ".join(paragraphs(response.text)), port

        # a new anonymous reader gets the teaser: the meter fails closed
        for port in PORTS:
            response = Client().get(path, port=port)
            statuses.append(response.status)
            assert not full(response, markers[path]), port
            assert markers[path] not in response.text

        # the rest of the site serves
        for page in ("/", "/world/", "/subscribe/"):
            response = Client().get(page)
            statuses.append(response.status)
            assert response.status == 200, (page, response.status)

        # with a warning in the log and from the readiness check
        logged = wait_until(lambda: "meter unavailable" in log.new(), 5)
        assert logged, log.new()[-2000:]
        assert any(
            "WARNING" in line and "meter unavailable" in line for line in log.new().splitlines()
        )
        for port in APP_PORTS:
            response = Client().get("/readyz", port=port)
            statuses.append(response.status)
            ready = json.loads(response.body)
            assert response.status == 200, ready
            assert ready["status"] == "degraded", ready
            assert ready["checks"]["redis_meter"]["status"] == "warning", ready
        assert all(status < 500 for status in statuses), statuses
    finally:
        prod("start-redis")

    # when Redis is back, the meter resumes in the running app servers
    for port in PORTS:
        assert wait_until(lambda p=port: full(Client().get(path, port=p), markers[path]), 15)
    assert {port: master_pid(port) for port in APP_PORTS} == masters
    for port in APP_PORTS:
        ready = json.loads(Client().get("/readyz", port=port).body)
        assert ready["status"] == "ready", ready


# PostgreSQL stopped


def test_postgres_stopped_answers_503_and_recovers_without_restart_or_lost_webhooks(demo):
    markers = demo["markers"]
    path = list(markers)[0]

    # given a reader who read an article, a signed-in reader on a checkout page, a sign-in
    # form, and a Stripe customer whose refund is about to be reported
    reader = Client()
    assert full(reader.get(path), markers[path])
    shopper = Client()
    account = create_reader()
    shopper.sign_in(account["email"], account["password"])
    offer = f"/subscribe/{create_offer()}/"
    # (the offer's address goes straight on to the payment page: the token from a form)
    checkout_token = shopper.csrf_token("/account/email/")
    visitor = Client()
    sign_in_token = visitor.csrf_token("/account/sign-in/")
    customer = f"cus_{uuid.uuid4().hex[:14]}"
    create_reader(stripe_customer=customer)
    event = refund_event(customer=customer)
    masters = {port: master_pid(port) for port in APP_PORTS}

    prod("stop-postgres")
    try:
        # then pages answer from cache where they can, otherwise with a branded 503
        seen = []
        for port in PORTS:
            for what, client, page in [
                ("article", reader, path),
                ("new reader", Client(), path),
                ("home", Client(), "/"),
            ]:
                response = client.get(page, port=port)
                seen.append((port, what, response.status, response.header("X-Upstream")))
                assert_branded_503_or_page(response, f"{what} :{port}")
        # many readers at once through nginx: a 503 must not make nginx give up on both
        # app servers and answer with its own 502
        for _ in range(12):
            response = Client().get(path)
            seen.append((NGINX_PORT, "burst", response.status, response.header("X-Upstream")))
            assert_branded_503_or_page(response, "burst through nginx")
        print("during the outage:", seen)

        # and what writes answers 503 with Retry-After, for clients and Stripe to retry
        started = time.monotonic()
        answers = {
            "sign-in": visitor.post_form(
                "/account/sign-in/",
                {
                    "csrfmiddlewaretoken": sign_in_token,
                    "username": account["email"],
                    "password": account["password"],
                },
            ),
            "checkout": shopper.post_form(offer, {"csrfmiddlewaretoken": checkout_token}),
            "webhook": deliver(event),
        }
        for what, response in answers.items():
            assert response.status == 503, (what, response.status, response.text[:300])
            assert response.header("Retry-After").isdigit(), what
            assert "Traceback" not in response.text
        # within the database connect timeout, not nginx's 30 s proxy_read_timeout
        assert time.monotonic() - started < 20
    finally:
        prod("start-postgres")

    # when PostgreSQL is back, the running app servers recover by themselves
    for port in APP_PORTS:
        assert wait_until(lambda p=port: Client().get("/readyz", port=p).status == 200, 30), port
    assert {port: master_pid(port) for port in APP_PORTS} == masters
    for port in PORTS:
        assert full(reader.get(path, port=port), markers[path]), port
    assert applied(event) == (0, 0)

    # Stripe's retry of the webhook is applied, once; a further retry changes nothing
    first = deliver(event)
    assert (first.status, first.text) == (200, "ok")
    again = deliver(event, port=APP_PORTS[1])
    assert (again.status, again.text) == (200, "already processed")
    assert applied(event) == (1, 1)

    # and the reader can sign in and check out again
    visitor.sign_in(account["email"], account["password"])
    assert shopper.get(offer).status == 302  # straight on to the payment page


# A worker killed during a webhook


def local_port_pids(port: int, candidates: list[int]) -> list[int]:
    """Which of the candidate processes holds the TCP socket whose local port is `port`."""
    inodes = set()
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        if int(fields[1].split(":")[1], 16) == port:
            inodes.add(f"socket:[{fields[9]}]")
    owners = []
    for pid in candidates:
        try:
            links = {os.readlink(fd) for fd in Path(f"/proc/{pid}/fd").iterdir()}
        except OSError:
            continue
        if links & inodes:
            owners.append(pid)
    return owners


def test_a_webhook_whose_worker_is_killed_mid_transaction_applies_once_on_replay(topology):
    import psycopg

    # given a Stripe customer whose subscription row another session holds locked, so the
    # refund's handler blocks inside its transaction, after recording the event's id
    customer = f"cus_{uuid.uuid4().hex[:14]}"
    subscription = create_reader(stripe_customer=customer)["subscription"]
    event = refund_event(customer=customer)
    port = APP_PORTS[0]
    lock = psycopg.connect(PG_DSN, connect_timeout=5)
    delivery: dict = {}
    try:
        lock.execute(
            "select 1 from subscriptions_subscription where id = %s for update", (subscription,)
        )

        def send():
            try:
                delivery["response"] = deliver(event, port=port, timeout=60)
            except OSError as error:  # includes http.client's RemoteDisconnected
                delivery["error"] = error

        sender = threading.Thread(target=send, daemon=True)
        sender.start()
        waiting = wait_until(
            lambda: sql(
                "select client_port from pg_stat_activity where datname = 'masthead'"
                " and wait_event_type = 'Lock' and query ilike %s",
                ("%subscriptions_subscription%",),
            ),
            20,
            0.2,
        )
        assert waiting, "the webhook never reached the locked row"
        [(client_port,)] = waiting
        workers = worker_pids(port)
        [worker] = local_port_pids(client_port, workers)

        # when that worker is killed outright
        os.kill(worker, signal.SIGKILL)
        sender.join(timeout=30)
        assert "response" not in delivery, delivery["response"].status
    finally:
        lock.rollback()
        lock.close()

    # then nothing of it was kept, and granian replaced the worker
    assert wait_until(
        lambda: (
            not sql(
                "select 1 from pg_stat_activity where datname = 'masthead'"
                " and wait_event_type = 'Lock'"
            )
        ),
        20,
    )
    assert applied(event) == (0, 0)
    assert wait_until(
        lambda: worker not in worker_pids(port) and len(worker_pids(port)) == len(workers), 30
    )

    # and Stripe's replay of the same event is applied, once
    replay = deliver(event, port=port)
    assert (replay.status, replay.text) == (200, "ok")
    assert deliver(event, port=port).text == "already processed"
    assert applied(event) == (1, 1)
    [(amount,)] = sql(
        "select amount from subscriptions_paymentevent where data->>'charge' = %s",
        (event["data"]["object"]["id"],),
    )
    assert float(amount) == event["data"]["object"]["amount_refunded"] / 100


@pytest.fixture(autouse=True)
def _topology_whole_after_each_test(topology):
    """A test that failed half-way still leaves every piece running for the next one."""
    yield
    prod("start-postgres")
    prod("start-redis")
    for port in APP_PORTS:
        prod("start-app", str(port))
    assert wait_until(nginx_serves_both, 40), "nginx does not reach both app servers"
