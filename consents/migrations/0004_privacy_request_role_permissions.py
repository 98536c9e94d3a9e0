"""Data migration: administrators and data stewards handle privacy requests."""

from django.db import migrations

from c360.kernel.role_grants import role_permissions_grant, role_permissions_revoke

GRANTS = {"Administrator": ["handle_privacy_request"], "Data steward": ["handle_privacy_request"]}


def grant(apps, schema_editor):
    role_permissions_grant(apps, "consents", GRANTS)


def revoke(apps, schema_editor):
    role_permissions_revoke(apps, "consents", GRANTS)


class Migration(migrations.Migration):
    dependencies = [("consents", "0003_privacy_request_permission")]

    operations = [migrations.RunPython(grant, revoke)]
