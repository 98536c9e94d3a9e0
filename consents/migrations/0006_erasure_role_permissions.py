"""Data migration: administrators may erase a customer (right to be forgotten)."""

from django.db import migrations

from c360.kernel.role_grants import role_permissions_grant, role_permissions_revoke

GRANTS = {"Administrator": ["erase_party"]}


def grant(apps, schema_editor):
    role_permissions_grant(apps, "consents", GRANTS)


def revoke(apps, schema_editor):
    role_permissions_revoke(apps, "consents", GRANTS)


class Migration(migrations.Migration):
    dependencies = [("consents", "0005_erasure_tombstones")]

    operations = [migrations.RunPython(grant, revoke)]
