"""Generation tokens (masthead.core.generations) are kept per process for a second: a busy
worker asks the shared cache about once a second, sees its own changes at once, and another
process's changes within that second."""

import pytest
from django.core.cache import cache
from django.test import override_settings

from masthead.core import generations

pytestmark = pytest.mark.django_db


@pytest.fixture
def clock(monkeypatch):
    now = [1000.0]
    monkeypatch.setattr(generations.time, "monotonic", lambda: now[0])
    return now


@pytest.fixture
def reads(monkeypatch):
    """How many times the shared cache is asked for tokens."""
    count = []
    real = cache.get_many

    def counting(keys, *args, **kwargs):
        if generations.PAGES in keys or generations.CAMPAIGNS in keys:
            count.append(tuple(keys))
        return real(keys, *args, **kwargs)

    monkeypatch.setattr(cache, "get_many", counting)
    return count


@override_settings(MASTHEAD_GENERATION_LOCAL_SECONDS=1)
def test_tokens_are_read_once_a_second(clock, reads):
    first = generations.current(generations.PAGES)
    assert first
    reads.clear()
    clock[0] += 0.9
    assert generations.current(generations.PAGES) == first
    assert generations.current(generations.CAMPAIGNS)
    assert reads == []
    clock[0] += 0.2
    assert generations.current(generations.PAGES) == first
    assert len(reads) == 1


@override_settings(MASTHEAD_GENERATION_LOCAL_SECONDS=1)
def test_a_change_in_this_process_is_seen_at_once(clock, reads):
    before = generations.current(generations.PAGES)
    generations.bump(generations.PAGES)
    after = generations.current(generations.PAGES)
    assert after != before
    assert after == cache.get(generations.PAGES)  # what other processes will read


@override_settings(MASTHEAD_GENERATION_LOCAL_SECONDS=1)
def test_a_change_in_another_process_is_seen_within_the_second(clock):
    before = generations.current(generations.PAGES)
    cache.set(generations.PAGES, "changed-elsewhere", None)
    clock[0] += 0.5
    assert generations.current(generations.PAGES) == before
    clock[0] += 0.6
    assert generations.current(generations.PAGES) == "changed-elsewhere"


@override_settings(MASTHEAD_GENERATION_LOCAL_SECONDS=1)
def test_a_request_keeps_the_tokens_it_started_with(clock, rf):
    request = rf.get("/")
    before = generations.current(generations.PAGES, request)
    generations.bump(generations.PAGES)
    assert generations.current(generations.PAGES, request) == before
    assert generations.current(generations.PAGES, rf.get("/")) != before


@override_settings(MASTHEAD_GENERATION_LOCAL_SECONDS=1)
def test_an_unanswered_read_is_not_kept(clock, monkeypatch):
    real = cache.get_many
    down = [True]

    def flaky(*args, **kwargs):
        if down[0]:
            raise ConnectionError("cache down")
        return real(*args, **kwargs)

    monkeypatch.setattr(cache, "get_many", flaky)
    assert generations.current(generations.PAGES) is None
    down[0] = False
    assert generations.current(generations.PAGES)  # asked again, not a remembered None


@override_settings(MASTHEAD_GENERATION_LOCAL_SECONDS=0)
def test_zero_seconds_reads_every_time(clock, reads):
    generations.current(generations.PAGES)
    reads.clear()
    generations.current(generations.PAGES)
    generations.current(generations.PAGES)
    assert len(reads) == 2


@override_settings(MASTHEAD_LISTING_BUCKETS=64)
def test_a_family_stamp_changes_with_its_own_families_only():
    ours, theirs = "topic:1", "series:1"
    assert generations.family_token(ours) != generations.family_token(theirs)
    before = generations.stamp([ours, "series:7"])
    assert before and generations.stamp(["series:7", ours]) == before  # order does not count
    generations.bump_families([theirs])
    assert generations.stamp([ours, "series:7"]) == before
    generations.bump_families([ours])
    assert generations.stamp([ours, "series:7"]) != before


@override_settings(MASTHEAD_GENERATION_LOCAL_SECONDS=1)
def test_a_stamp_from_kept_tokens_changes_with_a_change_here_but_not_within_a_request(clock, rf):
    # given a stamp worked out from the tokens this process keeps, once for a request
    families = ["topic:5", "series:2"]
    request = rf.get("/")
    before = generations.stamp(families, request)
    assert before and generations.stamp(families) == before
    # when one of its families changes in this process, within the second
    generations.bump_families(["topic:5"])
    # then the next stamp is another, and the request that began before keeps its own
    after = generations.stamp(families)
    assert after and after != before
    assert generations.stamp(families, request) == before


def test_the_family_tokens_come_with_the_others_in_one_read(reads, rf):
    generations.current(generations.PAGES)  # the tokens exist
    reads.clear()
    request = rf.get("/")
    assert generations.current(generations.PAGES, request)
    assert generations.stamp(["topic:3", "topic:4"], request)
    assert len(reads) == 1 and len(reads[0]) == len(generations.names())


def test_no_stamp_when_the_cache_cannot_answer(monkeypatch):
    def dead(*args, **kwargs):
        raise ConnectionError("Redis is down")

    monkeypatch.setattr(cache, "get_many", dead)
    assert generations.stamp(["topic:1"]) is None
