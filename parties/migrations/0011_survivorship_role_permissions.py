"""Data migration: survivorship rules, overrides and the audit trail in the role groups.

Administrators set survivorship rules; stewards (and administrators) set overrides; everyone
may read the audit trail, nobody may change it.
"""

from django.db import migrations

from c360.kernel.role_grants import role_permissions_grant, role_permissions_revoke

OVERRIDES = [f"{a}_goldenoverride" for a in ("add", "change", "delete", "view")]
GRANTS = {
    "Administrator": [f"{a}_survivorshiprule" for a in ("add", "change", "delete", "view")]
    + OVERRIDES
    + ["view_partyevent"],
    "Data steward": ["view_survivorshiprule", "view_partyevent", *OVERRIDES],
    "Marketing": ["view_partyevent"],
}


def grant(apps, schema_editor):
    role_permissions_grant(apps, "parties", GRANTS)


def revoke(apps, schema_editor):
    role_permissions_revoke(apps, "parties", GRANTS)


class Migration(migrations.Migration):
    dependencies = [("parties", "0010_survivorship_overrides_audit_trail")]

    operations = [migrations.RunPython(grant, revoke)]
