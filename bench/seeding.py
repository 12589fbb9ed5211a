"""What bench/seed.py writes: many live articles and a month of meter entries, for the
grown-data runs of bench/hotpath. Not part of the installed product.

The rows are written straight into the tables, in the layout the site's own code writes
(Wagtail's page tree and revisions, the meter stores' rows and keys), because the normal
way costs hours at this size: `add_child()` and `publish()` take a dozen queries and a tree
update per page. Nothing here is for production data: `run` refuses without MASTHEAD_DEMO.

Seeded rows are recognisable and numbered, which is what makes a second run cheap and
harmless: article `n` has the slug `bench-0000n` under its section, reader `n` the key
`a:bench000...0n` (a valid 22-character anonymous id). A run creates the numbers that are
missing and leaves the others alone, so re-running with the same numbers adds nothing.
"""

import os
import time
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.contrib.contenttypes.models import ContentType
from django.core.cache import cache
from django.db import connection, connections, reset_queries, router, transaction
from django.db.models import CharField, OuterRef, Subquery
from django.db.models.functions import Cast
from modelcluster.models import get_serializable_data_for_fields
from taggit.models import Tag
from wagtail.models import Page, Revision

from masthead.access import gate
from masthead.access.meter import db as db_meter
from masthead.access.meter import get_meter_store
from masthead.access.meter import redis as redis_meter
from masthead.access.meter.base import MeterStoreBase
from masthead.access.models import MeterEntry, MeterReader, MeterSettings
from masthead.access.periods import MeterWindow
from masthead.core import clock
from masthead.demo.guard import require_demo
from masthead.news.models import (
    Access,
    ArticleAuthor,
    ArticlePage,
    ArticlePageTag,
    Author,
    SectionPage,
)

SLUG_PREFIX = "bench-"
READER_PREFIX = "bench"
BODY_PARAGRAPHS = 8


@dataclass
class Seeded:
    what: str
    created: int
    existing: int
    seconds: float

    def __str__(self):
        return (
            f"{self.what}: {self.created} created, {self.existing} already there, "
            f"{self.seconds:.1f} s"
        )


def article_slug(n: int) -> str:
    return f"{SLUG_PREFIX}{n:07d}"


def reader_id(n: int) -> str:
    """The anonymous id of seeded reader `n`, as the reader cookie would carry it."""
    return f"{READER_PREFIX}{n:0{22 - len(READER_PREFIX)}d}"


def reader_key(n: int) -> str:
    return f"a:{reader_id(n)}"


def default_section() -> SectionPage:
    section = SectionPage.objects.live().order_by("path").first()
    if section is None:
        raise ValueError("no live section to put articles under; run load_demo first")
    return section


# --- articles -------------------------------------------------------------------------------


def seed_articles(*, count: int, section: SectionPage, batch_size: int = 2000) -> Seeded:
    """Live, metered articles 1..count under `section`, each with a live revision (the
    article cache keys on it), one author and one topic when the site has any."""
    started = time.monotonic()
    existing = set(
        Page.objects.child_of(section)
        .filter(slug__startswith=SLUG_PREFIX)
        .values_list("slug", flat=True)
    )
    missing = [n for n in range(1, count + 1) if article_slug(n) not in existing]
    if missing:
        with transaction.atomic():
            # Nobody else may add a child meanwhile: our paths follow the last one.
            section = SectionPage.objects.select_for_update().get(pk=section.pk)
            _create_articles(section, missing, batch_size)
            Page.objects.filter(pk=section.pk).update(numchild=section.get_children().count())
        _forget_cached_pages()
    return Seeded("articles", len(missing), count - len(missing), time.monotonic() - started)


def _create_articles(section: SectionPage, numbers: list[int], batch_size: int) -> None:
    last = section.get_last_child()
    step = Page._str2int(last.path[-Page.steplen :]) + 1 if last else 1
    # Older than everything already there, so home and section fronts stay as they were and
    # a benchmark of an existing article measures only the growth around it.
    oldest = ArticlePage.objects.order_by("published_at").values_list("published_at", flat=True)
    newest_seeded = oldest.first() or clock.now()
    author = Author.objects.order_by("pk").first() or Author.objects.create(
        name="Bench Desk", slug="bench-desk", role="Staff"
    )
    tags = list(Tag.objects.order_by("pk").values_list("pk", flat=True)[:20])
    kinds = {
        "page": ContentType.objects.get_for_model(ArticlePage).pk,
        "base": ContentType.objects.get_for_model(Page).pk,
    }
    for start in range(0, len(numbers), batch_size):
        pages = []
        for n in numbers[start : start + batch_size]:
            pages.append(
                _article(section, n, step, newest_seeded - timedelta(hours=n), kinds["page"])
            )
            step += 1
        reset_queries()  # DEBUG=True keeps every query's SQL: gigabytes at this size
        _insert_pages(pages)
        _add_revisions(pages, kinds)
        ArticleAuthor.objects.bulk_create(
            [ArticleAuthor(page_id=p.pk, author_id=author.pk, sort_order=0) for p in pages]
        )
        if tags:
            ArticlePageTag.objects.bulk_create(
                [
                    ArticlePageTag(content_object_id=p.pk, tag_id=tags[p.pk % len(tags)])
                    for p in pages
                ]
            )


