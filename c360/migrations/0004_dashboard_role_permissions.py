"""Data migration: stewards and administrators see the data-quality dashboard; administrators
may refresh its figures on demand."""

from django.db import migrations

from c360.kernel.role_grants import role_permissions_grant, role_permissions_revoke

GRANTS = {
    "Data steward": ["view_dashboardsnapshot"],
    "Administrator": ["view_dashboardsnapshot", "refresh_dashboardsnapshot"],
}


def grant(apps, schema_editor):
    role_permissions_grant(apps, "c360", GRANTS)


def revoke(apps, schema_editor):
    role_permissions_revoke(apps, "c360", GRANTS)


class Migration(migrations.Migration):
    dependencies = [("c360", "0003_dashboard_aggregates"), ("parties", "0002_role_groups")]

    operations = [migrations.RunPython(grant, revoke)]
