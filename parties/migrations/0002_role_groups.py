"""Data migration: the role groups and the permissions their jobs need.

Later apps' migrations add their own permissions to these groups the same way.
"""

from django.contrib.auth.management import create_permissions
from django.db import migrations

CONTACT_POINTS = ["contactpointemail", "contactpointphone", "contactpointaddress", "contactpointsocial"]
ALL_PARTIES_MODELS = CONTACT_POINTS + [
    "party",
    "partyidentification",
    "partyrelationship",
    "sourcesystem",
    "sourcerecord",
    "engagement",
    "membership",
]

ROLE_PERMISSIONS = {
    # Stewards keep party data right: see everything, correct parties and contact points,
    # merge; they do not register source systems or delete anything.
    "Data steward": (
        [f"view_{m}" for m in ALL_PARTIES_MODELS]
        + ["change_party", "merge_party"]
        + [
            f"{a}_{m}"
            for m in CONTACT_POINTS + ["partyidentification", "partyrelationship"]
            for a in ("add", "change")
        ]
    ),
    # Marketing edits how to reach customers (and, later, consents); it reads parties and
    # their engagement but not the raw source payloads or the source systems.
    "Marketing": (
        [
            "view_party",
            "view_partyidentification",
            "view_partyrelationship",
            "view_engagement",
            "view_membership",
        ]
        + [f"{a}_{m}" for m in CONTACT_POINTS for a in ("add", "change", "view")]
    ),
    # Administrators may do everything in the parties app, including sources and imports.
    "Administrator": (
        [f"{a}_{m}" for m in ALL_PARTIES_MODELS for a in ("add", "change", "delete", "view")]
        + ["merge_party"]
    ),
}
ADMIN_AUTH_PERMISSIONS = ["view_user", "add_user", "change_user", "view_group"]


def _ensure_permissions(apps):
    # Permissions are normally created after all migrations ran (post_migrate); create them
    # now so that a fresh database gets its groups filled in one `migrate`.
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, verbosity=0, apps=apps)
        app_config.models_module = None


def create_role_groups(apps, schema_editor):
    _ensure_permissions(apps)
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for group_name, codenames in ROLE_PERMISSIONS.items():
        group, _ = Group.objects.get_or_create(name=group_name)
        permissions = list(
            Permission.objects.filter(content_type__app_label="parties", codename__in=codenames)
        )
        missing = set(codenames) - {p.codename for p in permissions}
        if missing:
            raise RuntimeError(f"Permissions missing for {group_name}: {sorted(missing)}")
        group.permissions.add(*permissions)
    admin = Group.objects.get(name="Administrator")
    admin.permissions.add(
        *Permission.objects.filter(content_type__app_label="auth", codename__in=ADMIN_AUTH_PERMISSIONS)
    )


def delete_role_groups(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    Group.objects.filter(name__in=list(ROLE_PERMISSIONS)).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("parties", "0001_customer_360_model"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(create_role_groups, delete_role_groups)]
