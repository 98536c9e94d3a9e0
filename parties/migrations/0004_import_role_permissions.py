"""Data migration: import jobs and data-quality issues in the role groups.

Administrators run imports; stewards read job reports and data-quality issues.
"""

from django.db import migrations

from c360.kernel.role_grants import role_permissions_grant, role_permissions_revoke

MODELS = ["importjob", "importrejection", "dataqualityissue"]
GRANTS = {
    "Administrator": [f"{a}_{m}" for m in MODELS for a in ("add", "change", "delete", "view")],
    "Data steward": [f"view_{m}" for m in MODELS],
}


def grant(apps, schema_editor):
    role_permissions_grant(apps, "parties", GRANTS)


def revoke(apps, schema_editor):
    role_permissions_revoke(apps, "parties", GRANTS)


class Migration(migrations.Migration):
    dependencies = [("parties", "0003_import_jobs")]

    operations = [migrations.RunPython(grant, revoke)]
