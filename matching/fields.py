"""What the matcher compares: one definition for training, matching and explanations.

``party_record`` flattens a party (its golden attributes and every active contact point and
identifier) into the flat dict dedupe sees; ``source_record_record`` does the same for one
source record's standardized values, which is what stored labels are made of.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import dedupe.variables as dv
from affinegap import normalizedAffineGapDistance as affineGap

from matching.comparisons import COMPARISONS, EMAIL_SEPARATOR, NAME_SEPARATOR

# field → how dedupe compares it. Low-variety fields are Exact and ``has_missing`` is used
# only where values are often absent: both keep active learning's memory in check.
FIELD_DEFINITIONS: list[tuple[str, str, dict[str, Any]]] = [
    ("given_name", "String", {"has_missing": True}),
    ("family_name", "String", {"has_missing": True}),
    ("organization_name", "String", {"has_missing": True}),
    ("birth_date", "ShortString", {"has_missing": True}),
    ("emails", "Set", {"has_missing": True}),
    ("phones", "Set", {"has_missing": True}),
    ("address_line1", "String", {"has_missing": True}),
    ("city", "ShortString", {"has_missing": True}),
    ("postal_code", "ShortString", {"has_missing": True}),
    ("country", "Exact", {"has_missing": True}),
    ("identifiers", "Set", {"has_missing": True}),
]
FIELDS = [name for name, _, _ in FIELD_DEFINITIONS]

# dedupe's normalized affine-gap distance is 0.5 for equal strings, about 1.2-2 for a typo or
# two, and 4-6 for unrelated strings. Unbounded, one field could outweigh all the others: a model
# trained on 100 labels gave an address weight that made "same name, birth date, email and
# phone, another address" (a customer who moved) score 0.02. Capped, a field that differs
# entirely counts as much as one that differs a lot, and no more. On the quality data, the
# worst of four label sets went from F1 0.945 to 0.985 (README: Performance, Matching).
STRING_DISTANCE_CAP = 2.0


def bounded_affine_gap(a: str, b: str) -> float:
    return min(affineGap(a, b), STRING_DISTANCE_CAP)


# for scoring a column at a time: the raw distance, then one clip (matching.services.scoring)
bounded_affine_gap.unbounded = affineGap
bounded_affine_gap.cap = STRING_DISTANCE_CAP


class BoundedString(dv.String):
    """dedupe's String variable (same blocking predicates) with the capped distance."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.comparator = bounded_affine_gap


class BoundedShortString(dv.ShortString):
    """dedupe's ShortString variable with the capped distance."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.comparator = bounded_affine_gap


_VARIABLE_TYPES = {
    "String": BoundedString,
    "ShortString": BoundedShortString,
    "Set": dv.Set,
    "Exact": dv.Exact,
    "Text": dv.Text,
}


def comparison_variables() -> list:
    """The comparisons the classifier weighs (``matching.comparisons``), as dedupe Custom
    variables: dedupe's ``distances`` computes their levels (NaN when a value is missing, then
    a "present" column). They have no blocking predicates of their own."""
    custom = []
    for comparison in COMPARISONS:
        variable = dv.Custom(
            comparison.field, comparator=comparison.compare, name=comparison.name, has_missing=True
        )
        variable.predicates = []  # dedupe would add "exists", a block as big as the data
        custom.append(variable)
    return custom


def variables() -> list:
    """Fresh dedupe variable objects (dedupe keeps state on them: build new ones each time):
    the fields dedupe learns blocking predicates from, then the comparisons."""
    return [
        *(_VARIABLE_TYPES[kind](name, **options) for name, kind, options in FIELD_DEFINITIONS),
        *comparison_variables(),
    ]


def _text(value: Any) -> str | None:
    text = str(value).strip().lower() if value not in (None, "") else ""
    return text or None


def _set(values: Iterable[Any]) -> tuple[str, ...] | None:
    items = tuple(sorted({str(v).strip().lower() for v in values if v}))
    return items or None


def flat_record(
    *,
    attributes: Mapping[str, Any],
    emails: Iterable[str],
    phones: Iterable[str],
    address: Mapping[str, Any] | None,
    identifiers: Iterable[str],
) -> dict[str, Any]:
    """The record dedupe sees. Missing values are ``None`` (dedupe's convention)."""
    address = address or {}
    birth = attributes.get("birth_date")
    given, family = _text(attributes.get("given_name")), _text(attributes.get("family_name"))
    birth_text = _text(birth.isoformat() if hasattr(birth, "isoformat") else birth)
    postal = _text(str(address.get("postal_code") or "").replace(" ", ""))
    email_set, id_set = _set(emails), _set(identifiers)
    return {
        "given_name": given,
        "family_name": family,
        "organization_name": _text(attributes.get("organization_name")),
        "birth_date": birth_text,
        "emails": email_set,
        "phones": _set(phones),
        "address_line1": _text(address.get("line1")),
        "city": _text(address.get("city")),
        "postal_code": postal,
        "country": _text(address.get("country")),
        "identifiers": id_set,
        # composites for the comparisons that read several fields (matching.comparisons)
        "name": _joined(given, family),
        "email": (
            NAME_SEPARATOR.join([EMAIL_SEPARATOR.join(email_set), given or "", family or ""])
            if email_set
            else None
        ),
        "address": _joined(address.get("line1"), postal, address.get("city"), address.get("country")),
        "household": _joined(
            given, family, birth_text, address.get("line1"), postal, EMAIL_SEPARATOR.join(id_set or ())
        ),
    }


def _joined(*parts: Any) -> str | None:
    texts = [_text(part) or "" for part in parts]
    return NAME_SEPARATOR.join(texts) if any(texts) else None


def source_record_record(standardized: Mapping[str, Any]) -> dict[str, Any]:
    """Flatten one source record's standardized values (see ``StandardizedRow.as_json``)."""
    identifier = standardized.get("identifier") or {}
    return flat_record(
        attributes=standardized.get("attributes") or {},
        emails=standardized.get("emails") or [],
        phones=standardized.get("phones") or [],
        address=standardized.get("address"),
        identifiers=[f"{identifier['type']}:{identifier['normalized']}"] if identifier else [],
    )
