"""Shared pieces of the load and fault tests: the topology of `make prod-up`, plain HTTP
against 127.0.0.1 with a cookie jar, the app's own management shell and its PostgreSQL on
5433 (never the machine's 5432), and signed Stripe events.

`topology` is session-wide: it brings the topology up when it is down (and takes it down
at the end), or finds it up and leaves it up, whatever a test stopped brought back."""

import hashlib
import hmac
import http.client
import json
import os
import re
import subprocess
import time
import uuid
from html import unescape
from http.cookies import SimpleCookie
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PROD = ROOT / "var" / "prod"
PROD_SH = ROOT / "deploy" / "prod.sh"
PYTHON = ROOT / ".venv" / "bin" / "python"
NGINX_PORT = 8080
APP_PORTS = (8001, 8002)
PG_DSN = "postgresql://masthead@127.0.0.1:5433/masthead"
WEBHOOK_URL = "/subscribe/stripe/webhook/"


def topology_is_up() -> bool:
    if not PROD_SH.exists():
        return False
    result = subprocess.run([PROD_SH, "status"], capture_output=True, timeout=30)
    return result.returncode == 0


requires_topology = pytest.mark.skipif(
    os.environ.get("MASTHEAD_SYSTEM_TESTS") != "1" and not topology_is_up(),
    reason="the production topology is down (make prod-up, or MASTHEAD_SYSTEM_TESTS=1)",
)


def prod(*args: str, timeout: float = 600) -> None:
    result = subprocess.run([PROD_SH, *args], capture_output=True, text=True, timeout=timeout)
    assert result.returncode == 0, f"prod.sh {' '.join(args)}: {result.stderr[-2000:]}"


def prod_env() -> dict[str, str]:
    """var/prod/env, what the app servers were started with."""
    env = {}
    for line in (PROD / "env").read_text().splitlines():
        if line and not line.startswith("#") and "=" in line:
            name, value = line.split("=", 1)
            env[name] = value
    return env


def master_pid(port: int) -> int:
    return int((PROD / "run" / f"app-{port}.pid").read_text().split()[0])


def worker_pids(port: int) -> list[int]:
    """The granian master's children: its workers."""
    master = master_pid(port)
    children = []
    for task in Path(f"/proc/{master}/task").iterdir():
        try:
            children += [int(pid) for pid in (task / "children").read_text().split()]
        except FileNotFoundError:  # a thread that ended while the list was read
            continue
    return sorted(children)


def app_env_is_current(port: int) -> bool:
    """The app server has what today's var/prod/env gives it: a webhook secret and the demo
    opt-in (without which production settings refuse the test payment provider)."""
    environ = Path(f"/proc/{master_pid(port)}/environ").read_bytes().split(b"\0")
    return b"MASTHEAD_DEMO=true" in environ and any(
        item.startswith(b"STRIPE_WEBHOOK_SECRET=whsec_") for item in environ
    )


@pytest.fixture(scope="session")
def topology():
    started_here = not topology_is_up()
    env = {} if started_here else prod_env()
    if started_here or "STRIPE_WEBHOOK_SECRET" not in env or env.get("MASTHEAD_DEMO") != "true":
        prod("up")
    # A topology started by an older prod.sh has app servers without a webhook secret or the
    # demo opt-in; `up` has written them to var/prod/env, which only a fresh start of each
    # app reads.
    for port in APP_PORTS:
        if not app_env_is_current(port):
            prod("stop-app", str(port))
            prod("start-app", str(port))
    # The tests' new readers all come through nginx from 127.0.0.1: without this the bounds
    # for cookieless clients would give them teasers after the first few.
    manage_shell(
        "from django.core.management import call_command; call_command('meter_bounds', '--off')"
    )
    yield
    if started_here:
        prod("down")
    else:
        # as it was found: every piece running (a test that stopped one started it again)
        for command in ("start-postgres", "start-redis"):
            prod(command)
        for port in APP_PORTS:
            prod("start-app", str(port))


