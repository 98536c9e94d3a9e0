"""Data migration: import jobs and data-quality issues in the role groups.

Administrators run imports; stewards read job reports and data-quality issues.
"""

from django.contrib.auth.management import create_permissions
from django.db import migrations

MODELS = ["importjob", "importrejection", "dataqualityissue"]
GRANTS = {
    "Administrator": [f"{a}_{m}" for m in MODELS for a in ("add", "change", "delete", "view")],
    "Data steward": [f"view_{m}" for m in MODELS],
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
            content_type__app_label="parties", codename__in=codenames))


def revoke(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for group_name, codenames in GRANTS.items():
        group = Group.objects.filter(name=group_name).first()
        if group:
            group.permissions.remove(*Permission.objects.filter(
                content_type__app_label="parties", codename__in=codenames))


class Migration(migrations.Migration):
    dependencies = [("parties", "0003_import_jobs")]

    operations = [migrations.RunPython(grant, revoke)]
