"""Data migration: run chunks, pair decisions and match settings in the role groups.
Stewards read chunks and settings and record decisions; administrators may do everything,
including setting the thresholds."""

from django.db import migrations

from c360.kernel.role_grants import role_permissions_grant, role_permissions_revoke

MODELS = ["matchrunchunk", "pairdecision", "matchsettings", "scoredpair"]
GRANTS = {
    "Data steward": ["view_matchrunchunk", "view_pairdecision", "add_pairdecision", "view_matchsettings"],
    "Administrator": [f"{a}_{m}" for m in MODELS for a in ("add", "change", "delete", "view")],
}


def grant(apps, schema_editor):
    role_permissions_grant(apps, "matching", GRANTS)


def revoke(apps, schema_editor):
    role_permissions_revoke(apps, "matching", GRANTS)


class Migration(migrations.Migration):
    dependencies = [("matching", "0007_run_chunks_decisions_thresholds")]

    operations = [migrations.RunPython(grant, revoke)]
