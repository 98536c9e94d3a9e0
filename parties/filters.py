"""The party list's filters (django-filter); the query logic itself is in selectors."""

from __future__ import annotations

import django_filters
from django import forms

from parties.models import PartyKind, PartyStatus, SourceSystem
from parties.selectors import party_search


class PartyFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(
        method="filter_q",
        label="Search",
        widget=forms.TextInput(
            attrs={"placeholder": "Name, email, phone, postal code, key…", "type": "search"}
        ),
    )
    kind = django_filters.ChoiceFilter(choices=PartyKind.choices, empty_label="Any kind")
    status = django_filters.ChoiceFilter(choices=PartyStatus.choices, empty_label="Any status")
    source = django_filters.ModelChoiceFilter(
        field_name="source_records__source_system",
        queryset=SourceSystem.objects.all(),
        empty_label="Any source",
        distinct=True,
        label="Source system",
    )
    country = django_filters.CharFilter(
        field_name="addresses__country",
        lookup_expr="iexact",
        distinct=True,
        label="Country",
        widget=forms.TextInput(attrs={"placeholder": "e.g. DE", "size": 4, "maxlength": 2}),
    )
    reachability = django_filters.ChoiceFilter(
        method="filter_quality",
        choices=[("none", "No contact point")],
        empty_label="Any",
        label="Reachability",
    )
    contact = django_filters.ChoiceFilter(
        method="filter_quality",
        choices=[("invalid_email", "Invalid email"), ("invalid_phone", "Invalid phone")],
        empty_label="Any",
        label="Data quality",
    )

    def filter_q(self, queryset, name, value):
        return party_search(queryset, q=value)

    def filter_quality(self, queryset, name, value):
        return party_search(queryset, **{name: value})
