"""Site search's latency on PostgreSQL over a grown archive: p50 and p95 of /search/.

    .venv/bin/python bench/search.py                   # 100,000 articles, then drop the db
    .venv/bin/python bench/search.py --articles 20000 --keep

On a database of its own (``masthead_search`` on the shared PostgreSQL server: the demo,
``--articles`` seeded articles by bench/seed.py, then the search index of the seeded ones,
built the way ``manage.py update_index`` builds it, in chunks through Wagtail's backend) and
the bench's Redis database, under production settings. The database is dropped at the end
unless ``--keep``; a kept one is used again (only missing articles are seeded and indexed).

Each query of QUERIES goes through Django's handler and the URL router
(``django.test.Client``, one process, one request at a time, no network): first with the
cache emptied (``first_ms``: the snippets' teaser texts are rendered from the bodies), then
``--repeat`` times each after a new listings generation, as after a publish, so that the
search itself runs every time (``p50_ms``/``p95_ms``, the figure), then ``--repeat`` times
answered from the kept count and ids (``kept_*``). One JSON line per query and one summary
line over all of them, with the machine and its load average.

The seeded articles share one text apart from their number (bench/seeding.py): a word of it
("markets", "monsoon") matches all of them, which is the worst case for ranking; words of
the demo's 28 stories ("korea", "yen") match a few, and a number ("4242") matches one.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import harness  # noqa: E402

DB = "masthead_search"
TARGET_P95_MS = 50
# (name, query string): one word, two words, a phrase, rare and common terms, filters, sort.
QUERIES = [
    ("one rare word", {"q": "korea"}),
    ("one common word", {"q": "markets"}),
    ("two common words", {"q": "monsoon harvest"}),
    ("two rare words", {"q": "yen rally"}),
    ("phrase", {"q": '"bank of japan"'}),
    ("phrase, common words", {"q": '"ministers and the monsoon"'}),
    ("a number (one article)", {"q": "4242"}),
    ("no match", {"q": "xylophone"}),
    ("common word, newest first", {"q": "markets", "sort": "date"}),
    ("common word, page 7", {"q": "monsoon", "page": "7"}),
    ("rare word, section filter", {"q": "chips", "section": "technology"}),
    ("common word, date filter", {"q": "currencies", "from": "2026-01-01", "to": "2026-06-30"}),
]


def parse_args(argv):
    parser = argparse.ArgumentParser(prog="bench/search.py", description=__doc__)
    parser.add_argument(
        "--articles", type=harness.non_negative_int, default=100_000, help="seeded articles"
    )
    parser.add_argument(
        "--repeat", type=harness.positive_int, default=20, help="requests per query (warm)"
    )
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    return parser.parse_args(argv)


def environment() -> dict[str, str]:
    env = harness.bench_env("masthead.settings.production")
    env["DATABASE_URL"] = f"{harness.PG}/{DB}"
    return env


def prepare(env, args) -> None:
    """The database with the demo and the seeded articles (kept between runs with --keep),
    and the static files: production settings serve them by their hashed names."""
    harness.own_database(DB, env, args.articles)
    manage = [str(harness.VENV_BIN / "python"), str(harness.ROOT / "manage.py")]
    subprocess.run([*manage, "collectstatic", "--noinput", "-v0"], env=env, check=True)


def _seeded_body_text(teaser: int):
    """ArticlePage.search_body_text for the seeded articles, without rendering each body.

    The product's text of one seeded article's body takes some 10-20 ms to make (each block
    rendered, each paragraph parsed): hours for 100,000 articles, five times over, since
    Wagtail's indexer asks for every field once per vector it builds. Seeded bodies differ
    only by their number (bench/seeding.py), so the text of article n is the product's text
    of the first one with its number changed; a sample across the range is checked against
    the product's own function first. Other articles get the product's text."""
    import seeding

    from masthead.news import search_index
    from masthead.news.models import ArticlePage

    product = ArticlePage.search_body_text
    seeded = ArticlePage.objects.filter(slug__startswith=seeding.SLUG_PREFIX).order_by("pk")

    def number(article) -> int | None:
        prefix = seeding.SLUG_PREFIX
        return int(article.slug[len(prefix) :]) if article.slug.startswith(prefix) else None

    first = seeded.first()
    if first is None:
        return product
    model = search_index.public_body_text(first, teaser)
    marker = f"bench article {number(first)}."
    if marker not in model:
        raise SystemExit(f"search: the seeded body text has changed: {model[:200]!r}")

    def text(article) -> str:
        n = number(article)
        if n is None:
            return product(article)
        return model.replace(marker, f"bench article {n}.")

    ids = list(seeded.values_list("pk", flat=True))
    for sample in seeded.filter(pk__in=ids[:: max(1, len(ids) // 20)]):
        if text(sample) != search_index.public_body_text(sample, teaser):
            raise SystemExit(f"search: seeded article {sample.slug}'s text differs")
    return text


def index_missing(chunk: int = 1000) -> dict:
    """Index the articles that have no index entry (seeded rows send no signal) through
    Wagtail's backend (its add_items, in chunks, as update_index does; then the title
    norms), with the seeded bodies' text made as _seeded_body_text says."""
    from django.db.models import CharField
    from django.db.models.functions import Cast
    from wagtail.search.backends import get_search_backend
    from wagtail.search.models import IndexEntry

    from masthead.news import search_index
    from masthead.news.models import ArticlePage

    backend = get_search_backend()
    index = backend.get_index_for_model(ArticlePage)
    indexed = IndexEntry.objects.values("object_id")
    missing = (
        ArticlePage.objects.annotate(text_id=Cast("pk", CharField()))
        .exclude(text_id__in=indexed)
        .order_by("pk")
    )
    ids = list(missing.values_list("pk", flat=True))
    if not ids:
        return {"indexed": 0, "index_seconds": 0}
    # Every article is in the one site: its teaser length is looked up once, not twice a
    # query per article.
    teaser = search_index.teaser_paragraphs_for(ArticlePage.objects.live().first())
    search_index.teaser_paragraphs_for = lambda article: teaser
    ArticlePage.search_body_text = _seeded_body_text(teaser)
    started = time.monotonic()
    for start in range(0, len(ids), chunk):
        batch = list(
            ArticlePage.objects.filter(pk__in=ids[start : start + chunk]).prefetch_related(
                "article_authors__author", "topics"
            )
        )
        index.add_items(ArticlePage, batch)
        if start and start % (chunk * 10) == 0:
            harness.log(f"search: indexed {start} of {len(ids)}")
    index._refresh_title_norms(full=True)
    return {"indexed": len(ids), "index_seconds": round(time.monotonic() - started, 1)}


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(fraction * len(ordered)) - 1))]


