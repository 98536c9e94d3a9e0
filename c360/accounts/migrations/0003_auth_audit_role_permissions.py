"""Data migration: administrators see the authentication audit (page, API and admin) and
people's sessions, and may end them ("sign out everywhere" for a user)."""

from django.db import migrations

from c360.kernel.role_grants import role_permissions_grant, role_permissions_revoke

GRANTS = {
    "Administrator": ["view_auth_audit", "view_authevent", "view_usersession", "delete_usersession"],
}


def grant(apps, schema_editor):
    role_permissions_grant(apps, "accounts", GRANTS)


def revoke(apps, schema_editor):
    role_permissions_revoke(apps, "accounts", GRANTS)


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0002_oidc_identity"),
        ("parties", "0002_role_groups"),
    ]

    operations = [migrations.RunPython(grant, revoke)]
