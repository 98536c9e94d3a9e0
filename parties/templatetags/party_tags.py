from __future__ import annotations

from typing import Any

from django import template

from c360.kernel.labels import field_label

register = template.Library()


@register.filter
def get_item(mapping: dict, key: Any) -> Any:
    return mapping.get(key) if mapping else None


@register.filter
def attr_label(name: str) -> str:
    return field_label(name)


@register.filter
def pairs(mapping: dict | None) -> list[tuple[Any, Any]]:
    """A dict's items, for dicts that may hold a key named "items" (``{{ d.items }}`` would
    look that key up)."""
    return list(mapping.items()) if isinstance(mapping, dict) else []
