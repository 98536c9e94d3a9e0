"""What the API shows of parties and what it accepts. No logic: the services decide."""

from __future__ import annotations

from django.urls import reverse
from rest_framework import serializers

from c360.kernel.api import JSONField
from parties.extensions import party_api_parts
from parties.models import (
    ContactPointAddress,
    ContactPointEmail,
    ContactPointPhone,
    ContactPointSocial,
    ContactUsage,
    ImportJob,
    Membership,
    Party,
    PartyIdentification,
    SourceRecord,
    SourceSystem,
)


def link(serializer, name: str, pk: int) -> str:
    """An absolute URL, like the pagination's ``next`` (relative without a request)."""
    path = reverse(name, args=[pk])
    request = serializer.context.get("request")
    return request.build_absolute_uri(path) if request is not None else path


class PointFields(serializers.ModelSerializer):
    value = serializers.CharField(source="normalized", read_only=True)

    class Meta:
        fields = [
            "id",
            "value",
            "raw_value",
            "usage",
            "is_primary",
            "validity",
            "validity_reason",
            "verified_at",
            "is_active",
            "first_seen_at",
            "last_seen_at",
            "updated_at",
        ]


class EmailOut(PointFields):
    class Meta(PointFields.Meta):
        model = ContactPointEmail


class PhoneOut(PointFields):
    class Meta(PointFields.Meta):
        model = ContactPointPhone
        fields = [*PointFields.Meta.fields, "phone_type", "country", "extension"]


class AddressOut(PointFields):
    class Meta(PointFields.Meta):
        model = ContactPointAddress
        fields = [*PointFields.Meta.fields, "line1", "line2", "city", "region", "postal_code", "country"]


class SocialOut(PointFields):
    class Meta(PointFields.Meta):
        model = ContactPointSocial
        fields = [f for f in PointFields.Meta.fields if f != "usage"] + ["network", "url"]


class ContactPointOut(serializers.Serializer):
    """One email address or phone number, as written through the API (phone fields are null
    for an email address)."""

    kind = serializers.SerializerMethodField(help_text="email or phone")
    id = serializers.IntegerField()
    value = serializers.CharField(source="normalized")
    raw_value = serializers.CharField()
    usage = serializers.CharField()
    is_primary = serializers.BooleanField()
    validity = serializers.CharField()
    validity_reason = serializers.CharField()
    verified_at = serializers.DateTimeField(allow_null=True)
    is_active = serializers.BooleanField()
    updated_at = serializers.DateTimeField()
    phone_type = serializers.CharField(allow_null=True, default=None)
    country = serializers.CharField(allow_null=True, default=None)
    extension = serializers.CharField(allow_null=True, default=None)

    def get_kind(self, point) -> str:
        return "phone" if isinstance(point, ContactPointPhone) else "email"


class IdentifierOut(serializers.ModelSerializer):
    class Meta:
        model = PartyIdentification
        fields = ["id", "identifier_type", "issuer", "value", "normalized", "valid_from", "valid_to"]


class MembershipOut(serializers.ModelSerializer):
    class Meta:
        model = Membership
        fields = [
            "id",
            "program_type",
            "program_name",
            "member_number",
            "tier",
            "status",
            "started_on",
            "ends_on",
            "points_balance",
        ]


class SourceRecordRef(serializers.ModelSerializer):
    source_system = serializers.CharField(source="source_system.name")

    class Meta:
        model = SourceRecord
        fields = ["id", "source_system", "source_key", "source_updated_at", "last_seen_at"]


class PartySummary(serializers.ModelSerializer):
    """A party in a list: enough to recognise it and to decide whether to fetch it."""

    url = serializers.SerializerMethodField()
    primary_email = serializers.CharField(read_only=True, allow_null=True)
    primary_phone = serializers.CharField(read_only=True, allow_null=True)

    class Meta:
        model = Party
        fields = [
            "id",
            "url",
            "kind",
            "status",
            "merged_into",
            "display_name",
            "given_name",
            "family_name",
            "organization_name",
            "birth_date",
            "primary_email",
            "primary_phone",
            "erased_at",
            "created_at",
            "updated_at",
        ]

    def get_url(self, party) -> str:
        return link(self, "api:party-detail", party.pk)


