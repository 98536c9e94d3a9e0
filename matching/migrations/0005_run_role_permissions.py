"""Data migration: match runs and suggestions in the role groups. Stewards read runs and
work suggestions; administrators may do everything."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

MODELS = ["matchrun", "matchsuggestion", "matchsuggestionmember", "blockkey"]
GRANTS = {
    "Data steward": ["view_matchrun", "add_matchrun", "view_matchsuggestion",
                     "change_matchsuggestion", "view_matchsuggestionmember"],
    "Administrator": [f"{a}_{m}" for m in MODELS for a in ("add", "change", "delete", "view")],
}


def grant(apps, schema_editor):
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, verbosity=0, apps=apps)
        app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for group_name, codenames in GRANTS.items():
        group, _ = Group.objects.get_or_create(name=group_name)
        group.permissions.add(*Permission.objects.filter(
            content_type__app_label="matching", codename__in=codenames))


def revoke(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for group_name, codenames in GRANTS.items():
        group = Group.objects.filter(name=group_name).first()
        if group:
            group.permissions.remove(*Permission.objects.filter(
                content_type__app_label="matching", codename__in=codenames))


class Migration(migrations.Migration):
    dependencies = [("matching", "0004_match_runs_and_suggestions")]

    operations = [migrations.RunPython(grant, revoke)]
