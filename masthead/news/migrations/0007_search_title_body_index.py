"""Two indexes for site search on PostgreSQL (docs/search.md).

Wagtail's PostgreSQL backend matches a query against an index entry's title and body
together, ``(title || body) @@ query``; its own GIN indexes are on each column alone, which
that expression cannot use, so every search read every entry. The first index is on the
expression itself. The backend then joins the entries to the articles on
``object_id = page_ptr_id::varchar(50)``: the second index, on that cast, lets the few
matches of a rare word reach their articles without reading all of them. SQLite's backend
searches an FTS5 table instead, so there is nothing to do there."""

from django.db import migrations

ENTRIES = "news_search_title_body_gin"
ARTICLES = "news_article_text_id"


def create_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    quote = schema_editor.quote_name
    entries = quote(apps.get_model("wagtailsearch", "IndexEntry")._meta.db_table)
    articles = quote(apps.get_model("news", "ArticlePage")._meta.db_table)
    schema_editor.execute(
        f"CREATE INDEX IF NOT EXISTS {ENTRIES} ON {entries} USING gin ((title || body))"
    )
    schema_editor.execute(
        f"CREATE INDEX IF NOT EXISTS {ARTICLES} ON {articles} (((page_ptr_id)::varchar(50)))"
    )


def drop_indexes(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"DROP INDEX IF EXISTS {ENTRIES}")
        schema_editor.execute(f"DROP INDEX IF EXISTS {ARTICLES}")


class Migration(migrations.Migration):
    dependencies = [
        ("news", "0006_robots_settings"),
        ("wagtailsearch", "0010_add_text_fields"),
    ]

    operations = [migrations.RunPython(create_indexes, drop_indexes)]
