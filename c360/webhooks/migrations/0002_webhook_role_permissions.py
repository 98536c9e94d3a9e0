"""Data migration: administrators manage webhook subscribers and read their delivery logs."""

from django.db import migrations

from c360.kernel.role_grants import role_permissions_grant, role_permissions_revoke

GRANTS = {
    "Administrator": ["manage_webhooks", "view_subscriber", "view_delivery"],
}


def grant(apps, schema_editor):
    role_permissions_grant(apps, "webhooks", GRANTS)


def revoke(apps, schema_editor):
    role_permissions_revoke(apps, "webhooks", GRANTS)


class Migration(migrations.Migration):
    dependencies = [
        ("webhooks", "0001_subscribers_and_deliveries"),
        ("parties", "0002_role_groups"),
    ]

    operations = [migrations.RunPython(grant, revoke)]
