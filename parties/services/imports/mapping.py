"""Column mapping: which file columns feed which canonical field.

A mapping is ``{target field: [file column, …]}``; several columns are joined with a space
(street number + street name). File columns no target names are ignored (and still kept in
the raw payload). The mapping is proposed from the header names, can be edited, and is saved
on the source system for its next file.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

from parties.extensions import ImportKind

Columns = dict[str, list[str]]


class MappingError(ValueError):
    """The mapping cannot be used with this file; the message names the field or column."""


def header_key(header: str) -> str:
    """``"E-Mail Address "`` → ``"e_mail_address"``: how headers and synonyms are compared."""
    text = header.strip().lower().replace("ß", "ss")
    text = re.sub(r"[^\w]+", "_", text, flags=re.UNICODE)
    return text.strip("_")


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
        lookup.setdefault(header_key(target), target)
    for target, synonyms in kind.synonyms.items():
        for synonym in synonyms:
            lookup.setdefault(header_key(synonym), target)
    for header in headers:
        if header in used:
            continue
        target = lookup.get(header_key(header))
        if target and target not in proposal:
            proposal[target] = [header]
            used.add(header)
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
            raise MappingError(
                f"unknown target field {target!r}; the fields are: {', '.join(kind.columns)}"
            )
        columns = [value] if isinstance(value, str) else value
        if not isinstance(columns, list) or not all(isinstance(c, str) for c in columns):
            raise MappingError(f"field {target!r}: give a column name or a list of column names")
        columns = [c for c in columns if c]
        missing = [c for c in columns if c not in present]
        if missing:
            raise MappingError(
                f"field {target!r} names column {missing[0]!r}, which the file does not have"
            )
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
