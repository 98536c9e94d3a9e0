"""Data migration: every role may read the change-event feed (the events name parties and
what happened to them, never values; each role already sees the parties)."""

from django.db import migrations

from c360.kernel.role_grants import role_permissions_grant, role_permissions_revoke

GRANTS = {
    "Data steward": ["view_changeevent"],
    "Marketing": ["view_changeevent"],
    "Administrator": ["view_changeevent"],
}


def grant(apps, schema_editor):
    role_permissions_grant(apps, "parties", GRANTS)


def revoke(apps, schema_editor):
    role_permissions_revoke(apps, "parties", GRANTS)


class Migration(migrations.Migration):
    dependencies = [
        ("parties", "0023_import_job_dry_run"),
    ]

    operations = [migrations.RunPython(grant, revoke)]
