"""Data migration: administrators see the import files erasures have still to change (the
admin's "Pending file erasures"; read-only: only the erasure's retry changes them)."""

from django.db import migrations

from c360.kernel.role_grants import role_permissions_grant, role_permissions_revoke

GRANTS = {"Administrator": ["view_pendingfileerasure"]}


def grant(apps, schema_editor):
    role_permissions_grant(apps, "consents", GRANTS)


def revoke(apps, schema_editor):
    role_permissions_revoke(apps, "consents", GRANTS)


class Migration(migrations.Migration):
    dependencies = [("consents", "0009_pending_file_erasures")]

    operations = [migrations.RunPython(grant, revoke)]
