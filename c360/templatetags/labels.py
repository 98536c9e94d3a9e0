"""People's words in templates (c360.kernel.labels, c360.kernel.addresses):

``{% load labels %}`` then ``{{ "given_name"|field_label }}`` → "Given name",
``{{ "non_binary"|value_label }}`` → "Non-binary", ``{{ address|address }}`` → "12 Main St,
Nashville, TN 37293, United States"."""

from __future__ import annotations

from django import template

from c360.kernel import addresses, labels

register = template.Library()


@register.filter
def field_label(name: object) -> str:
    return labels.field_label(name)


@register.filter
def value_label(value: object) -> str:
    return labels.value_label(value)


@register.filter
def address(point: object) -> str:
    """One line, in the order of the address's country, with the country's name."""
    return addresses.address_text(point)
