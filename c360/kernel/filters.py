"""Filters shared by pages and APIs (django-filter and Django forms only: no DRF, whose settings
import c360.kernel.api back)."""

from __future__ import annotations

import django_filters
from django import forms
from django.core.exceptions import ValidationError

from c360.kernel.params import BadParameter, parse_id


class IdFormField(forms.IntegerField):
    """An id written with the digits 0-9 that a database column can hold (``parse_id``; ``int()``
    would read "٣" as 3 and ``10**30`` would fail in the database)."""

    def to_python(self, value):
        if value in self.empty_values:
            return None
        try:
            return parse_id(value, name="id")
        except BadParameter as exc:
            raise ValidationError(f"{exc.problem[:1].upper()}{exc.problem[1:]}.", code="invalid") from None


class IdFilter(django_filters.NumberFilter):
    """A filter on an id: a whole number a database column can hold, digits 0-9 (else a 400 naming it)."""

    field_class = IdFormField
