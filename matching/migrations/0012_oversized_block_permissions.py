"""Data migration: oversized blocks in the role groups (stewards and administrators see
which block keys were left out of candidate pairs)."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

MODELS = ["oversizedblock"]
GRANTS = {
    "Data steward": ["view_oversizedblock"],
    "Administrator": ["view_oversizedblock"],
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
    dependencies = [("matching", "0011_blockkey_one_party_index")]

    operations = [migrations.RunPython(grant, revoke)]
