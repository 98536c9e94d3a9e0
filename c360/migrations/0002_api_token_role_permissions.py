"""Data migration: administrators create and revoke API tokens."""

from django.db import migrations

from c360.kernel.role_grants import role_permissions_grant, role_permissions_revoke

GRANTS = {"Administrator": ["add_apitoken", "change_apitoken", "view_apitoken"]}


def grant(apps, schema_editor):
    role_permissions_grant(apps, "c360", GRANTS)


def revoke(apps, schema_editor):
    role_permissions_revoke(apps, "c360", GRANTS)


class Migration(migrations.Migration):
    dependencies = [("c360", "0001_api_tokens"), ("parties", "0002_role_groups")]

    operations = [migrations.RunPython(grant, revoke)]
