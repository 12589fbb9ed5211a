"""The flush that ends each transactional test (tests/conftest.py deletes instead of
truncating on PostgreSQL) leaves every table empty, whatever references what."""

import pytest
from django.core.management import call_command
from django.db import connection

from tests.factories import (
    make_article,
    make_author,
    make_home,
    make_image,
    make_section,
    wagtail_roots,
)


@pytest.mark.django_db(transaction=True)
def test_the_flush_empties_every_table_however_its_rows_refer_to_each_other():
    # given pages in a tree, revisions, an image, an author and tags referring to each other
    # (after another transactional test's flush, Wagtail's roots are made again)
    wagtail_roots()
    home = make_home()
    section = make_section(home, "World")
    make_article(
        section, "Linked story", authors=[make_author()], lead_image=make_image(), topics=["Ports"]
    )
    tables = connection.introspection.django_table_names(only_existing=True)
    assert sum(_count(table) for table in tables) > 50
    # when the database is flushed as a transactional test's end does
    call_command("flush", interactive=False, inhibit_post_migrate=True, verbosity=0)
    # then nothing is left anywhere
    assert {table: _count(table) for table in tables if _count(table)} == {}


def _count(table: str) -> int:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT count(*) FROM {connection.ops.quote_name(table)}")
        return cursor.fetchone()[0]
