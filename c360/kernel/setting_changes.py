"""The history of settings changes: who changed which field of which setting, when, from what
to what. Services that save a setting call ``setting_changes_record`` inside their transaction
(so a refused or rolled-back change leaves nothing); the pages that edit a setting show
``setting_changes_list``. Part of the kernel: imports no app."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from django.db import models, transaction
from django.utils import timezone

from c360.kernel.models import SettingChange

CHANGES_SHOWN = 50


def setting_value(instance: models.Model, name: str) -> str | None:
    """A model field's value as people read it: a choice's label, a related row's name, a
    list joined by semicolons; None when empty."""
    field = _field(type(instance), name)
    if field.is_relation:
        value = getattr(instance, name)
    elif getattr(field, "choices", None):
        raw = getattr(instance, field.attname)  # empty is no value, whatever its label ("Any")
        value = dict(field.flatchoices).get(raw, raw) if raw not in (None, "") else None
    else:
        value = getattr(instance, field.attname)
    return value_text(value)


def value_text(value: Any) -> str | None:
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, (list, tuple, set)):
        return "; ".join(str(item) for item in value) if value else None
    return str(value)


def setting_values(instance: models.Model, fields: Iterable[str]) -> dict[str, str | None]:
    return {name: setting_value(instance, name) for name in fields}


def setting_changes_record(
    *,
    setting: str,
    before: Mapping[str, Any],
    after: Mapping[str, Any],
    user=None,
    object_id: Any = "",
    labels: Mapping[str, str] | None = None,
) -> list[SettingChange]:
    """Write one row per field whose value differs between ``before`` and ``after`` (a field
    missing from one side had no value there). Values are compared and stored as text
    (``value_text``). Must run inside the transaction that makes the change: it refuses to
    run outside one, so a history row can never outlive a change that was rolled back."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("setting_changes_record must run inside the change's transaction")
    labels = labels or {}
    now = timezone.now()
    who = user if getattr(user, "pk", None) else None  # an anonymous or absent user: no one
    rows = []
    for name in list(dict.fromkeys([*before, *after])):
        old, new = value_text(before.get(name)), value_text(after.get(name))
        if old != new:
            rows.append(
                SettingChange(
                    setting=setting,
                    object_id=str(object_id or ""),
                    field=name,
                    label=labels.get(name, name.replace("_", " ")),
                    old=old,
                    new=new,
                    changed_by=who,
                    changed_by_label=who.get_username() if who else "",
                    changed_at=now,
                )
            )
    return SettingChange.objects.bulk_create(rows)


def model_labels(model: type[models.Model], fields: Iterable[str]) -> dict[str, str]:
    """The fields' verbose names, for ``labels``."""
    return {name: str(_field(model, name).verbose_name) for name in fields}


def _field(model: type[models.Model], name: str) -> models.Field:
    field = model._meta.get_field(name)
    if not isinstance(field, models.Field):  # a reverse relation is no setting of the row
        raise ValueError(f"{model.__name__}.{name} is not a field of the row")
    return field


def setting_changes_list(
    *, setting: str, object_id: Any = None, limit: int = CHANGES_SHOWN
) -> list[SettingChange]:
    """The latest changes of a setting (of one row of it, with ``object_id``), newest first."""
    changes = SettingChange.objects.filter(setting=setting)
    if object_id is not None:
        changes = changes.filter(object_id=str(object_id))
    return list(changes.select_related("changed_by").order_by("-changed_at", "-id")[:limit])
