"""Typo-tolerant name search, second way in: the Soundex codes of family and given name
(PostgreSQL's fuzzystrmatch), which still agree when two letters of a short name are swapped
("Rcie" and "Rice"), where trigrams share too little. PostgreSQL only."""

from django.db import migrations

SOUNDEX_INDEX = "party_name_soundex_idx"


def soundex_index_create(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS fuzzystrmatch")
    schema_editor.execute(
        f"CREATE INDEX IF NOT EXISTS {SOUNDEX_INDEX} ON parties_party "
        "(soundex(family_name), soundex(given_name))"
    )


def soundex_index_drop(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(f"DROP INDEX IF EXISTS {SOUNDEX_INDEX}")


class Migration(migrations.Migration):
    dependencies = [
        ("parties", "0018_engagement_money_index"),
    ]

    operations = [
        migrations.RunPython(soundex_index_create, soundex_index_drop, elidable=False),
    ]