def _article(section, n: int, step: int, published: datetime, content_type_id: int):
    slug = article_slug(n)
    title = f"Bench article {n}: markets, ministers and the monsoon"
    deck = f"Seeded article number {n} for load tests"
    return ArticlePage(
        path=Page._get_path(section.path, section.depth + 1, step),
        depth=section.depth + 1,
        numchild=0,
        translation_key=uuid.uuid4(),
        locale_id=section.locale_id,
        live=True,
        has_unpublished_changes=False,
        first_published_at=published,
        last_published_at=published,
        latest_revision_created_at=published,
        title=title,
        draft_title=title,
        slug=slug,
        content_type_id=content_type_id,
        url_path=f"{section.url_path}{slug}/",
        search_description=deck,
        deck=deck,
        dateline="SINGAPORE",
        published_at=published,
        body=_body(n),
        access=Access.METERED,
    )


def _body(n: int) -> list[dict]:
    """Raw stream data (what the database holds), so no block is rendered or validated."""
    text = (
        "Officials said on Tuesday that the talks would continue, while traders weighed "
        "what the decision meant for shipping, currencies and the harvest."
    )
    blocks = [
        {"type": "paragraph", "value": f"<p>Paragraph {p} of bench article {n}. {text}</p>"}
        for p in range(1, BODY_PARAGRAPHS + 1)
    ]
    blocks.insert(3, {"type": "subheading", "value": "What comes next"})
    return [{**block, "id": str(uuid.uuid4())} for block in blocks]


def _insert_pages(pages: list[ArticlePage]) -> None:
    """Both tables of the multi-table model: Django's bulk_create refuses child models, so
    the page rows go in with bulk_create and the article rows with the same insert
    Model.save() uses for a child table (`_insert`, private but stable since Django 1.x)."""
    Page.objects.bulk_create(pages)  # sets page.id from RETURNING (PostgreSQL, SQLite)
    for page in pages:
        page.page_ptr_id = page.id
    fields = ArticlePage._meta.local_concrete_fields
    step = max(1, connection.ops.bulk_batch_size(fields, pages))
    for start in range(0, len(pages), step):
        ArticlePage._base_manager._insert(pages[start : start + step], fields=fields)


def _add_revisions(pages: list[ArticlePage], kinds: dict) -> None:
    revisions = Revision.objects.bulk_create(
        [
            Revision(
                content_type_id=kinds["page"],
                base_content_type_id=kinds["base"],
                object_id=str(page.pk),
                created_at=page.first_published_at,
                object_str=page.title,
                content=_revision_content(page),
            )
            for page in pages
        ]
    )
    for page, revision in zip(pages, revisions, strict=True):
        page.latest_revision_id = page.live_revision_id = revision.pk
    # One UPDATE per batch (bulk_update's CASE per row is several times slower).
    revision = Subquery(
        Revision.objects.filter(
            base_content_type_id=kinds["base"], object_id=Cast(OuterRef("pk"), CharField())
        ).values("pk")[:1]
    )
    Page.objects.filter(pk__in=[page.pk for page in pages]).update(
        latest_revision_id=revision, live_revision_id=revision
    )


def _revision_content(page: ArticlePage) -> dict:
    """What save_revision() stores, built from the fields alone (no query per page)."""
    content = get_serializable_data_for_fields(page)
    content.update(article_authors=[], tagged_items=[], wagtail_admin_comments=[])
    return content


def _forget_cached_pages() -> None:
    """Routes and fronts cached before the seeding would not know the new articles, and
    rows written straight into the tables send no signal that would tell them."""
    cache.clear()


# --- meter ----------------------------------------------------------------------------------


def meter_article_ids(limit: int | None = None) -> list[int]:
    """The live metered articles the seeded readers read, seeded ones first."""
    found = ArticlePage.objects.live().filter(access=Access.METERED).order_by("pk")
    ids = list(found.filter(slug__startswith=SLUG_PREFIX).values_list("pk", flat=True)[:limit])
    return ids or list(found.values_list("pk", flat=True)[:limit])


def reads_of(n: int, per_reader: int, article_ids: list[int]) -> list[int]:
    """The articles seeded reader `n` has read: consecutive ones, so readers differ."""
    return [article_ids[(n * per_reader + j) % len(article_ids)] for j in range(per_reader)]


def seed_meter(
    *,
    store: MeterStoreBase,
    readers: int,
    per_reader: int,
    article_ids: list[int],
    window: MeterWindow,
    now: datetime,
    batch_size: int = 10_000,
) -> Seeded:
    """Readers 1..readers, each having read `per_reader` articles in `window`."""
    if len(set(article_ids)) < per_reader:
        raise ValueError(f"{per_reader} reads per reader need as many articles")
    started = time.monotonic()
    seed = Seeding(readers, per_reader, article_ids, window, now, batch_size)
    if isinstance(store, redis_meter.MeterStore):
        created = seed.into_redis(store)
    elif isinstance(store, db_meter.MeterStore):
        created = seed.into_database()
    else:
        raise ValueError(f"cannot seed {type(store).__module__}: only the db and redis stores")
    return Seeded("meter readers", created, readers - created, time.monotonic() - started)


