"""Data migration: the standard data-use purposes, and consents in the role groups.

Marketing staff change consents and preferences; stewards and administrators read them (and
administrators may change them too). Nobody may change or delete the ledger.
"""

from django.db import migrations

from c360.kernel.role_grants import role_permissions_grant, role_permissions_revoke

PURPOSES = [
    ("marketing", "Marketing", "Offers and promotions about our products.", "consent", True),
    ("newsletter", "Newsletters", "Regular newsletters the customer subscribed to.", "consent", True),
    (
        "profiling",
        "Profiling and analytics",
        "Segmenting and scoring the customer from their data.",
        "consent",
        True,
    ),
    (
        "third_party_sharing",
        "Third-party sharing",
        "Passing the customer's data to partners.",
        "consent",
        True,
    ),
    (
        "service",
        "Service messages",
        "Order, delivery and account messages the contract needs.",
        "contract",
        False,
    ),
]
WRITE = [
    f"{a}_{m}"
    for m in ("contactpointtypeconsent", "contactpointconsent", "privacypreference")
    for a in ("add", "change", "view")
]
READ = [
    f"view_{m}"
    for m in (
        "contactpointtypeconsent",
        "contactpointconsent",
        "privacypreference",
        "datausepurpose",
        "consentevent",
    )
]
GRANTS = {
    "Marketing": [*WRITE, *READ],
    "Administrator": [*WRITE, *READ, "add_datausepurpose", "change_datausepurpose"],
    "Data steward": READ,
}


def seed(apps, schema_editor):
    Purpose = apps.get_model("consents", "DataUsePurpose")
    for code, name, description, basis, opt_in in PURPOSES:
        Purpose.objects.get_or_create(
            code=code,
            defaults={
                "name": name,
                "description": description,
                "legal_basis": basis,
                "requires_opt_in": opt_in,
            },
        )
    role_permissions_grant(apps, "consents", GRANTS)


def unseed(apps, schema_editor):
    role_permissions_revoke(apps, "consents", GRANTS)


class Migration(migrations.Migration):
    dependencies = [("consents", "0001_consent_model_and_ledger")]

    operations = [migrations.RunPython(seed, unseed)]
