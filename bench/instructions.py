"""Instructions per article request, in-process, counted by callgrind: a figure that does not
move with whatever else the machine runs (wall-clock figures here vary by up to 2x).

    PYTHONHASHSEED=0 valgrind --tool=callgrind --callgrind-out-file=/dev/null \\
        .venv/bin/python bench/instructions.py --requests 300

callgrind's "Collected" line is the total. Run it with ``--requests 0`` as well and take the
difference per request (bench/README.md). Needs the database ``bench/hotpath --keep-db``
leaves and Redis on 127.0.0.1:6379. Repeatable to the instruction only with a fixed
``PYTHONHASHSEED`` (string hashes, and so dict and set probing, change with the seed).
"""

import argparse
import io
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import harness  # noqa: E402
import hotpath  # noqa: E402


def call(app, path: str, cookie: str | None = None) -> tuple[int, list]:
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
        b"".join(result)
    finally:
        if hasattr(result, "close"):  # Django's: request_finished, as under the app server
            result.close()
    return int(answer["status"].split()[0]), answer["headers"]


def main() -> None:
    parser = argparse.ArgumentParser(prog="bench/instructions.py", description=__doc__)
    parser.add_argument("--reader", choices=["new", "counted"], default="new")
    parser.add_argument("--store", choices=list(hotpath.STORES), default="redis")
    parser.add_argument("--requests", type=int, default=300)
    args = parser.parse_args()
    env = {**harness.bench_env("masthead.settings.production"), **hotpath.STORES[args.store]}
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
    status, headers = call(application, path)
    if status != 200:
        sys.exit(f"GET {path} answered {status}")
    set_cookies = [value for name, value in headers if name.lower() == "set-cookie"]
    cookie = harness.reader_cookie(set_cookies) if args.reader == "counted" else None
    for _ in range(30):  # warm: connections, caches, the meter notice
        call(application, path, cookie)
    for _ in range(args.requests):
        status, _headers = call(application, path, cookie)
        if status != 200:  # an error page would be a cheaper request than the article
            sys.exit(f"GET {path} answered {status}")


if __name__ == "__main__":
    main()
