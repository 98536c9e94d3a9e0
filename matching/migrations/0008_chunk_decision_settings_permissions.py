"""Data migration: run chunks, pair decisions and match settings in the role groups.
Stewards read chunks and settings and record decisions; administrators may do everything,
including setting the thresholds."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

MODELS = ["matchrunchunk", "pairdecision", "matchsettings", "scoredpair"]
GRANTS = {
    "Data steward": ["view_matchrunchunk", "view_pairdecision", "add_pairdecision",
                     "view_matchsettings"],
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
    dependencies = [("matching", "0007_run_chunks_decisions_thresholds")]

    operations = [migrations.RunPython(grant, revoke)]
