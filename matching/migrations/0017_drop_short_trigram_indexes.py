"""On PostgreSQL: drop the trigram indexes of the short ``countries`` and ``sources`` columns.
A country or a source matches a large share of the queue, so PostgreSQL scans instead of
using them (the queue caps filtered counts), while every suggestion a run writes paid for
them. The search text keeps its index."""

from django.db import migrations


def drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for column in ("countries", "sources"):
            schema_editor.execute(f"DROP INDEX IF EXISTS suggestion_{column}_trgm")


def create(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for column in ("countries", "sources"):
            schema_editor.execute(
                f"CREATE INDEX IF NOT EXISTS suggestion_{column}_trgm ON matching_matchsuggestion "
                f"USING gin ({column} gin_trgm_ops) WHERE status = 'pending'"
            )


class Migration(migrations.Migration):
    dependencies = [("matching", "0016_queue_trigram_indexes")]

    operations = [migrations.RunPython(drop, create)]
