"""Registering and editing source systems, for every caller (the source system pages, the
admin, an upload naming a new system, the import command), each change written to the
settings history (``c360.kernel.setting_changes``) in the same transaction."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction

from c360.kernel.setting_changes import model_labels, setting_changes_record, setting_values
from parties.models import SourceSystem

SOURCE_SYSTEM_SETTING = "parties.source_system"  # its history, per source system
SOURCE_SYSTEM_FIELDS = (
    "name",
    "kind",
    "data_category",
    "trust_rank",
    "default_region",
    "date_order",
    "description",
    "is_active",
)


def _fields_check(values: Mapping[str, Any]) -> None:
    unknown = set(values) - set(SOURCE_SYSTEM_FIELDS)
    if unknown:
        raise ValidationError(f"Not a source system setting: {', '.join(sorted(unknown))}.")


def _record(source: SourceSystem, before: Mapping[str, Any], user) -> None:
    setting_changes_record(
        setting=SOURCE_SYSTEM_SETTING,
        object_id=source.pk,
        before=before,
        after=setting_values(source, SOURCE_SYSTEM_FIELDS),
        user=user,
        labels=model_labels(SourceSystem, SOURCE_SYSTEM_FIELDS),
    )


@transaction.atomic
def source_system_create(*, values: Mapping[str, Any], user=None) -> SourceSystem:
    """Register a source system with ``values`` (``SOURCE_SYSTEM_FIELDS``; the rest take their
    defaults). Raises ValidationError naming the field at fault (nothing is saved then); the
    history shows every value it was registered with."""
    _fields_check(values)
    source = SourceSystem(**values)
    source.full_clean(exclude=["column_mappings"])
    source.save()
    _record(source, {}, user)
    return source


@transaction.atomic
def source_system_update(*, source_id: int, values: Mapping[str, Any], user=None) -> SourceSystem:
    """Change a source system's settings (``values``: the fields to change). Checked first
    (ValidationError naming the field; nothing is saved); the history shows each field that
    changed, before and after. Locks the row, so two edits at once are recorded in order."""
    _fields_check(values)
    source = SourceSystem.objects.select_for_update().get(pk=source_id)
    before = setting_values(source, SOURCE_SYSTEM_FIELDS)
    for name, value in values.items():
        setattr(source, name, value)
    source.full_clean(exclude=["column_mappings"])
    source.save()
    _record(source, before, user)
    return source
