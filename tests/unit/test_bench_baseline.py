"""bench/hotpath --baseline: another revision's app server measured in the same run, on a
database and a Redis of its own, started as that revision's own bench started it, and the
summary's comparison of the two new readers (issue 21: no lower than the fast lane's)."""

import argparse
from pathlib import Path

import pytest

from tests.unit.test_bench_prod_topology import hotpath

bench, servers = hotpath.bench, hotpath.servers


def figures(rps, p99=10.0):
    return {"requests_per_s": rps, "latency_p99_ms": p99}


def code(name, revision, root=bench.ROOT):
    article = bench.Article(1, "/world/story/")
    fields = {"code": name, "revision": revision}
    return hotpath.Code(name, root, {}, article, [], "sessionid=x", fields)


@pytest.mark.parametrize(("ours", "verdict"), [(2500.0, True), (2400.0, False)])
def test_summary_says_whether_the_new_reader_is_no_lower_than_the_baselines(ours, verdict):
    # given one run's figures for this code and the baseline's
    args = argparse.Namespace(workers=4, seed_articles=0, seed_readers=0)
    current = {
        "nginx": figures(50000.0),
        "redis_within": figures(ours),
        "exhausted": figures(2600.0),
        "subscriber": figures(2300.0),
        "db_within": figures(800.0),
    }
    theirs = {
        "redis_within": figures(2500.0),
        "exhausted": figures(2500.0),
        "subscriber": figures(2500.0),
        "db_within": figures(700.0),
    }
    options = servers.Options(workers=4)

    # when
    line = hotpath.summary(
        args, current, "granian", options, code("current", "aaa"), code("baseline", "bbb"), theirs
    )

    # then it is judged against the baseline's new reader in this run, and says whose
    assert line["meets"]["new_reader_not_below_baseline"] is verdict
    assert line["code"] == "current" and line["revision"] == "aaa"
    assert line["baseline"]["revision"] == "bbb" and line["baseline"]["server"] == "gunicorn"
    assert line["baseline"]["pct_of_nginx"] == 5.0
    assert line["vs_baseline_pct"]["subscriber"] == -8.0


def test_baseline_runs_on_its_own_database_and_redis_with_our_trusted_hop(tmp_path):
    # given the current code's environment
    env = bench.bench_env("masthead.settings.production")

    # when the baseline's is made from it with the bounds on (the default)
    theirs = hotpath.baseline_env(env, "redis://127.0.0.1:1234/0", "on")

    # then it shares settings, secret and trusted hops but no state: its new readers come
    # from networks of their own, like ours
    assert theirs["DATABASE_URL"].endswith("/masthead_bench_baseline")
    assert theirs["DATABASE_URL"] != env["DATABASE_URL"]
    assert theirs["REDIS_URL"] == "redis://127.0.0.1:1234/0"
    assert Path(theirs["MASTHEAD_VAR_DIR"]) != Path(env["MASTHEAD_VAR_DIR"])
    assert theirs["MASTHEAD_TRUSTED_PROXY_HOPS"] == env["MASTHEAD_TRUSTED_PROXY_HOPS"] == "1"
    assert theirs["SECRET_KEY"] == env["SECRET_KEY"]
    assert theirs["DJANGO_SETTINGS_MODULE"] == env["DJANGO_SETTINGS_MODULE"]


def test_baseline_as_its_own_bench_ran_it_trusts_no_hop(tmp_path):
    # given the current code's environment
    env = bench.bench_env("masthead.settings.production")

    # when the baseline's is made with the bounds off
    theirs = hotpath.baseline_env(env, "redis://127.0.0.1:1234/0", "off")

    # then it trusts no proxy hop, as the fast lane's own bench left it (its new readers came
    # from 127.0.0.1, the bounds off), on its own database still
    assert "MASTHEAD_TRUSTED_PROXY_HOPS" not in theirs
    assert theirs["DATABASE_URL"].endswith("/masthead_bench_baseline")


def test_baseline_bounds_default_to_on():
    assert hotpath.parse_args([]).baseline_bounds == "on"
    assert hotpath.parse_args(["--baseline-bounds", "off"]).baseline_bounds == "off"


def test_baseline_server_runs_from_its_checkout_and_virtualenv(tmp_path):
    # given another checkout
    options = servers.Options(workers=4, root=tmp_path)

    # when its gunicorn's command is made
    command = servers.gunicorn_command(options, 8123)

    # then its own virtualenv's server runs its own code
    assert command[0] == str(tmp_path / ".venv" / "bin" / "gunicorn")
    assert command[command.index("--chdir") + 1] == str(tmp_path)
    assert command[command.index("--workers") + 1] == "4"


def test_baseline_checkout_must_have_its_virtualenv(tmp_path):
    (tmp_path / "manage.py").touch()
    with pytest.raises(argparse.ArgumentTypeError, match="virtualenv"):
        hotpath.baseline_checkout(str(tmp_path))


@pytest.mark.parametrize(
    ("first", "ours_first"),
    [("current", [True, False, True, False]), ("baseline", [False, True, False, True])],
)
def test_the_sides_alternate_from_the_one_asked_to_go_first(first, ours_first):
    turns = hotpath.taking_turns(first)
    assert [next(turns) for _ in range(4)] == ours_first


def test_the_current_code_goes_first_unless_asked_otherwise():
    assert hotpath.parse_args([]).baseline_first == "current"
    assert hotpath.parse_args(["--baseline-first", "baseline"]).baseline_first == "baseline"
