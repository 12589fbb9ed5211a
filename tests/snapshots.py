"""A fixture's content built once per test process and put back, row for row, in each test
that asks for it (PostgreSQL only).

Building the small publication of tests/integration/conftest.py through Wagtail (add, revise,
publish: validation, the tree, revisions, the audit log and reference index) took about
0.8 s, and over 500 tests ask for it. A ``Snapshot`` builds it once, in a transaction it
rolls back, and keeps every row the build added, changed or deleted, as PostgreSQL's own JSON
of the row (``to_jsonb``: every column type comes back exact through
``jsonb_populate_recordset``). Each test then gets the same rows, inserted in its own
transaction and rolled back with it, in a few milliseconds.

A snapshot is used only when the database is as the build found it (the test database
after migrations: the same row counts in every table the build touched, and the rows it
changed or deleted as they were); otherwise, and when the clock is far from the instant of
the build (a test that froze time), the content is built as before. Timestamps in the rows
put back move by the time since the build, so "three days ago" stays three days before now
(and a snapshot taken on top of another checks the rows it expects without them).
Identities are those of the build: the build consumed them from PostgreSQL's sequences,
which a rollback does not give back, so no row a test makes later can collide with them.

In-process memories keyed by rows are forgotten as the build's saves would have made them
forget (the sites; the cache's generation tokens).
"""

import json
import logging
import os
from collections import namedtuple
from contextlib import nullcontext
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import time_machine
from django.apps import apps
from django.core.files.base import ContentFile
from django.db import DatabaseError, connection, transaction
from django.db.models import FileField
from django.utils import timezone

log = logging.getLogger(__name__)

# A snapshot serves tests whose clock is within this of the instant it was built.
CLOCK_TOLERANCE = timedelta(minutes=30)


class _Unusable(Exception):
    """The database is not as the build found it."""


@dataclass
class _TableChange:
    table: str
    pk: str
    before_count: int
    # Rows the build changed or deleted, as they were before it: pk -> row JSON.
    before: dict[str, str] = field(default_factory=dict)
    # Rows the build added or changed, as they were after it (JSON texts).
    after: list[str] = field(default_factory=list)
    added: list[str] = field(default_factory=list)  # pks of the rows the build added
    changed: list[str] = field(default_factory=list)  # ... and of those it changed
    timestamps: list[str] = field(default_factory=list)  # timestamptz columns


@dataclass
class Snapshot:
    """What one build did to the database, and the handles of what it built."""

    built_at: datetime
    changes: list[_TableChange]
    handles: dict | list  # what the fixture returns, its model instances as handles
    # The files the build stored, (storage, name, content): a test may delete one.
    files: list = field(default_factory=list)

    # The handles of the snapshot this one was taken on top of (None: the empty database).
    base: dict | None = None

    @classmethod
    def take(cls, build, *, base=None, at=None):
        """Run build() in a transaction that is rolled back; keep what it changed and the
        handles of what it returned. With `base`, a snapshot put back first, build(on) is
        given what the base's fixture returns, and this one keeps only what build adds to
        it; with `at`, build runs with the clock standing at that instant."""
        tables, keyless = _tables()
        with transaction.atomic():
            on = None
            if base is not None:
                if not base.restore():
                    raise RuntimeError("the base snapshot cannot be put back")
                on = load(base.handles)
            before = {table: _rows(table, pk) for table, pk in tables.items()}
            counts = _counts(keyless)
            with time_machine.travel(at, tick=False) if at else nullcontext():
                built_at = timezone.now()
                built = build() if base is None else build(on)
            if _counts(keyless) != counts:
                raise RuntimeError(f"the build changed a table without a primary key: {keyless}")
            changes = []
            for table, pk in tables.items():
                change = _change(table, pk, before[table], _rows(table, pk))
                if change is not None:
                    changes.append(change)
            files = _stored_files(changes)
            transaction.set_rollback(True)
        columns = _timestamp_columns()
        for change in changes:
            change.timestamps = columns.get(change.table, [])
        return cls(built_at, changes, handles(built), files, base and base.handles)

    def restore(self) -> bool:
        """Put the build's rows back in the current transaction; False (and nothing
        changed) when the database or the clock is not as the build found them."""
        shift = timezone.now() - self.built_at
        if abs(shift) > CLOCK_TOLERANCE:
            return False
        try:
            with transaction.atomic():
                self._check()
                with connection.cursor() as cursor:
                    for change in self.changes:
                        _put_back(cursor, change, shift)
        except _Unusable as reason:
            log.info("snapshot not used: %s", reason)
            return False
        except DatabaseError:
            log.warning("snapshot not used: the database refused it", exc_info=True)
            return False
        for storage, name, content in self.files:
            if not storage.exists(name):
                storage.save(name, ContentFile(content))
        return True

    def _check(self) -> None:
        counts = " UNION ALL ".join(
            f"SELECT {n}, count(*) FROM {_quoted(c.table)}" for n, c in enumerate(self.changes)
        )
        with connection.cursor() as cursor:
            cursor.execute(counts)
            found = dict(cursor.fetchall())
            for n, change in enumerate(self.changes):
                if found[n] != change.before_count:
                    raise _Unusable(
                        f"{change.table} has {found[n]} rows, not {change.before_count}"
                    )
                if change.before:
                    now = _rows(change.table, change.pk, list(change.before), cursor)
                    if _untimed(now, change) != _untimed(change.before, change):
                        raise _Unusable(f"rows of {change.table} differ from the build's start")


def _untimed(rows: dict[str, str], change: _TableChange) -> dict[str, dict]:
    """Rows without their timestamps, which move with each putting back."""
    found = {}
    for key, text in rows.items():
        row = json.loads(text)
        for column in change.timestamps:
            row.pop(column, None)
        found[key] = row
    return found


