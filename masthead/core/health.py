"""Health endpoints for process supervisors, load balancers and monitoring.

/healthz is liveness: the process answers. It does no I/O at all, so a slow database never
gets a healthy worker restarted.

/readyz is readiness: can this instance serve readers? It answers JSON listing each check.
The database must answer and every migration this code knows must be applied, otherwise
503: nothing useful can be served and a deploy that forgot `migrate` must not take traffic.

Redis is a warning, not a failure: 200 with "status": "degraded" and the check marked
"warning". Issue 5 asks for exactly that: with Redis stopped, subscribers keep full access
(entitlements come from the database), anonymous readers of metered articles get the teaser
(the meter fails closed) and nothing answers 500, i.e. the instance still serves correctly,
only with less free reading. Redis is shared by every app server, so a 503 here would take
all of them out of rotation at once and turn that degraded service into a total outage.
Monitoring alerts on "degraded"; the meter resumes by itself when Redis is back. The same
holds for the database meter store's own connections (the "meter" alias, on the same
database without waiting for commits to reach the disk): when they fail and the default
connection does not, the meter fails closed and the instance is degraded, not unavailable.

The body names each failing check and the exception's class only; the details (host names,
driver messages) go to the log at WARNING, since the endpoint may be reachable from outside.
Every check is bounded by short timeouts and no exception escapes: the worst answer is 503."""

import logging

import redis
from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.migrations.executor import MigrationExecutor
from django.http import HttpResponse, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

log = logging.getLogger(__name__)

REDIS_METER_STORE = "masthead.access.meter.redis"
DB_METER_STORE = "masthead.access.meter.db"
METER_ALIAS = "meter"  # masthead.access.meter.router
REDIS_TIMEOUT = 0.5  # seconds; as the meter store's own default

OK, WARNING, FAILED, SKIPPED = "ok", "warning", "failed", "skipped"

# Once this process has seen every migration applied it stays so: its code cannot gain new
# migrations without a restart. Saves loading the migration graph on every probe.
_migrations_applied = False


@never_cache
@require_safe
def healthz(request):
    return HttpResponse("ok", content_type="text/plain")


@never_cache
@require_safe
def readyz(request):
    try:
        checks = run_checks()
    except Exception as error:  # noqa: BLE001 - a health check answers, whatever happens
        log.warning("readiness checks crashed", exc_info=True)
        checks = {"readyz": {"status": FAILED, "error": type(error).__name__}}
    statuses = {check["status"] for check in checks.values()}
    if FAILED in statuses:
        status, code = "unavailable", 503
    elif WARNING in statuses:
        status, code = "degraded", 200
    else:
        status, code = "ready", 200
    return JsonResponse({"status": status, "checks": checks}, status=code)


def run_checks() -> dict[str, dict]:
    checks = {"database": check_database()}
    if checks["database"]["status"] == OK:
        checks["migrations"] = check_migrations()
    else:
        checks["migrations"] = {"status": SKIPPED, "reason": "database unavailable"}
    if METER_ALIAS in settings.DATABASES and settings.MASTHEAD_METER_STORE == DB_METER_STORE:
        checks["database_meter"] = check_database(METER_ALIAS, WARNING)
    for name, url in redis_urls().items():
        checks[name] = check_redis(name, url)
    return checks


def _failure(name: str, error: Exception, status: str = FAILED) -> dict:
    log.warning("readiness check %s: %s", name, error)
    return {"status": status, "error": type(error).__name__}


def check_database(alias: str = DEFAULT_DB_ALIAS, status: str = FAILED) -> dict:
    try:
        with connections[alias].cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as error:  # noqa: BLE001
        return _failure(
            "database" if alias == DEFAULT_DB_ALIAS else f"database_{alias}", error, status
        )
    return {"status": OK}


def check_migrations() -> dict:
    global _migrations_applied
    if _migrations_applied:
        return {"status": OK}
    try:
        executor = MigrationExecutor(connections[DEFAULT_DB_ALIAS])
        plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
    except Exception as error:  # noqa: BLE001
        return _failure("migrations", error)
    if plan:
        log.warning("readiness check migrations: %d unapplied", len(plan))
        return {"status": FAILED, "unapplied": len(plan)}
    _migrations_applied = True
    return {"status": OK}


def redis_urls() -> dict[str, str]:
    """The Redis servers this configuration uses: the meter store's and the caches'."""
    urls = {}
    if settings.MASTHEAD_METER_STORE == REDIS_METER_STORE:
        urls["redis_meter"] = settings.MASTHEAD_METER_REDIS_URL or settings.REDIS_URL
    for alias, config in settings.CACHES.items():
        if "redis" in config.get("BACKEND", "").lower():
            location = config.get("LOCATION", "")
            if isinstance(location, str):
                location = location.split(",")
            urls[f"redis_cache_{alias}"] = location[0].strip() if location else ""
    return urls


def check_redis(name: str, url: str) -> dict:
    """A fresh connection with short timeouts, so the probe proves a new connection can be
    made, not merely that a pooled one is still open."""
    if not url:
        return _failure(name, ValueError("no Redis URL configured"), WARNING)
    try:
        client = redis.Redis.from_url(
            url, socket_timeout=REDIS_TIMEOUT, socket_connect_timeout=REDIS_TIMEOUT
        )
        try:
            client.ping()
        finally:
            client.close()
    except Exception as error:  # noqa: BLE001
        return _failure(name, error, WARNING)
    return {"status": OK}