class PartyDetail(serializers.ModelSerializer):
    """A party with everything attached. A merged party's ``survivor`` is the URL of the
    party it lives on in (follow it: ``merged_into`` may itself have been merged since)."""

    url = serializers.SerializerMethodField()
    survivor = serializers.SerializerMethodField()
    emails = EmailOut(many=True, read_only=True)
    phones = PhoneOut(many=True, read_only=True)
    addresses = AddressOut(many=True, read_only=True)
    social_profiles = SocialOut(many=True, read_only=True, source="socials")
    identifiers = IdentifierOut(many=True, read_only=True, source="identifications")
    memberships = MembershipOut(many=True, read_only=True)
    source_records = SourceRecordRef(many=True, read_only=True)
    merged_parties = serializers.SerializerMethodField()
    # Other apps' parts (consents: the party's channel consents) come from
    # parties.extensions.party_api_parts, in get_fields.

    class Meta:
        model = Party
        fields = [
            "id",
            "url",
            "kind",
            "status",
            "merged_into",
            "merged_at",
            "survivor",
            "merged_parties",
            "display_name",
            "salutation",
            "given_name",
            "middle_name",
            "family_name",
            "name_suffix",
            "birth_date",
            "gender",
            "preferred_language",
            "organization_name",
            "registration_id",
            "industry",
            "website",
            "erased_at",
            "created_at",
            "updated_at",
            "emails",
            "phones",
            "addresses",
            "social_profiles",
            "identifiers",
            "memberships",
            "source_records",
        ]

    def get_fields(self):
        fields = super().get_fields()
        parts = party_api_parts()
        placed = {}
        for name, field in fields.items():
            placed[name] = field
            for part in parts:
                if part.after == name:
                    placed[part.name] = part.field()
        for part in parts:
            placed.setdefault(part.name, part.field())
        return placed

    def get_url(self, party) -> str:
        return link(self, "api:party-detail", party.pk)

    def get_survivor(self, party) -> str | None:
        """Only for a merged party: where it lives on (queried only then)."""
        if not party.merged_into_id:
            return None
        from parties.selectors import party_resolve

        return link(self, "api:party-detail", party_resolve(pk=party.pk).pk)

    def get_merged_parties(self, party) -> list[int]:
        return sorted(p.pk for p in party.merged_parties.all())


class ContactPointIn(serializers.Serializer):
    kind = serializers.ChoiceField(choices=["email", "phone"])
    value = serializers.CharField(max_length=320)
    usage = serializers.ChoiceField(choices=ContactUsage.choices, default=ContactUsage.HOME)
    region = serializers.CharField(
        max_length=2,
        required=False,
        default="",
        help_text="ISO country to read a phone number written without +country; "
        "by default the party's address country, else US.",
    )


class ContactPointChange(serializers.Serializer):
    value = serializers.CharField(max_length=320, required=False, help_text="The corrected value.")
    region = serializers.CharField(max_length=2, required=False, default="")
    verified = serializers.BooleanField(required=False, help_text="true: mark the value verified.")

    def validate(self, data):
        if "value" not in data and not data.get("verified"):
            raise serializers.ValidationError({"value": ["give a corrected value, or verified: true"]})
        return data


class DeactivateIn(serializers.Serializer):
    reason = serializers.CharField(max_length=300, required=False, default="")


class SourceSystemOut(serializers.ModelSerializer):
    class Meta:
        model = SourceSystem
        fields = [
            "id",
            "name",
            "kind",
            "data_category",
            "trust_rank",
            "default_region",
            "date_order",
            "is_active",
        ]


class ImportJobOut(serializers.ModelSerializer):
    url = serializers.SerializerMethodField()
    source_system = serializers.CharField(source="source_system.name")
    percent = serializers.IntegerField(read_only=True)

    class Meta:
        model = ImportJob
        fields = [
            "id",
            "url",
            "kind",
            "source_system",
            "original_name",
            "file_size",
            "file_format",
            "status",
            "error",
            "mapping",
            "percent",
            "rows_total",
            "rows_read",
            "rows_created",
            "rows_updated",
            "rows_unchanged",
            "rows_rejected",
            "issues_count",
            "created_at",
            "started_at",
            "finished_at",
        ]

    def get_url(self, job) -> str:
        return link(self, "api:import-detail", job.pk)


class ImportIn(serializers.Serializer):
    source_system = serializers.SlugRelatedField(
        slug_field="name",
        queryset=SourceSystem.objects.filter(is_active=True),
        help_text="The source system's name.",
    )
    kind = serializers.CharField(
        default="parties", help_text="File kind: parties, engagements, memberships or consents."
    )
    file = serializers.FileField(help_text="CSV, XLSX or JSON Lines.")
    mapping = JSONField(
        required=False,
        help_text='Target field → list of file columns, e.g. {"source_key": ["Customer ID"]}; '
        "without it, the mapping the columns' names suggest (or the source's saved one).",
    )


class ReportRow(serializers.Serializer):
    line = serializers.IntegerField(allow_null=True)
    column = serializers.CharField()
    value = serializers.CharField()
    reason = serializers.CharField()
    outcome = serializers.CharField(help_text="rejected (row not imported) or kept (value kept as received)")
