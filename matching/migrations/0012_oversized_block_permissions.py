"""Data migration: oversized blocks in the role groups (stewards and administrators see
which block keys were left out of candidate pairs)."""

from django.db import migrations

from c360.kernel.role_grants import role_permissions_grant, role_permissions_revoke

GRANTS = {
    "Data steward": ["view_oversizedblock"],
    "Administrator": ["view_oversizedblock"],
}


def grant(apps, schema_editor):
    role_permissions_grant(apps, "matching", GRANTS)


def revoke(apps, schema_editor):
    role_permissions_revoke(apps, "matching", GRANTS)


class Migration(migrations.Migration):
    dependencies = [("matching", "0011_blockkey_one_party_index")]

    operations = [migrations.RunPython(grant, revoke)]
