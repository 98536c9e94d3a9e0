"""External identifiers of a party, and relationships between parties."""

from __future__ import annotations

from django.db import models


class IdentifierType(models.TextChoices):
    CUSTOMER_NUMBER = "customer_number", "Customer number"
    LOYALTY_NUMBER = "loyalty_number", "Loyalty number"
    TAX_ID = "tax_id", "Tax id"
    VAT_ID = "vat_id", "VAT id"
    COMPANY_REGISTRATION = "company_registration", "Company registration"
    DUNS = "duns", "D-U-N-S number"
    NATIONAL_ID = "national_id", "National id"
    PASSPORT = "passport", "Passport"
    OTHER = "other", "Other"


class PartyIdentification(models.Model):
    """An id some issuer gave the party (a customer number in the ERP, a VAT id, …)."""

    party = models.ForeignKey(
        "parties.Party",
        on_delete=models.PROTECT,
        related_name="identifications",
        db_index=False,  # the unique index starting with party serves lookups by party
    )
    source_record = models.ForeignKey(
        "parties.SourceRecord",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_constraint=False,  # provenance written by imports in bulk; see bulk_writer
    )
    identifier_type = models.CharField(max_length=32, choices=IdentifierType.choices)
    issuer = models.CharField(max_length=100, blank=True, help_text="Who issued it, e.g. ERP, IRS")
    value = models.CharField(max_length=100, help_text="As received")
    normalized = models.CharField(max_length=100, help_text="Upper-cased, separators removed")
    valid_from = models.DateField(null=True, blank=True)
    valid_to = models.DateField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["identifier_type", "normalized"]
        constraints = [
            models.UniqueConstraint(
                fields=["party", "identifier_type", "issuer", "normalized"],
                name="identification_unique_per_party",
            ),
        ]
        indexes = [
            models.Index(fields=["identifier_type", "normalized"], name="identification_lookup_idx"),
            # the search box looks an identifier up without knowing its type
            models.Index(fields=["normalized"], name="identification_value_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.get_identifier_type_display()} {self.value}"


class RelationshipKind(models.TextChoices):
    EMPLOYED_BY = "employed_by", "Works at"
    CONTACT_FOR = "contact_for", "Contact person for"
    HOUSEHOLD_MEMBER = "household_member", "Household member of"
    SPOUSE = "spouse", "Spouse / partner of"
    PARENT_OF = "parent_of", "Parent of"
    SUBSIDIARY_OF = "subsidiary_of", "Subsidiary of"


class PartyRelationship(models.Model):
    """A directed relationship: ``from_party`` <kind> ``to_party`` (Ann works at ACME)."""

    from_party = models.ForeignKey(
        "parties.Party", on_delete=models.PROTECT, related_name="relationships_from"
    )
    to_party = models.ForeignKey("parties.Party", on_delete=models.PROTECT, related_name="relationships_to")
    kind = models.CharField(max_length=32, choices=RelationshipKind.choices)
    role = models.CharField(max_length=100, blank=True, help_text="e.g. job title")
    started_on = models.DateField(null=True, blank=True)
    ended_on = models.DateField(null=True, blank=True)
    source_record = models.ForeignKey(
        "parties.SourceRecord", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["kind", "id"]
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(from_party=models.F("to_party")),
                name="relationship_not_to_itself",
            ),
            models.UniqueConstraint(fields=["from_party", "to_party", "kind"], name="relationship_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.from_party_id} {self.kind} {self.to_party_id}"
