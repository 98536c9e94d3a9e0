from __future__ import annotations

from typing import Any

from django import template

from parties.services.golden import ATTRIBUTE_LABELS

register = template.Library()


@register.filter
def get_item(mapping: dict, key: Any) -> Any:
    return mapping.get(key) if mapping else None


@register.filter
def attr_label(name: str) -> str:
    return ATTRIBUTE_LABELS.get(name, name.replace("_", " ").capitalize())
