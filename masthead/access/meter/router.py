"""The database router for the meter's tables (settings.DATABASE_ROUTERS).

On PostgreSQL, settings define a second alias, "meter": the same database on connections
whose commits do not wait for the disk (synchronous_commit off; docs/production.md, "The
meter alias"). The meter's rows are read there as well as written, so a reader's request
sees what it has just counted and the store's transactions and row locks stay on one
connection. Where there is no such alias (SQLite) the router has no opinion: "default"."""

from django.conf import settings

METER_DATABASE = "meter"
METER_MODELS = frozenset({"access.meterreader", "access.meterentry", "access.networkcounter"})


def meter_database() -> str | None:
    return METER_DATABASE if METER_DATABASE in settings.DATABASES else None


class MeterRouter:
    def db_for_read(self, model, **hints):
        return meter_database() if model._meta.label_lower in METER_MODELS else None

    db_for_write = db_for_read

    def allow_migrate(self, db, app_label, model_name=None, **hints):
        # The alias is the default database again: its tables are migrated once, there.
        return False if db == METER_DATABASE else None
