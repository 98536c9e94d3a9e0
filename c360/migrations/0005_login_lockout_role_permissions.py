"""Data migration: administrators read the sign-in records of django-axes (attempts, failures,
sign-ins) and may delete an attempt to lift a lockout before its cool-off has passed."""

from django.db import migrations

from c360.kernel.role_grants import role_permissions_grant, role_permissions_revoke

GRANTS = {
    "Administrator": [
        "view_accessattempt",
        "delete_accessattempt",
        "view_accessfailurelog",
        "view_accesslog",
    ],
}


def grant(apps, schema_editor):
    role_permissions_grant(apps, "axes", GRANTS)


def revoke(apps, schema_editor):
    role_permissions_revoke(apps, "axes", GRANTS)


class Migration(migrations.Migration):
    dependencies = [
        ("c360", "0004_dashboard_role_permissions"),
        ("parties", "0002_role_groups"),
        ("axes", "0010_accessattemptexpiration"),
    ]

    operations = [migrations.RunPython(grant, revoke)]
