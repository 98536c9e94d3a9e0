"""On PostgreSQL: trigram indexes for the queue's "contains" filters (search text, countries,
source systems) over pending suggestions, so a search stays an index scan at 100,000 pending
suggestions. Other databases scan the (much smaller) table they hold instead."""

from django.db import migrations

COLUMNS = ["search_text", "countries", "sources"]


def create(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    for column in COLUMNS:
        schema_editor.execute(
            f"CREATE INDEX IF NOT EXISTS suggestion_{column}_trgm ON matching_matchsuggestion "
            f"USING gin ({column} gin_trgm_ops) WHERE status = 'pending'"
        )


def drop(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for column in COLUMNS:
        schema_editor.execute(f"DROP INDEX IF EXISTS suggestion_{column}_trgm")


class Migration(migrations.Migration):
    dependencies = [("matching", "0015_queue_order_indexes")]

    operations = [migrations.RunPython(create, drop)]
