"""Data migration: marketing and administrators keep segments and export them; data stewards
do not (their job is the data's quality, not marketing lists)."""

from django.db import migrations

from c360.kernel.role_grants import role_permissions_grant, role_permissions_revoke

SEGMENTS = ["view_segment", "add_segment", "change_segment", "delete_segment", "export_segment"]
GRANTS = {"Marketing": SEGMENTS, "Administrator": SEGMENTS}


def grant(apps, schema_editor):
    role_permissions_grant(apps, "consents", GRANTS)


def revoke(apps, schema_editor):
    role_permissions_revoke(apps, "consents", GRANTS)


class Migration(migrations.Migration):
    dependencies = [("consents", "0007_segments")]

    operations = [migrations.RunPython(grant, revoke)]
