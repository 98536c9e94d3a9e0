"""Filters of the authentication audit, on its page and in the API (django-filter). A value the
form refuses (an unknown kind, a date no calendar has, text too long) makes the whole request
a 400 naming it; none reaches the database."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

import django_filters
from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone
from django_filters.fields import IsoDateTimeField

from c360.accounts.models import AuthEvent, AuthEventKind
from c360.kernel.filters import IdFilter


def _day_start(day) -> datetime | None:
    """The first instant of ``day`` in the site's time zone, or None past the calendar's end."""
    try:
        return timezone.make_aware(datetime.combine(day, time.min)).astimezone(UTC)
    except (OverflowError, ValueError):
        return None


class _UtcIsoDateTimeField(IsoDateTimeField):
    """An ISO 8601 time, as UTC: one whose offset takes it out of the calendar
    (``0001-01-01T00:00+05:00``) is refused here instead of failing in the database."""

    def to_python(self, value):
        parsed = super().to_python(value)
        if parsed is None:
            return None
        try:
            return parsed.astimezone(UTC)
        except (OverflowError, ValueError):
            raise ValidationError("This time is outside the calendar's range.", code="invalid") from None


class UtcIsoDateTimeFilter(django_filters.IsoDateTimeFilter):
    field_class = _UtcIsoDateTimeField


class _AuthEventFilterBase(django_filters.FilterSet):
    username = django_filters.CharFilter(
        field_name="username",
        lookup_expr="icontains",
        max_length=150,
        label="User",
        help_text="Part of the username (as typed at a failed sign-in), any case.",
        widget=forms.TextInput(attrs={"type": "search", "placeholder": "username"}),
    )
    user = IdFilter(field_name="user", label="User id", help_text="The user's id.", widget=forms.HiddenInput)
    kind = django_filters.ChoiceFilter(choices=AuthEventKind.choices, empty_label="Any event")
    client_address = django_filters.CharFilter(
        field_name="client_address",
        lookup_expr="startswith",
        max_length=64,
        label="Address",
        help_text="The client's address, or its beginning (198.51.100.).",
        widget=forms.TextInput(attrs={"placeholder": "e.g. 198.51.100.", "size": 16}),
    )

    class Meta:
        model = AuthEvent
        fields: list[str] = []


class AuthEventFilter(_AuthEventFilterBase):
    """The audit page's filters: days in the site's time zone."""

    since = django_filters.DateFilter(
        method="from_day", label="From", widget=forms.DateInput(attrs={"type": "date"})
    )
    until = django_filters.DateFilter(
        method="to_day", label="To", widget=forms.DateInput(attrs={"type": "date"})
    )

    def from_day(self, queryset, name, value):
        start = _day_start(value)
        return queryset if start is None else queryset.filter(at__gte=start)

    def to_day(self, queryset, name, value):
        try:
            end = _day_start(value + timedelta(days=1))
        except OverflowError:
            end = None
        return queryset if end is None else queryset.filter(at__lt=end)


class AuthEventApiFilter(_AuthEventFilterBase):
    """The API's filters: times in ISO 8601."""

    since = UtcIsoDateTimeFilter(
        field_name="at", lookup_expr="gte", help_text="At or after this time (ISO 8601)."
    )
    until = UtcIsoDateTimeFilter(field_name="at", lookup_expr="lt", help_text="Before this time (ISO 8601).")

    class Meta(_AuthEventFilterBase.Meta):
        fields = ["username", "user", "kind", "client_address", "since", "until"]
