"""Shared by the data migrations that give role groups the permissions of new models."""

from __future__ import annotations

from django.contrib.auth.management import create_permissions


def role_permissions_grant(apps, app_label: str, grants: dict[str, list[str]]) -> None:
    """Give each group (created if missing) its ``app_label`` permissions by codename."""
    for app_config in apps.get_app_configs():  # permissions of models created in this run
        app_config.models_module = True
        create_permissions(app_config, verbosity=0, apps=apps)
        app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for group_name, codenames in grants.items():
        group, _ = Group.objects.get_or_create(name=group_name)
        group.permissions.add(
            *Permission.objects.filter(content_type__app_label=app_label, codename__in=codenames)
        )


def role_permissions_revoke(apps, app_label: str, grants: dict[str, list[str]]) -> None:
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for group_name, codenames in grants.items():
        group = Group.objects.filter(name=group_name).first()
        if group:
            group.permissions.remove(
                *Permission.objects.filter(content_type__app_label=app_label, codename__in=codenames)
            )
