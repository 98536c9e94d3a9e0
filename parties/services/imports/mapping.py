"""Column mapping: which file columns feed which canonical field.

A mapping is ``{target field: [file column, …]}``; several columns are joined with a space
(street number + street name). File columns no target names are ignored (and still kept in
the raw payload). The mapping is proposed from the header names, can be edited, and is saved
on the source system for its next file.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from parties.extensions import ImportKind

Columns = dict[str, list[str]]


class MappingError(ValueError):
    """The mapping cannot be used with this file; the message names the field or column."""


def header_key(header: str) -> str:
    """``"E-Mail Address "`` → ``"e_mail_address"``, ``"Prénom"`` → ``"prenom"``: how
    headers and synonyms are compared (case, accents, ß and punctuation do not count)."""
    text = header.strip().lower().replace("ß", "ss")
    text = "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))
    text = re.sub(r"[^\w]+", "_", text, flags=re.UNICODE)
    return text.strip("_")


def _compact(header: str) -> str:
    """``"E-Mail-Adresse"``, ``"Email Adresse"`` and ``"emailadresse"`` are one spelling."""
    return header_key(header).replace("_", "")


def mapping_propose(
    headers: Sequence[str], *, kind: ImportKind, saved: Mapping[str, Sequence[str]] | None = None
) -> Columns:
    """A mapping for these headers: the source system's saved mapping where its columns are
    in this file, then canonical names and known synonyms for the rest."""
    proposal: Columns = {}
    used: set[str] = set()
    present = set(headers)
    for target, columns in (saved or {}).items():
        if target in kind.columns and columns and all(c in present for c in columns):
            proposal[target] = list(columns)
            used.update(columns)
    lookup: dict[str, str] = {}
    for target in kind.columns:
        lookup.setdefault(_compact(target), target)
    for target, synonyms in kind.synonyms.items():
        for synonym in synonyms:
            lookup.setdefault(_compact(synonym), target)
    for header in headers:
        if header in used:
            continue
        found = lookup.get(_compact(header))
        if found and found in proposal:
            # a second phone or email column ("Telefon" beside "Mobil") takes the second slot
            second = f"{found}_2"
            found = second if second in kind.columns and second not in proposal else None
        if found:
            proposal[found] = [header]
            used.add(header)
    # columns that complete another one (a house number beside the street) join it
    for target, synonyms in kind.extra.get("joined", {}).items():
        if target not in proposal:
            continue
        keys = {_compact(s) for s in synonyms}
        extra = [h for h in headers if h not in used and _compact(h) in keys]
        if extra:
            order = {h: i for i, h in enumerate(headers)}
            proposal[target] = sorted(proposal[target] + extra, key=order.__getitem__)
            used.update(extra)
    return proposal


def mapping_clean(raw: Mapping[str, object], *, headers: Sequence[str], kind: ImportKind) -> Columns:
    """Validate a mapping given by a person (form, JSON file, API). Raises ``MappingError``
    naming the field or column that is wrong."""
    if not isinstance(raw, Mapping):
        raise MappingError("the mapping must be an object of target field → column(s)")
    present = set(headers)
    cleaned: Columns = {}
    for target, value in raw.items():
        if target not in kind.columns:
            raise MappingError(f"unknown target field {target!r}; the fields are: {', '.join(kind.columns)}")
        columns = [value] if isinstance(value, str) else value
        if not isinstance(columns, list) or not all(isinstance(c, str) for c in columns):
            raise MappingError(f"field {target!r}: give a column name or a list of column names")
        columns = [c for c in columns if c]
        missing = [c for c in columns if c not in present]
        if missing:
            raise MappingError(f"field {target!r} names column {missing[0]!r}, which the file does not have")
        if columns:
            cleaned[target] = columns
    for required in kind.required:
        if required not in cleaned:
            raise MappingError(
                f"no column is mapped to {required!r}; every row needs one "
                "(map the column that identifies the row in its source system)"
            )
    for group in kind.extra.get("required_any", ()):  # e.g. a customer named by key, email or phone
        if not any(target in cleaned for target in group):
            names = ", ".join(repr(target) for target in group)
            raise MappingError(f"no column is mapped to any of {names}; every row needs one of them")
    return cleaned


def mapping_apply(mapping: Columns, values: Mapping[str, str]) -> dict[str, str]:
    """The canonical row for one file row."""
    row: dict[str, str] = {}
    for target, columns in mapping.items():
        if len(columns) == 1:
            row[target] = values.get(columns[0], "") or ""
        else:
            row[target] = " ".join(v for c in columns if (v := (values.get(c) or "").strip()))
    return row


def mapping_source_column(mapping: Columns, target: str) -> str:
    """The file column(s) behind a target, for messages: ``"Street no + Street"``."""
    return " + ".join(mapping.get(target, [])) or target


# What the values of an ignored column look like, when they look like something a customer
# record needs. Each test is strict enough that names, notes, amounts and ids rarely pass it.
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s.]{2,}$")
_DATE = re.compile(
    r"^(\d{4}[./-]\d{1,2}[./-]\d{1,2}|\d{1,2}[./-]\d{1,2}[./-]\d{2,4})"
    r"([ T]\d{1,2}:\d{2}(:\d{2})?)?$"
)
_PHONE = re.compile(r"^\+?[\d\s().\-/]{7,22}$")
_POSTCODES = (
    re.compile(r"^\d{4,5}$"),  # DE FR ES IT US (5), NL BE AT CH DK (4)
    re.compile(r"^\d{5}-\d{4}$"),  # US ZIP+4
    re.compile(r"^\d{4} ?[A-Z]{2}$"),  # NL
    re.compile(r"^\d{2}-\d{3}$"),  # PL
    re.compile(r"^\d{3} ?\d{2}$"),  # SE CZ SK
    re.compile(r"^[A-Z]{1,2}\d[A-Z\d]? ?\d[A-Z]{2}$"),  # GB
    re.compile(r"^[A-Z]\d[A-Z] ?\d[A-Z]\d$"),  # CA
)
LOOKS_LIKE = {
    "email": "email addresses",
    "phone": "phone numbers",
    "date": "dates",
    "postal_code": "postal codes",
}
_MIN_SHARE = 0.6  # of a column's non-empty sample values


def value_looks_like(value: str) -> str | None:
    """``"email"``, ``"date"``, ``"phone"``, ``"postal_code"`` or None for one value."""
    text = value.strip()
    if not text:
        return None
    if _EMAIL.match(text):
        return "email"
    if _DATE.match(text):
        return "date"
    if any(pattern.match(text.upper()) for pattern in _POSTCODES):
        return "postal_code"
    if _PHONE.match(text) and 7 <= sum(c.isdigit() for c in text) <= 15:
        return "phone"
    return None


@dataclass(frozen=True)
class IgnoredColumn:
    """A file column no field takes although its values look like customer data."""

    column: str
    looks_like: str  # a LOOKS_LIKE key
    matching: int  # sample values that look so
    sampled: int  # non-empty sample values
    examples: tuple[str, ...]

    @property
    def looks_like_text(self) -> str:
        return LOOKS_LIKE[self.looks_like]

    @property
    def text(self) -> str:
        return (
            f"column {self.column!r} is ignored, but {self.matching} of its {self.sampled} "
            f"sample values look like {LOOKS_LIKE[self.looks_like]} "
            f"(e.g. {', '.join(repr(e) for e in self.examples)})"
        )


def column_looks_like(values: Sequence[str]) -> tuple[str, int, int] | None:
    """``(kind, matching, non-empty)`` when most non-empty values look like one kind."""
    kinds = [value_looks_like(v) for v in values if (v or "").strip()]
    if not kinds:
        return None
    counts: dict[str, int] = {}
    for kind in kinds:
        if kind:
            counts[kind] = counts.get(kind, 0) + 1
    if not counts:
        return None
    best = max(counts, key=counts.__getitem__)
    if counts[best] / len(kinds) < _MIN_SHARE:
        return None
    return best, counts[best], len(kinds)


def mapping_ignored_warnings(
    mapping: Mapping[str, Sequence[str]],
    *,
    headers: Sequence[str],
    samples: Sequence[Mapping[str, str]],
) -> list[IgnoredColumn]:
    """The columns this mapping ignores whose sample values look like email addresses,
    phone numbers, dates or postal codes, in file order: a steward confirms each before the
    import starts, or maps it."""
    mapped = {column for columns in mapping.values() for column in columns}
    warnings = []
    for header in headers:
        if header in mapped:
            continue
        values = [str(row.get(header) or "") for row in samples]
        found = column_looks_like(values)
        if found is None:
            continue
        kind, matching, sampled = found
        examples = tuple(
            dict.fromkeys(v.strip() for v in values if v.strip() and value_looks_like(v) == kind)
        )[:2]
        warnings.append(IgnoredColumn(header, kind, matching, sampled, examples))
    return warnings