def _quoted(name: str) -> str:
    return connection.ops.quote_name(name)


def _tables() -> tuple[dict[str, str], list[str]]:
    """Every table with a one-column primary key, and that column; the tables without."""
    found, keyless = {}, []
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names(cursor):
            pk = connection.introspection.get_primary_key_column(cursor, table)
            if pk is None:
                keyless.append(table)
            else:
                found[table] = pk
    return found, keyless


def _counts(tables: list[str]) -> list[int]:
    with connection.cursor() as cursor:
        found = []
        for table in tables:
            cursor.execute(f"SELECT count(*) FROM {_quoted(table)}")
            found.append(cursor.fetchone()[0])
    return found


def _rows(table: str, pk: str, only=None, cursor=None) -> dict[str, str]:
    """pk (as text) -> the row as PostgreSQL's JSON text."""
    sql = f"SELECT {_quoted(pk)}::text, to_jsonb(t)::text FROM {_quoted(table)} t"
    params = []
    if only is not None:
        sql += f" WHERE {_quoted(pk)}::text = ANY(%s)"
        params.append(only)
    if cursor is None:
        with connection.cursor() as own:
            own.execute(sql, params)
            return dict(own.fetchall())
    cursor.execute(sql, params)
    return dict(cursor.fetchall())


def _change(table, pk, before: dict, after: dict) -> _TableChange | None:
    added = [key for key in after if key not in before]
    changed = [key for key in after if key in before and after[key] != before[key]]
    deleted = [key for key in before if key not in after]
    if not (added or changed or deleted):
        return None
    return _TableChange(
        table=table,
        pk=pk,
        before_count=len(before),
        before={key: before[key] for key in changed + deleted},
        after=[after[key] for key in added + changed],
        added=added,
        changed=changed,
    )


def _stored_files(changes: list[_TableChange]) -> list:
    """The files of the rows the build added: (storage, name, content)."""
    added = {change.table: change.added for change in changes if change.added}
    files = []
    for model in apps.get_models():
        fields = [f for f in model._meta.local_concrete_fields if isinstance(f, FileField)]
        pks = added.get(model._meta.db_table)
        if not (fields and pks):
            continue
        for row in model._base_manager.filter(pk__in=pks):
            for file_field in fields:
                stored = getattr(row, file_field.attname)
                if stored:
                    with stored.open("rb") as opened:
                        files.append((stored.storage, stored.name, opened.read()))
    return files


def _timestamp_columns() -> dict[str, list[str]]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT table_name, column_name FROM information_schema.columns"
            " WHERE table_schema = current_schema()"
            " AND data_type = 'timestamp with time zone'"
        )
        found: dict[str, list[str]] = {}
        for table, column in cursor.fetchall():
            found.setdefault(table, []).append(column)
    return found


def _put_back(cursor, change: _TableChange, shift: timedelta) -> None:
    table, pk = _quoted(change.table), _quoted(change.pk)
    if change.before:
        cursor.execute(f"DELETE FROM {table} WHERE {pk}::text = ANY(%s)", [list(change.before)])
    if change.after:
        rows = "[" + ",".join(change.after) + "]"
        cursor.execute(
            f"INSERT INTO {table} SELECT * FROM jsonb_populate_recordset(NULL::{table}, %s::jsonb)",
            [rows],
        )
    put = change.added + change.changed
    if put and change.timestamps and shift:
        moved = ", ".join(f"{_quoted(c)} = {_quoted(c)} + %s::interval" for c in change.timestamps)
        cursor.execute(
            f"UPDATE {table} SET {moved} WHERE {pk}::text = ANY(%s)",
            [*([shift] * len(change.timestamps)), put],
        )


Handle = namedtuple("Handle", "model pk")


def load(value):
    """The fixture's value again, from the handles `handles` made of it."""
    if isinstance(value, Handle):
        return value.model._default_manager.get(pk=value.pk)
    if isinstance(value, dict):
        return {name: load(item) for name, item in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(load(item) for item in value)
    return value


def handles(value):
    """A handle for each model instance in value (a dict, list or tuple of them, or one)."""
    if isinstance(value, dict):
        return {name: handles(item) for name, item in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(handles(item) for item in value)
    if hasattr(value, "_meta") and value.pk is not None:
        return Handle(type(value), value.pk)
    return value


# --- for fixtures --------------------------------------------------------------------------


def take_on_postgresql(build, django_db_blocker, *, base=None, at=None) -> Snapshot | None:
    """A session fixture's snapshot of build (Snapshot.take); None where snapshots are not
    used: on SQLite, with MASTHEAD_TEST_SNAPSHOTS=0, or when `base` is None there."""
    with django_db_blocker.unblock():
        if connection.vendor != "postgresql" or os.environ.get("MASTHEAD_TEST_SNAPSHOTS") == "0":
            return None
        return Snapshot.take(build, base=base, at=at)


def restore_or_build(snapshot: Snapshot | None, build, on=None):
    """The fixture's value: put back from the snapshot where it can be (on `on`, the base
    fixture's value, when the snapshot was taken on one: only if that came from its own
    snapshot), else build() or build(on)."""
    usable = snapshot is not None and (on is None or handles(on) == snapshot.base)
    if usable and snapshot.restore():
        forget_process_memories()
        return load(snapshot.handles)
    return build() if on is None else build(on)


def forget_process_memories() -> None:
    """What the build's saves made this process forget (their signals do not run for rows
    put back)."""
    from masthead.core import generations
    from masthead.core.sites import forget_sites

    forget_sites()
    for name in generations.ALL:
        generations.bump(name)