def manage_shell(code: str, timeout: float = 120) -> str:
    """Run `code` in `manage.py shell` with the app servers' environment; its stdout."""
    env = {**os.environ, **prod_env()}
    result = subprocess.run(
        [PYTHON, "manage.py", "shell", "-c", code],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return result.stdout


def manage_json(code: str) -> dict:
    """Run `code`, which prints one JSON object as its last line, and return it."""
    return json.loads(manage_shell(code).strip().splitlines()[-1])


def sql(query: str, params: tuple = ()) -> list[tuple]:
    import psycopg

    with psycopg.connect(PG_DSN, connect_timeout=5, autocommit=True) as conn:
        return conn.execute(query, params).fetchall()


class Response:
    def __init__(self, status: int, headers: http.client.HTTPMessage, body: bytes):
        self.status = status
        self.headers = headers
        self.body = body

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", "replace")

    def header(self, name: str) -> str:
        return self.headers.get(name) or ""


class Client:
    """A browser, roughly: a cookie jar sent to every port (Secure cookies included, as
    browsers do for 127.0.0.1), CSRF-token forms, no redirects followed."""

    def __init__(self):
        self.cookies: dict[str, str] = {}

    def request(
        self,
        method: str,
        path: str,
        *,
        port: int = NGINX_PORT,
        body: bytes | None = None,
        headers: dict | None = None,
        timeout: float = 30,
    ) -> Response:
        headers = {"Host": f"127.0.0.1:{port}", **(headers or {})}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
        try:
            conn.request(method, path, body=body, headers=headers)
            raw = conn.getresponse()
            response = Response(raw.status, raw.headers, raw.read())
        finally:
            conn.close()
        for line in response.headers.get_all("Set-Cookie") or []:
            for name, morsel in SimpleCookie(line).items():
                if morsel["max-age"] == "0" or not morsel.value:
                    self.cookies.pop(name, None)
                else:
                    self.cookies[name] = morsel.value
        return response

    def get(self, path: str, **kwargs) -> Response:
        return self.request("GET", path, **kwargs)

    def post_form(self, path: str, fields: dict, *, port: int = NGINX_PORT, **kwargs) -> Response:
        from urllib.parse import urlencode

        headers = {
            "Content-Type": "application/x-www-form-urlencoded",
            "Origin": f"http://127.0.0.1:{port}",
            "Referer": f"http://127.0.0.1:{port}{path}",
        }
        return self.request(
            "POST", path, port=port, body=urlencode(fields).encode(), headers=headers, **kwargs
        )

    def csrf_token(self, path: str, *, port: int = NGINX_PORT) -> str:
        response = self.get(path, port=port)
        assert response.status == 200, (path, response.status)
        found = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', response.text)
        assert found, f"no CSRF token on {path}"
        return found.group(1)

    def sign_in(self, email: str, password: str, *, port: int = NGINX_PORT) -> None:
        token = self.csrf_token("/account/sign-in/", port=port)
        response = self.post_form(
            "/account/sign-in/",
            {"csrfmiddlewaretoken": token, "username": email, "password": password},
            port=port,
        )
        assert response.status == 302, (response.status, response.text[:500])
        assert "sessionid" in self.cookies


def paragraphs(html: str) -> list[str]:
    """The article body's paragraphs as plain text."""
    start = html.find('<div class="article__body">')
    if start < 0:
        return []
    end = html.find("</article>", start)
    found = re.findall(r"<p[^>]*>(.*?)</p>", html[start:end], re.S)
    body = []
    for paragraph in found:
        text = unescape(re.sub(r"<[^>]+>", "", paragraph)).strip()
        if not text:
            continue
        body.append(text)
    return body


def visible_text(html: str) -> str:
    return unescape(re.sub(r"<[^>]+>", " ", html))


@pytest.fixture(scope="session")
def demo(topology) -> dict:
    """The demo's meter allowance and its metered articles, each with a sentence that only
    the full text has (the last paragraph of the body: the teaser is the first few)."""
    found = manage_json(
        "import json\n"
        "from wagtail.models import Site\n"
        "from masthead.access.models import MeterSettings\n"
        "from masthead.news.models import ArticlePage\n"
        "config = MeterSettings.for_site(Site.objects.get(is_default_site=True))\n"
        "pages = ArticlePage.objects.live().order_by('pk')\n"
        "print(json.dumps({'allowance': config.anonymous_allowance,"
        " 'teaser_paragraphs': config.teaser_paragraphs,"
        " 'metered': [p.url for p in pages if p.access == 'metered'],"
        " 'subscribers': [p.url for p in pages if p.access == 'subscribers']}))"
    )
    markers = {}
    for path in found["metered"]:
        # a new reader each time: its first metered article is always full
        body = paragraphs(Client().get(path).text)
        assert len(body) > found["teaser_paragraphs"] + 1, (path, body)
        markers[path] = body[-1][:80]
    found["markers"] = markers
    return found


def create_reader(*, subscribed: bool = False, stripe_customer: str = "") -> dict:
    """A verified reader with a password; with an active subscription (test provider), or
    with an expired Stripe subscription for `stripe_customer`, as asked."""
    email = f"system-{uuid.uuid4().hex[:12]}@example.com"
    password = uuid.uuid4().hex
    code = f"""
import json
from datetime import timedelta
from django.utils import timezone
from django.contrib.auth import get_user_model
from masthead.subscriptions import actions
from masthead.subscriptions.models import Plan, Subscription
now = timezone.now()
user = get_user_model().objects.create_user(
    username={email!r}, email={email!r}, password={password!r}, email_verified=True)
plan = Plan.objects.get_or_create(
    slug='system-tests', defaults={{'name': 'System tests', 'price': 10, 'interval': 'month'}})[0]
sub = None
if {subscribed!r}:
    sub = actions.start(user=user, plan=plan, period_end=now + timedelta(days=30), now=now).pk
if {stripe_customer!r}:
    sub = Subscription.objects.create(
        user=user, plan=plan, status='expired', current_period_end=now - timedelta(days=1),
        provider='stripe', provider_customer_id={stripe_customer!r},
        provider_subscription_id='sub_' + {stripe_customer!r}).pk
print(json.dumps({{'user': user.pk, 'subscription': sub}}))
"""
    return {"email": email, "password": password, **manage_json(code)}


def create_offer(minutes: int = 15) -> int:
    """An offer of the system tests' plan ($0.99 for a month) that ends by itself soon, so
    the demo's /subscribe/ page is back to normal shortly after the run."""
    return manage_json(
        "import json\n"
        "from datetime import timedelta\n"
        "from django.utils import timezone\n"
        "from masthead.subscriptions.models import Offer, Plan\n"
        "now = timezone.now()\n"
        "plan = Plan.objects.get_or_create(slug='system-tests', defaults={"
        "'name': 'System tests', 'price': 10, 'interval': 'month'})[0]\n"
        "offer = Offer.objects.create(plan=plan, name='System tests', intro_price='0.99',"
        f" intro_periods=1, starts_at=now - timedelta(minutes=1),"
        f" ends_at=now + timedelta(minutes={minutes}))\n"
        "print(json.dumps({'offer': offer.pk}))"
    )["offer"]


def sign_stripe(payload: bytes, secret: str) -> str:
    """Stripe's scheme: t=<unix time>,v1=<HMAC-SHA256 of "t.payload">, made anew for each
    delivery, as Stripe does when it retries."""
    timestamp = int(time.time())
    digest = hmac.new(
        secret.encode(), f"{timestamp}.".encode() + payload, hashlib.sha256
    ).hexdigest()
    return f"t={timestamp},v1={digest}"


def refund_event(*, customer: str, amount: int = 99) -> dict:
    """charge.refunded for a Stripe customer: its handler writes only to our database (no
    call to Stripe when the subscription has already expired), so it runs offline."""
    return {
        "id": f"evt_{uuid.uuid4().hex[:24]}",
        "object": "event",
        "type": "charge.refunded",
        "created": int(time.time()),
        "livemode": False,
        "data": {
            "object": {
                "id": f"ch_{uuid.uuid4().hex[:24]}",
                "object": "charge",
                "customer": customer,
                "invoice": None,
                "amount": amount,
                "amount_refunded": amount,
                "refunded": True,
                "currency": "usd",
            }
        },
    }


def deliver(event: dict, *, port: int = NGINX_PORT, timeout: float = 30) -> Response:
    payload = json.dumps(event).encode()
    signature = sign_stripe(payload, prod_env()["STRIPE_WEBHOOK_SECRET"])
    return Client().request(
        "POST",
        WEBHOOK_URL,
        port=port,
        body=payload,
        headers={"Content-Type": "application/json", "Stripe-Signature": signature},
        timeout=timeout,
    )


def applied(event: dict) -> tuple[int, int]:
    """How many times the event was recorded, and how many refunds its charge left."""
    [(events,)] = sql(
        "select count(*) from subscriptions_providerevent where provider = 'stripe'"
        " and event_id = %s",
        (event["id"],),
    )
    [(refunds,)] = sql(
        "select count(*) from subscriptions_paymentevent where kind = 'refunded'"
        " and data->>'charge' = %s",
        (event["data"]["object"]["id"],),
    )
    return events, refunds


def wait_until(condition, seconds: float, interval: float = 0.5):
    """condition()'s first truthy value, or its last value when the time is up."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            value = condition()
        except (OSError, http.client.HTTPException):
            value = None
        if value or time.monotonic() > deadline:
            return value
        time.sleep(interval)


def nginx_serves_both() -> bool:
    """nginx passes requests to both app servers again. After an outage in which they
    answered 5xx it may hold them as failed for its fail_timeout (10 s)."""
    answers = [Client().get("/healthz") for _ in range(6)]
    upstreams = {answer.header("X-Upstream") for answer in answers}
    expected = {f"127.0.0.1:{port}" for port in APP_PORTS}
    return all(answer.status == 200 for answer in answers) and upstreams == expected


class AppLog:
    """What the app servers log from now on (var/prod/log/app-*.log)."""

    def __init__(self):
        self.files = [PROD / "log" / f"app-{port}.log" for port in APP_PORTS]
        self.offsets = {path: path.stat().st_size if path.exists() else 0 for path in self.files}

    def new(self) -> str:
        text = ""
        for path in self.files:
            with path.open("rb") as f:
                f.seek(self.offsets[path])
                text += f.read().decode("utf-8", "replace")
        return text
