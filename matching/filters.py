"""Filters of the merge queue (django-filter). Every filter reads a column written with the
suggestion (see services.facets), so the queue stays one indexed scan of one table."""

from __future__ import annotations

import re

import django_filters as df
from django import forms
from django.db.models import Q

from matching.models import MatchSuggestion
from matching.services.review import claim_cutoff
from parties.models import PartyKind, SourceSystem

_DIGITS = re.compile(r"\D+")
_PHONE = re.compile(r"[\d\s+()./-]+")
ORDERS = {"score": ["-score", "id"], "risk": ["-risk", "-score", "id"], "newest": ["-created_at", "-id"]}


class SuggestionFilter(df.FilterSet):
    q = df.CharFilter(
        label="Search",
        method="search",
        widget=forms.TextInput(attrs={"placeholder": "Name, email or phone", "type": "search"}),
    )
    order = df.ChoiceFilter(
        label="Order",
        method="order_by",
        empty_label=None,
        choices=[("score", "Best score first"), ("risk", "Highest risk first"), ("newest", "Newest first")],
    )
    score_min = df.NumberFilter(
        field_name="score",
        lookup_expr="gte",
        label="Score from",
        widget=forms.NumberInput(attrs={"step": "0.01", "min": 0, "max": 1}),
    )
    score_max = df.NumberFilter(
        field_name="score",
        lookup_expr="lte",
        label="Score to",
        widget=forms.NumberInput(attrs={"step": "0.01", "min": 0, "max": 1}),
    )
    source = df.ModelChoiceFilter(
        queryset=SourceSystem.objects.order_by("name"),
        method="in_source",
        label="Source system",
        empty_label="Any source",
    )
    kind = df.ChoiceFilter(
        choices=[*PartyKind.choices, ("mixed", "Mixed")], label="Party type", empty_label="Any type"
    )
    country = df.CharFilter(
        method="in_country",
        label="Country",
        widget=forms.TextInput(attrs={"placeholder": "DE", "size": 3, "maxlength": 2}),
    )
    created_after = df.DateFilter(
        field_name="created_at",
        lookup_expr="date__gte",
        label="Created from",
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    created_before = df.DateFilter(
        field_name="created_at",
        lookup_expr="date__lte",
        label="Created to",
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    assigned = df.ChoiceFilter(
        method="assigned_to",
        label="Assigned",
        empty_label="Anyone's",
        choices=[("mine", "Claimed by me"), ("unassigned", "Unclaimed"), ("others", "Claimed by others")],
    )

    class Meta:
        model = MatchSuggestion
        fields: list[str] = []

    def filter_queryset(self, queryset):
        queryset = super().filter_queryset(queryset)
        if not self.form.cleaned_data.get("order"):
            queryset = queryset.order_by(*ORDERS["score"])
        return queryset

    def search(self, queryset, name, value):
        digits = _DIGITS.sub("", value)
        if _PHONE.fullmatch(value.strip()) and len(digits) >= 6:
            # A phone number in any format: stored as E.164 digits, so "0151 234 5678" (national
            # trunk 0 dropped) and "+49 151 2345678" both find "+491512345678".
            return queryset.filter(search_text__contains=digits.lstrip("0"))
        for word in value.lower().split()[:5]:
            queryset = queryset.filter(search_text__contains=word)
        return queryset

    def order_by(self, queryset, name, value):
        return queryset.order_by(*ORDERS.get(value, ORDERS["score"]))

    def in_source(self, queryset, name, value):
        return queryset.filter(sources__contains=f",{value.pk},")

    def in_country(self, queryset, name, value):
        code = value.strip().upper()
        return queryset.filter(countries__contains=f",{code},") if code else queryset

    def assigned_to(self, queryset, name, value):
        user = self.request.user
        live = Q(claimed_by__isnull=False, claimed_at__gte=claim_cutoff())
        if value == "mine":
            return queryset.filter(live, claimed_by=user)
        if value == "unassigned":
            return queryset.exclude(live)
        if value == "others":
            return queryset.filter(live).exclude(claimed_by=user)
        return queryset
