"""Instructions per article request, in-process, counted by callgrind: a figure that does not
move with whatever else the machine runs (wall-clock figures here vary by up to 2x).

    PYTHONHASHSEED=0 valgrind --tool=callgrind --callgrind-out-file=/dev/null \\
        .venv/bin/python bench/instructions.py --lane fast --requests 300

prints nothing itself that matters: callgrind's "Collected" line is the total. Run it with
``--requests 0`` as well and take the difference per request (``bench/README.md``). Needs
the database ``bench/hotpath --keep-db`` leaves, Redis on 127.0.0.1:6379.

Repeatable to the instruction only with a fixed ``PYTHONHASHSEED`` (string hashes, and so
dict and set probing, change with the seed: about 2 % between runs) and generation tokens
kept longer than the run (``--local-seconds``, default 3600: under callgrind a request
takes some 50 ms, so with the production default of 1 s how often the tokens are read
would depend on the machine's speed).
"""

import argparse
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import hotpath  # noqa: E402
from paywall_profile import call, reader_cookie  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--lane", choices=["fast", "django"], default="fast")
    parser.add_argument("--reader", choices=["new", "counted"], default="new")
    parser.add_argument("--store", choices=list(hotpath.STORES), default="redis")
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--local-seconds", default="3600")
    args = parser.parse_args()
    env = {**hotpath.hot_env("masthead.settings.production"), **hotpath.STORES[args.store]}
    env["MASTHEAD_GENERATION_LOCAL_SECONDS"] = args.local_seconds
    os.environ.clear()
    os.environ.update(env)
    import django

    django.setup()
    from masthead.news.models import ArticlePage
    from masthead.wsgi import _django, application

    app = application if args.lane == "fast" else _django
    page = ArticlePage.objects.live().filter(access="metered").order_by("path").first()
    path = page.get_url_parts()[2]
    status, headers, _ = call(_django, path)
    cookie = reader_cookie(headers) if args.reader == "counted" else None
    for _ in range(30):  # warm: memo, meter notice, connections
        call(app, path, cookie)
    for _ in range(args.requests):
        call(app, path, cookie)


if __name__ == "__main__":
    main()
