"""Typo-tolerant name search: pg_trgm and a GIN trigram index on the party's display name
(PostgreSQL only; SQLite searches names without an index, see parties/search.py), and an
index to look identifiers up by value alone."""

from django.db import migrations, models

TRIGRAM_INDEX = "party_name_trgm_idx"


def trigram_index_create(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    schema_editor.execute(
        f"CREATE INDEX IF NOT EXISTS {TRIGRAM_INDEX} ON parties_party USING gin (display_name gin_trgm_ops)"
    )


def trigram_index_drop(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(f"DROP INDEX IF EXISTS {TRIGRAM_INDEX}")


class Migration(migrations.Migration):
    dependencies = [
        ("parties", "0015_phone_last_digits_index"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="partyidentification",
            index=models.Index(fields=["normalized"], name="identification_value_idx"),
        ),
        migrations.RunPython(trigram_index_create, trigram_index_drop, elidable=False),
    ]
