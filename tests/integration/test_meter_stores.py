"""One contract, every meter store: the database store on the suite's database (SQLite in
the first pass of `make test`, PostgreSQL in the second) and the Redis store."""

import threading
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from django.conf import settings
from django.db import OperationalError, connections, router
from django.test.utils import CaptureQueriesContext

from masthead.access.meter.base import MeterUnavailable
from masthead.access.meter.db import MeterStore as DbStore
from masthead.access.meter.redis import MeterStore as RedisStore
from masthead.access.meter.router import METER_DATABASE, MeterRouter
from masthead.access.models import MeterEntry, MeterReader, MeterSettings, NetworkCounter
from masthead.access.networks import Counter, Kind, Take
from masthead.access.periods import MeterWindow

# Redis expires keys by the wall clock, so the periods are placed around the real now.
NOW = datetime.now(UTC).replace(microsecond=0)
NOVEMBER = MeterWindow(start=NOW - timedelta(days=14), expires=NOW + timedelta(days=16))
DECEMBER = MeterWindow(start=NOVEMBER.expires, expires=NOVEMBER.expires + timedelta(days=31))


class MeterStoreContract:
    """Subclasses provide a `store` fixture."""

    def consume(self, store, article, allowance=3, reader="a:reader", window=NOVEMBER, now=NOW):
        return store.consume(
            reader_key=reader, article_id=article, allowance=allowance, window=window, now=now
        )

    def test_counts_until_the_allowance_then_refuses(self, store):
        results = [self.consume(store, article) for article in (1, 2, 3, 4)]
        assert [(r.admitted, r.used) for r in results] == [
            (True, 1),
            (True, 2),
            (True, 3),
            (False, 3),
        ]
        assert [r.remaining for r in results] == [2, 1, 0, 0]

    def test_rereading_a_counted_article_is_free_even_when_exhausted(self, store):
        for article in (1, 2, 3):
            self.consume(store, article)
        again = self.consume(store, 2)
        assert again.already_counted and not again.admitted and again.used == 3

    def takes(self, period=2, day=3, network="net-a", expires=NOVEMBER.expires, amount=1):
        found = []
        if period is not None:
            found.append(Take(Kind.PERIOD, Counter(f"{{{network}}}:p", period, expires), amount))
        if day is not None:
            found.append(Take(Kind.DAY, Counter(f"{{{network}}}:d:x", day, expires)))
        return found

    def test_takes_until_a_counter_would_pass_its_limit(self, store):
        answers = [store.take(self.takes(period=10, day=3)) for _ in range(5)]
        assert answers[:3] == [None] * 3
        assert [a.kind for a in answers[3:]] == [Kind.DAY, Kind.DAY]

    def test_takes_are_all_or_nothing(self, store):
        for _ in range(2):  # the day counter is spent, the period one is not
            store.take(self.takes(period=10, day=2))
        assert store.take(self.takes(period=10, day=2)).kind == Kind.DAY
        # the refused take counted nothing in the period: 8 places are left there
        assert store.take(self.takes(period=10, day=None, amount=8)) is None
        assert store.take(self.takes(period=10, day=None)).kind == Kind.PERIOD

    def test_an_amount_is_taken_only_if_it_fits_whole(self, store):
        assert store.take(self.takes(period=5, day=None, amount=3)) is None
        assert store.take(self.takes(period=5, day=None, amount=3)).kind == Kind.PERIOD
        assert store.take(self.takes(period=5, day=None, amount=2)) is None

    def test_networks_are_counted_separately(self, store):
        assert store.take(self.takes(day=1, network="a")) is None
        assert store.take(self.takes(day=1, network="a")) is not None
        assert store.take(self.takes(day=1, network="b")) is None

    def test_nothing_to_take_is_always_taken(self, store):
        assert store.take([]) is None

    def test_concurrent_takes_for_the_last_place_get_exactly_one(self, store):
        store.take(self.takes(period=10, day=2, network="race"))
        barrier = threading.Barrier(20)
        results, errors = [], []

        def arrive():
            try:
                barrier.wait(timeout=10)
                results.append(store.take(self.takes(10, 2, network="race")))
            except Exception as error:  # noqa: BLE001 - reported below
                errors.append(error)
            finally:
                connections.close_all()  # the thread's default and meter connections

        threads = [threading.Thread(target=arrive) for _ in range(20)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        assert not errors, errors
        assert results.count(None) == 1

    def test_readers_are_counted_separately(self, store):
        self.consume(store, 1, allowance=1, reader="a:one")
        other = self.consume(store, 2, allowance=1, reader="a:two")
        assert other.admitted and other.used == 1

    def test_a_new_period_starts_from_zero(self, store):
        for article in (1, 2, 3):
            self.consume(store, article)
        december = DECEMBER.start + timedelta(days=1)
        result = self.consume(store, 1, window=DECEMBER, now=december)
        assert result.admitted and result.used == 1

    def test_rolling_window_forgets_reads_that_slid_out(self, store):
        self.consume(store, 1, allowance=1, now=NOW - timedelta(days=10))
        window = MeterWindow(start=NOW - timedelta(days=7), expires=NOW + timedelta(days=7))
        result = self.consume(store, 2, allowance=1, window=window)
        assert result.admitted and result.used == 1

    def test_zero_allowance_admits_nothing(self, store):
        result = self.consume(store, 1, allowance=0)
        assert not result.admitted and result.used == 0

    def test_merge_carries_anonymous_reads_over_to_the_account(self, store):
        self.consume(store, 1, reader="a:anon")
        self.consume(store, 2, reader="a:anon")
        self.consume(store, 2, reader="u:7", allowance=10)
        store.merge(from_key="a:anon", into_key="u:7", window=NOVEMBER)
        assert self.consume(store, 1, reader="u:7", allowance=10).already_counted
        result = self.consume(store, 3, reader="u:7", allowance=10)
        assert result.admitted and result.used == 3
        assert self.consume(store, 1, reader="a:anon").admitted  # the old id starts afresh

    def test_merge_into_itself_changes_nothing(self, store):
        self.consume(store, 1)
        store.merge(from_key="a:reader", into_key="a:reader", window=NOVEMBER)
        assert self.consume(store, 1).already_counted

    def test_purge_forgets_old_reads(self, store):
        self.consume(store, 1, now=NOW - timedelta(days=40), window=MeterWindow(
            start=NOW - timedelta(days=60), expires=NOW + timedelta(days=1)))  # fmt: skip
        self.consume(store, 2)
        store.purge(before=NOW - timedelta(days=30))
        rolling = MeterWindow(start=NOW - timedelta(days=60), expires=NOW + timedelta(days=1))
        assert self.consume(store, 1, window=rolling).admitted
        assert self.consume(store, 2, window=rolling).already_counted

    def test_concurrent_requests_for_the_last_article_admit_exactly_one(self, store):
        allowance = 5
        for article in range(1, allowance):
            self.consume(store, article, allowance=allowance, reader="a:racer")
        barrier = threading.Barrier(20)
        results, errors = [], []

        def read(article):
            try:
                barrier.wait(timeout=10)
                results.append(self.consume(store, article, allowance=allowance, reader="a:racer"))
            except Exception as error:  # noqa: BLE001 - reported below
                errors.append(error)
            finally:
                connections.close_all()  # the thread's default and meter connections

        threads = [threading.Thread(target=read, args=(100 + n,)) for n in range(20)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        assert not errors, errors
        assert len(results) == 20
        assert sum(r.admitted for r in results) == 1
        assert all(r.used == allowance for r in results if not r.admitted)


# SQL of its own kind per engine (upserts, row locks or the write lock): run on both.
@pytest.mark.sqlite
@pytest.mark.django_db(transaction=True)
class TestDatabaseStore(MeterStoreContract):
    @pytest.fixture
    def store(self):
        return DbStore()

    def test_rows_per_reader_are_bounded_by_what_they_read(self, store):
        for _ in range(3):
            for article in (1, 2, 3, 4, 5):
                self.consume(store, article)
        assert MeterEntry.objects.filter(reader_key="a:reader").count() == 3

    @pytest.mark.skipif(METER_DATABASE not in settings.DATABASES, reason="PostgreSQL only")
    def test_the_meter_alias_commits_without_waiting_for_the_disk(self, store):
        # given the store on PostgreSQL
        assert store.database == METER_DATABASE
        # when a read is counted
        with (
            CaptureQueriesContext(connections[METER_DATABASE]) as meter,
            CaptureQueriesContext(connections["default"]) as default,
        ):
            assert self.consume(store, 1).admitted
        # then it went through the meter's connection, which does not wait for the disk,
        assert any("INSERT" in query["sql"] for query in meter.captured_queries)
        assert default.captured_queries == []
        assert show_synchronous_commit(METER_DATABASE) == "off"
        # while the rest of the site's commits still do
        assert show_synchronous_commit("default") == "on"

    def test_a_database_that_cannot_answer_makes_the_store_unavailable(self, store):
        def refuse(execute, sql, params, many, context):
            raise OperationalError("the database is gone")

        self.consume(store, 1)
        with connections[store.database].execute_wrapper(refuse):
            with pytest.raises(MeterUnavailable):
                self.consume(store, 2)
            with pytest.raises(MeterUnavailable):
                store.take(self.takes())
            with pytest.raises(MeterUnavailable):
                store.merge(from_key="a:reader", into_key="u:1", window=NOVEMBER)
            with pytest.raises(MeterUnavailable):
                store.purge(before=NOW)
        # and what was counted before is still there when it answers again
        assert self.consume(store, 1).already_counted

    def test_purge_forgets_expired_network_counters(self, store):
        store.take(self.takes(expires=NOW - timedelta(seconds=1), network="old"))
        store.take(self.takes(network="current"))
        store.purge(before=NOW - timedelta(days=30))
        assert [
            key.split(":")[0] for key in NetworkCounter.objects.values_list("key", flat=True)
        ] == [
            "{current}",
            "{current}",
        ]


def show_synchronous_commit(alias: str) -> str:
    with connections[alias].cursor() as cursor:
        cursor.execute("SHOW synchronous_commit")
        return cursor.fetchone()[0]


@pytest.mark.sqlite
def test_the_meter_tables_go_to_the_meter_alias_where_there_is_one():
    expected = METER_DATABASE if METER_DATABASE in settings.DATABASES else "default"
    for model in (MeterReader, MeterEntry, NetworkCounter):
        assert router.db_for_read(model) == router.db_for_write(model) == expected
    assert router.db_for_write(MeterSettings) == "default"  # the meter's settings are content


def test_the_meter_alias_is_never_migrated_being_the_default_database_again():
    assert MeterRouter().allow_migrate(METER_DATABASE, "access", "meterentry") is False
    assert router.allow_migrate("default", "access", model_name="meterentry")


class TestRedisStore(MeterStoreContract):
    @pytest.fixture
    def store(self, redis_service):
        store = RedisStore(url=redis_service, prefix=f"test:{uuid.uuid4().hex}:")
        yield store
        store.clear()

    def test_keys_expire_with_their_window_and_hold_at_most_the_allowance(self, store):
        for article in range(1, 10):
            self.consume(store, article)
        key = store.key("a:reader")
        assert store.client.zcard(key) == 3
        assert store.client.expiretime(key) == int(NOVEMBER.expires.timestamp()) + 1

    def test_a_server_that_lacks_the_scripts_is_sent_them(self, store):
        # given a Redis that knows neither script by the name the store holds (as after a
        # restart or SCRIPT FLUSH)
        store._consume.sha = store._take.sha = "0" * 40
        # when the store counts a read and takes from a counter
        read = self.consume(store, 1)
        taken = store.take(self.takes(period=1, day=None))
        # then both scripts ran, and are known by their real names from now on
        assert read.admitted and taken is None
        assert store.take(self.takes(period=1, day=None)).kind == Kind.PERIOD
        assert store.client.script_exists(store._consume.sha, store._take.sha) == [True, True]

    def test_dead_redis_is_reported_not_raised_raw(self):
        store = RedisStore(url="redis://127.0.0.1:1/0")
        with pytest.raises(MeterUnavailable):
            self.consume(store, 1)
        with pytest.raises(MeterUnavailable):
            store.merge(from_key="a:x", into_key="u:1", window=NOVEMBER)
