"""Instructions per article request, in-process, counted by callgrind: a figure that does not
move with whatever else the machine runs (wall-clock figures here vary by up to 2x).

    PYTHONHASHSEED=0 valgrind --tool=callgrind --callgrind-out-file=/dev/null \\
        .venv/bin/python bench/instructions.py --requests 300

callgrind's "Collected" line is the total. Run it with ``--requests 0`` as well and take the
difference per request (bench/README.md). ``--reader`` picks who asks: ``new`` (no cookie, a
network never seen before), ``counted`` (the cookie of a reader whose read of the article is
counted already) or ``subscriber`` (the bench's signed-in subscriber, made as bench/hotpath
makes it, sending the session cookie and any cookie their first page set). Needs the
database ``bench/hotpath --keep-db`` leaves and Redis on 127.0.0.1:6379. Repeatable to the
instruction only with a fixed ``PYTHONHASHSEED`` (string hashes, and so dict and set probing,
change with the seed).
"""

import argparse
import http.client
import io
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import harness  # noqa: E402
import hotpath  # noqa: E402


def call(app, path: str, cookie: str | None = None) -> tuple[int, list, bytes]:
    """One GET through the WSGI application, as the app server would make it behind nginx,
    from a client network never seen before (the cookieless bounds stay on)."""
    environ = {
        "REQUEST_METHOD": "GET",
        "SCRIPT_NAME": "",
        "PATH_INFO": path,
        "QUERY_STRING": "",
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "80",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "127.0.0.1",
        "HTTP_HOST": "127.0.0.1",
        "HTTP_X_FORWARDED_PROTO": "https",
        "HTTP_X_FORWARDED_FOR": harness.next_client(),
        "wsgi.version": (1, 0),
        "wsgi.url_scheme": "http",
        "wsgi.input": io.BytesIO(b""),
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": False,
        "wsgi.multiprocess": True,
        "wsgi.run_once": False,
    }
    if cookie:
        environ["HTTP_COOKIE"] = cookie
    answer = {}

    def start_response(status, headers, exc_info=None):
        answer.update(status=status, headers=headers)

    result = app(environ, start_response)
    try:
        body = b"".join(result)
    finally:
        if hasattr(result, "close"):  # Django's: request_finished, as under the app server
            result.close()
    return int(answer["status"].split()[0]), answer["headers"], body


def check(path: str, status: int, body: bytes, *, notice: bool) -> None:
    """Abort unless the answer is the full text, with the meter notice for a new reader
    (whose read counts now) and without it for the others: anything else would measure
    another page."""
    text = body.decode("utf-8", errors="replace")
    if (
        status != 200
        or harness.PAYWALL_MARK in text
        or (harness.METER_NOTICE_MARK in text) != notice
    ):
        sys.exit(
            f"GET {path} ({status}) is not the full text {'with' if notice else 'without'} "
            "the meter notice"
        )


def subscriber_cookie() -> str:
    """The session cookie of the subscriber bench/hotpath signs in (its SUBSCRIBER snippet,
    run here: the session must be made under this process's SECRET_KEY)."""
    made = {}
    exec(hotpath.SUBSCRIBER, {"emit": made.update})  # noqa: S102 - the bench's own snippet
    return made["cookie"]


def _message(set_cookies: list[str]) -> http.client.HTTPMessage:
    """Set-Cookie values as the response headers harness.keeping reads."""
    message = http.client.HTTPMessage()
    for value in set_cookies:
        message["Set-Cookie"] = value
    return message


def main() -> None:
    parser = argparse.ArgumentParser(prog="bench/instructions.py", description=__doc__)
    parser.add_argument("--reader", choices=["new", "counted", "subscriber"], default="new")
    parser.add_argument("--store", choices=list(hotpath.STORES), default="redis")
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument(
        "--database",
        default=harness.PG_DB,
        help="a copy of the kept database (CREATE DATABASE ... TEMPLATE masthead_bench), so "
        "another engineer's bench/hotpath, which drops masthead_bench, leaves it alone",
    )
    parser.add_argument(
        "--redis",
        default=harness.REDIS_URL,
        help="the Redis database for the cache and the meter (emptied first); another one "
        "than the bench's keeps a bench/hotpath run from emptying it meanwhile",
    )
    args = parser.parse_args()
    env = {**harness.bench_env("masthead.settings.production"), **hotpath.STORES[args.store]}
    env.update(DATABASE_URL=f"{harness.PG}/{args.database}", REDIS_URL=args.redis)
    # The generation tokens are read again once a second: once in thousands of requests at
    # full speed, but every few under callgrind, and more often the busier the machine.
    # Read once per run here, so the count is the requests' own and does not move with load.
    env["MASTHEAD_GENERATION_LOCAL_SECONDS"] = "86400"
    # The same for the site a worker keeps for 5 s (MASTHEAD_SITE_SECONDS): under callgrind
    # it was looked up in the database again several times a run, about 6 % of a new reader's
    # count; at full speed once in thousands of requests.
    env["MASTHEAD_SITE_SECONDS"] = "86400"
    os.environ.clear()
    os.environ.update(env)
    import django

    django.setup()
    from django.core.cache import cache

    from masthead.access.meter import get_meter_store
    from masthead.news.models import ArticlePage
    from masthead.wsgi import application

    # Both runs start from nothing cached, so the warm-up (rendering and keeping the pieces)
    # costs the same in each and the difference is the measured requests alone. Left as the
    # last run left it, the run that came second found the pieces cached and the difference
    # came out at a few thousand instructions per request.
    cache.clear()
    get_meter_store().clear()

    page = ArticlePage.objects.live().filter(access="metered").order_by("path").first()
    path = page.get_url_parts()[2]
    cookie = subscriber_cookie() if args.reader == "subscriber" else None
    status, headers, _body = call(application, path, cookie)
    if status != 200:
        sys.exit(f"GET {path} answered {status}")
    set_cookies = [value for name, value in headers if name.lower() == "set-cookie"]
    if args.reader == "counted":
        # The cookie a browser keeps: the first carries the first read unsettled, and the
        # next request settles it and sets the plain id. Sent for ever, the first cookie
        # would settle again on every request (three meter round trips), which no browser
        # does (harness.exhausted_reader keeps the settled one too).
        cookie = harness.reader_cookie(set_cookies)
        status, headers, _body = call(application, path, cookie)
        if status != 200:
            sys.exit(f"GET {path} answered {status}")
        settled = [value for name, value in headers if name.lower() == "set-cookie"]
        cookie = harness.reader_cookie(settled) or cookie
    elif args.reader == "subscriber":
        cookie = harness.keeping(cookie, _message(set_cookies))
    for _ in range(30):  # warm: connections, caches, the meter notice
        status, _headers, body = call(application, path, cookie)
    check(path, status, body, notice=args.reader == "new")
    for _ in range(args.requests):
        status, _headers, body = call(application, path, cookie)
        if status != 200:  # an error page would be a cheaper request than the article
            sys.exit(f"GET {path} answered {status}")
    if args.requests:
        check(path, status, body, notice=args.reader == "new")


if __name__ == "__main__":
    main()