def measure(args) -> list[dict]:
    import django

    django.setup()
    from django.core.cache import cache
    from django.db import connection
    from django.test import Client

    from masthead.core import generations

    built = index_missing()
    with connection.cursor() as cursor:
        # As autovacuum would after a while: the new entries' statistics, and the GIN
        # index's pending list merged (a search reads it whole until then).
        cursor.execute("VACUUM ANALYZE wagtailsearch_indexentry")
        cursor.execute("select count(*) from wagtailsearch_indexentry")
        entries = cursor.fetchone()[0]
    client = Client(HTTP_HOST="127.0.0.1", HTTP_X_FORWARDED_PROTO="https")

    def timed(params) -> tuple[float, str]:
        started = time.perf_counter()
        response = client.get("/search/", params)
        elapsed = (time.perf_counter() - started) * 1000
        if response.status_code != 200:
            raise SystemExit(f"search: {params} answered {response.status_code}")
        return elapsed, response.content.decode()

    lines = []
    searched_all, kept_all, first_all = [], [], []
    for name, params in QUERIES:
        cache.clear()
        generations.forget_local()
        first, html = timed(params)  # nothing cached: the snippets' teasers are rendered
        searched = []
        for _ in range(args.repeat):
            # A new listings generation, as after a publish: the search runs again (the
            # teasers of unchanged articles stay cached under the pages generation).
            generations.bump(generations.LISTINGS)
            searched.append(timed(params)[0])
        kept = [timed(params)[0] for _ in range(args.repeat)]  # the kept count and ids
        first_all.append(first)
        searched_all.extend(searched)
        kept_all.extend(kept)
        lines.append(
            {
                "scenario": "search",
                "query": name,
                "params": params,
                "results_on_page": html.count('class="search-result"'),
                "first_ms": round(first, 1),
                "p50_ms": round(statistics.median(searched), 1),
                "p95_ms": round(percentile(searched, 0.95), 1),
                "kept_p50_ms": round(statistics.median(kept), 1),
            }
        )
    p95 = percentile(searched_all, 0.95)
    lines.append(
        {
            "scenario": "search-summary",
            "articles_live": _live_articles(),
            "index_entries": entries,
            **built,
            "requests": len(searched_all),
            "p50_ms": round(statistics.median(searched_all), 1),
            "p95_ms": round(p95, 1),
            "kept_p50_ms": round(statistics.median(kept_all), 1),
            "kept_p95_ms": round(percentile(kept_all, 0.95), 1),
            "first_p50_ms": round(statistics.median(first_all), 1),
            "first_max_ms": round(max(first_all), 1),
            "target_p95_ms": TARGET_P95_MS,
            "meets": p95 <= TARGET_P95_MS,
            "machine": harness.machine(),
            "load_average": " ".join(f"{x:.2f}" for x in os.getloadavg()),
            "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        }
    )
    return lines


def _live_articles() -> int:
    from masthead.news.models import ArticlePage

    return ArticlePage.objects.live().count()


def main(argv) -> int:
    args = parse_args(argv)
    if "DJANGO_SETTINGS_MODULE" not in os.environ:
        env = environment()
        try:
            with harness.bench_lock():
                prepare(env, args)
                os.environ.update(env)
                code = subprocess.run([sys.executable, __file__, *argv], env=env).returncode
        finally:
            if not args.keep:
                harness.drop_database(DB)
        return code
    for line in measure(args):
        print(json.dumps(line), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
