"""Data migration: matching permissions in the role groups. Stewards label and train;
administrators may do everything."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

GRANTS = {
    "Data steward": [
        "add_traininglabel",
        "change_traininglabel",
        "view_traininglabel",
        "add_matchermodel",
        "view_matchermodel",
    ],
    "Administrator": [
        f"{a}_{m}" for m in ("traininglabel", "matchermodel") for a in ("add", "change", "delete", "view")
    ],
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
        group.permissions.add(
            *Permission.objects.filter(content_type__app_label="matching", codename__in=codenames)
        )


def revoke(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for group in Group.objects.filter(name__in=list(GRANTS)):
        group.permissions.remove(*Permission.objects.filter(content_type__app_label="matching"))


class Migration(migrations.Migration):
    dependencies = [
        ("matching", "0001_training_labels_and_models"),
        ("parties", "0002_role_groups"),
    ]

    operations = [migrations.RunPython(grant, revoke)]
