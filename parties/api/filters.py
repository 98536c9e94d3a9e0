"""Filters of the party list over the API. Conditions on contact points and source records
are ``EXISTS`` subqueries, so no join multiplies the rows a cursor pages through."""

from __future__ import annotations

import django_filters
from django.db.models import Exists, OuterRef, Q

from c360.kernel.filters import IdFilter
from parties.models import (
    ContactPointAddress,
    ContactPointEmail,
    ContactPointPhone,
    EventKind,
    ImportJob,
    ImportStatus,
    Party,
    PartyEvent,
    PartyKind,
    PartyStatus,
    SourceRecord,
)
from parties.services import standardize as std


class PartyApiFilter(django_filters.FilterSet):
    name = django_filters.CharFilter(method="by_name", help_text="Part of the name (any case).")
    email = django_filters.CharFilter(method="by_email", help_text="An email address (any case).")
    phone = django_filters.CharFilter(
        method="by_phone",
        help_text="A phone number in any format: with +country (or 00) exactly, else by its last 9 digits.",
    )
    postal_code = django_filters.CharFilter(method="by_postal_code", help_text="A postal code of an address.")
    country = django_filters.CharFilter(
        method="by_country", help_text="ISO 3166 alpha-2 country of an address."
    )
    source_system = django_filters.CharFilter(
        method="by_source", help_text="Name of a source system the party has a record in."
    )
    kind = django_filters.ChoiceFilter(choices=PartyKind.choices)
    status = django_filters.ChoiceFilter(choices=PartyStatus.choices)
    updated_since = django_filters.IsoDateTimeFilter(
        field_name="updated_at",
        lookup_expr="gte",
        help_text="Only parties changed at or after this time (ISO 8601), for incremental sync.",
    )

    class Meta:
        model = Party
        fields = [
            "name",
            "email",
            "phone",
            "postal_code",
            "country",
            "source_system",
            "kind",
            "status",
            "updated_since",
        ]

    def by_name(self, queryset, name, value):
        text = std.collapse(value)
        return queryset.filter(Q(display_name__icontains=text) | Q(organization_name__icontains=text))

    def by_email(self, queryset, name, value):
        cleaned = std.email_normalize(value)
        address = cleaned.value or value.strip().lower()
        return queryset.filter(
            Exists(ContactPointEmail.objects.filter(party=OuterRef("pk"), normalized=address))
        )

    def by_phone(self, queryset, name, value):
        if value.strip().startswith(("+", "00")):  # international: its E.164 form, one index lookup
            e164 = std.phone_normalize("+" + value.strip().lstrip("+").removeprefix("00")).normalized
            if e164.startswith("+"):
                return queryset.filter(
                    Exists(ContactPointPhone.objects.filter(party=OuterRef("pk"), normalized=e164))
                )
        condition = ContactPointPhone.matching_digits(value)
        if condition is None:
            return queryset.none()
        return queryset.filter(Exists(ContactPointPhone.with_last9().filter(condition, party=OuterRef("pk"))))

    def by_postal_code(self, queryset, name, value):
        return queryset.filter(
            Exists(
                ContactPointAddress.objects.filter(
                    party=OuterRef("pk"), postal_code=std.postal_code_clean(value)
                )
            )
        )

    def by_country(self, queryset, name, value):
        return queryset.filter(
            Exists(ContactPointAddress.objects.filter(party=OuterRef("pk"), country=value.strip().upper()))
        )

    def by_source(self, queryset, name, value):
        return queryset.filter(
            Exists(
                SourceRecord.objects.filter(party=OuterRef("pk"), source_system__name__iexact=value.strip())
            )
        )


class ImportApiFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=ImportStatus.choices)
    kind = django_filters.CharFilter(help_text="File kind: parties, engagements, memberships or consents.")
    source_system = django_filters.CharFilter(
        field_name="source_system__name", lookup_expr="iexact", help_text="The source system's name."
    )
    created_since = django_filters.IsoDateTimeFilter(
        field_name="created_at", lookup_expr="gte", help_text="Uploaded at or after (ISO 8601)."
    )

    class Meta:
        model = ImportJob
        fields = ["status", "kind", "source_system", "created_since"]


class MergeApiFilter(django_filters.FilterSet):
    party = IdFilter(field_name="parties", help_text="Merges that involved this party.")
    kind = django_filters.ChoiceFilter(
        choices=[(EventKind.MERGE, "merge"), (EventKind.AUTO_MERGE, "automatic")]
    )
    created_since = django_filters.IsoDateTimeFilter(
        field_name="created_at", lookup_expr="gte", help_text="Merged at or after (ISO 8601)."
    )

    class Meta:
        model = PartyEvent
        fields = ["party", "kind", "created_since"]