@dataclass
class Seeding:
    readers: int
    per_reader: int
    article_ids: list[int]
    window: MeterWindow
    now: datetime
    batch_size: int

    def read_at(self, n: int, j: int) -> datetime:
        """Spread over the window so far, never before its start nor after now."""
        span = max(1, int((self.now - self.window.start).total_seconds()))
        return self.now - timedelta(seconds=(n * 7919 + j * 60) % span)

    def rows(self, numbers: range):
        for n in numbers:
            for j, article_id in enumerate(reads_of(n, self.per_reader, self.article_ids)):
                yield reader_key(n), article_id, self.read_at(n, j)

    def batches(self, first: int):
        for start in range(first, self.readers + 1, self.batch_size):
            yield range(start, min(start + self.batch_size, self.readers + 1))

    def into_database(self) -> int:
        """Readers are added in whole batches (reader rows and their entries in one
        transaction), so the seeded readers present are always 1..k: count and go on."""
        existing = MeterReader.objects.filter(key__startswith=f"a:{READER_PREFIX}").count()
        # The meter's own alias (masthead.access.meter.router), where the meter reads them.
        database = router.db_for_write(MeterReader)
        for numbers in self.batches(existing + 1):
            reset_queries()
            with transaction.atomic(using=database):
                if connections[database].vendor == "postgresql":
                    self._copy(numbers, database)
                else:
                    MeterReader.objects.bulk_create(
                        [MeterReader(key=reader_key(n)) for n in numbers]
                    )
                    MeterEntry.objects.bulk_create(
                        [
                            MeterEntry(reader_key=key, article_id=article, read_at=at)
                            for key, article, at in self.rows(numbers)
                        ]
                    )
        return max(0, self.readers - existing)

    def _copy(self, numbers: range, database: str) -> None:
        """COPY is several times faster than INSERT for millions of rows."""
        readers = MeterReader._meta.db_table
        entries = MeterEntry._meta.db_table
        with connections[database].cursor() as cursor:
            with cursor.copy(f"COPY {readers} (key) FROM STDIN") as copy:
                for n in numbers:
                    copy.write_row((reader_key(n),))
            with cursor.copy(
                f"COPY {entries} (reader_key, article_id, read_at) FROM STDIN"
            ) as copy:
                for row in self.rows(numbers):
                    copy.write_row(row)

    def into_redis(self, store: redis_meter.MeterStore) -> int:
        """The consume() script's layout: one sorted set per reader (article id -> read
        time in unix seconds) expiring one second after the window. ZADD of a member that
        is there already adds nothing, so a second run creates no key and no member."""
        expires = int(self.window.expires.timestamp()) + 1
        created = 0
        for numbers in self.batches(1):
            pipe = store.client.pipeline(transaction=False)
            for n in numbers:
                reads = reads_of(n, self.per_reader, self.article_ids)
                key = store.key(reader_key(n))
                pipe.zadd(key, {a: self.read_at(n, j).timestamp() for j, a in enumerate(reads)})
                pipe.expireat(key, expires)
            results = pipe.execute()
            # A reader is new when their ZADD added every one of their reads.
            created += sum(1 for added in results[::2] if added == self.per_reader)
        return created


# --- the whole run ------------------------------------------------------------------------


def run(
    *,
    articles: int = 0,
    meter_readers: int = 0,
    reads_per_reader: int = 3,
    section_slug: str = "",
    batch_size: int = 0,
    report=print,
) -> None:
    """Seed `articles` articles under the section (default: the first live one), then
    `meter_readers` readers into the configured meter store; `report` gets one line per
    step. ValueError for what cannot be seeded."""
    require_demo("bench/seed.py")
    started = time.monotonic()
    report(f"load average before: {_load()}")
    if section_slug:
        section = SectionPage.objects.filter(slug=section_slug).first()
        if section is None:
            raise ValueError(f"no section with the slug {section_slug!r}")
    else:
        section = default_section()
    batch = {"batch_size": batch_size} if batch_size else {}
    if articles:
        done = seed_articles(count=articles, section=section, **batch)
        report(f"{done} (under {section.url_path})")
    if meter_readers:
        store = get_meter_store()
        now = clock.now()
        article_ids = meter_article_ids()
        done = seed_meter(
            store=store,
            readers=meter_readers,
            per_reader=reads_per_reader,
            article_ids=article_ids,
            window=gate.current_window(MeterSettings.for_site(section.get_site()), now),
            now=now,
            **batch,
        )
        report(
            f"{done} ({type(store).__module__}, {reads_per_reader} reads each over "
            f"{len(article_ids)} metered articles; reader 1 is {reader_key(1)})"
        )
    report(f"total {time.monotonic() - started:.1f} s; load average after: {_load()}")


def _load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())
