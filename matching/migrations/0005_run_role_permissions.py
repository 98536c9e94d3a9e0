"""Data migration: match runs and suggestions in the role groups. Stewards read runs and
work suggestions; administrators may do everything."""

from django.db import migrations

from c360.kernel.role_grants import role_permissions_grant, role_permissions_revoke

MODELS = ["matchrun", "matchsuggestion", "matchsuggestionmember", "blockkey"]
GRANTS = {
    "Data steward": [
        "view_matchrun",
        "add_matchrun",
        "view_matchsuggestion",
        "change_matchsuggestion",
        "view_matchsuggestionmember",
    ],
    "Administrator": [f"{a}_{m}" for m in MODELS for a in ("add", "change", "delete", "view")],
}


def grant(apps, schema_editor):
    role_permissions_grant(apps, "matching", GRANTS)


def revoke(apps, schema_editor):
    role_permissions_revoke(apps, "matching", GRANTS)


class Migration(migrations.Migration):
    dependencies = [("matching", "0004_match_runs_and_suggestions")]

    operations = [migrations.RunPython(grant, revoke)]
