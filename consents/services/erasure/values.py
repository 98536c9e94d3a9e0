"""What to redact: the customer's personal values (all of them, for rows linked to the party)
and the ones that identify them by themselves (for rows that are not), and the ``Redactor``
that replaces them in text and JSON columns."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
from typing import Any

from django.db import models
from django.db.models import Q

from consents.services.erasure.base import ERASED
from parties.models import (
    ContactPointAddress,
    ContactPointEmail,
    ContactPointPhone,
    ContactPointSocial,
    Engagement,
    GoldenOverride,
    Membership,
    Party,
    PartyIdentification,
    PartyRelationship,
    SourceRecord,
)

# Party columns holding personal values; erasure empties them all.
PARTY_PERSONAL = [
    "salutation",
    "given_name",
    "middle_name",
    "family_name",
    "name_suffix",
    "gender",
    "marital_status",
    "income_band",
    "education_level",
    "occupation",
    "preferred_language",
    "organization_name",
    "registration_id",
    "industry",
    "website",
]
PARTY_NULLED = ["birth_date", "household_size", "employee_count"]
POINT_MODELS: dict[
    str,
    type[ContactPointEmail] | type[ContactPointPhone] | type[ContactPointAddress] | type[ContactPointSocial],
] = {
    "email addresses": ContactPointEmail,
    "phone numbers": ContactPointPhone,
    "postal addresses": ContactPointAddress,
    "social profiles": ContactPointSocial,
}


def long_enough(value: str) -> bool:
    """A code long enough to identify someone by itself: five characters, or seven digits
    when it is only digits (a house number, a postal code or "77" is not)."""
    value = value.strip()
    return len(value) >= (7 if value.isdigit() else 5)


def shared_values(model, party_ids: Sequence[int], column: str = "normalized") -> set[str]:
    """The customer's values of ``model`` that another, unerased party holds too (a family's
    landline, a placeholder like noemail@example.com): they do not identify the customer."""
    own = set(model.objects.filter(party_id__in=party_ids).values_list(column, flat=True))
    return (
        set(
            model.objects.filter(**{f"{column}__in": sorted(own)})
            .exclude(party_id__in=party_ids)
            .filter(party__erased_at__isnull=True)
            .values_list(column, flat=True)
        )
        if own
        else set()
    )


def _strings(value: Any) -> Iterable[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, (list, tuple)):
        for item in value:
            yield from _strings(item)


def _clean(values: Iterable[str]) -> set[str]:
    return {v.strip() for v in values if v and len(v.strip()) >= 2}


def identifying_values(party_ids: Sequence[int]) -> set[str]:
    """The values that identify the customer by themselves, and are long enough to: email
    addresses, readable phone numbers (in every form stored), identifiers, source keys, member
    numbers, order numbers, their full name. They are what is looked for in rows not linked to the
    party (rejected lines, import jobs' errors, the admin's log): a name alone, a birth date, a
    city or an unreadable phone's digits ("77") would hit other customers."""
    values: set[str] = set()
    for given, family, display in Party.objects.filter(pk__in=party_ids).values_list(
        "given_name", "family_name", "display_name"
    ):
        values.update(n for n in (f"{given} {family}".strip(), display.strip()) if " " in n)
    # a value another customer holds too (a family's landline) identifies neither
    emails, phones = (
        model.objects.filter(party_id__in=party_ids).exclude(normalized__in=shared_values(model, party_ids))
        for model in (ContactPointEmail, ContactPointPhone)
    )
    for raw, normalized in emails.values_list("raw_value", "normalized"):
        values.update(v for v in (raw, normalized) if len(v.strip()) >= 6)
    for raw, normalized in phones.values_list("raw_value", "normalized"):
        digits = re.sub(r"\D", "", raw)
        if normalized.startswith("+") and len(normalized) >= 8:
            values.add(normalized)
        if len(digits) >= 7:
            values.update((raw, digits))
    for row in PartyIdentification.objects.filter(party_id__in=party_ids).values_list("value", "normalized"):
        values.update(v for v in row if long_enough(v))
    for model, column in (
        (SourceRecord, "source_key"),
        (Membership, "member_number"),
        (Engagement, "external_id"),
    ):
        values.update(
            v
            for v in model.objects.filter(party_id__in=party_ids).values_list(column, flat=True)
            if v and long_enough(v)
        )
    return _clean(values)


def personal_values(party_ids: Sequence[int]) -> set[str]:
    """Every personal value held about the parties: the identifying ones, and every other value
    their sources delivered (raw payloads, engagement attributes, demographics, job titles)."""
    values = set(identifying_values(party_ids))
    for row in Party.objects.filter(pk__in=party_ids).values_list(
        "display_name", "birth_date", *PARTY_PERSONAL
    ):
        values.update(str(v) for v in row if v)
    for model in POINT_MODELS.values():
        names = [
            f.name
            for f in model._meta.concrete_fields
            if f.name in ("raw_value", "normalized", "line1", "line2", "url", "extension")
        ]
        for row in model.objects.filter(party_id__in=party_ids).values_list(*names):
            values.update(v for v in row if v)
    values.update(PartyIdentification.objects.filter(party_id__in=party_ids).values_list("value", flat=True))
    values.update(SourceRecord.objects.filter(party_id__in=party_ids).values_list("source_key", flat=True))
    values.update(Membership.objects.filter(party_id__in=party_ids).values_list("member_number", flat=True))
    values.update(Engagement.objects.filter(party_id__in=party_ids).values_list("external_id", flat=True))
    values.update(GoldenOverride.objects.filter(party_id__in=party_ids).values_list("value", flat=True))
    for payload in SourceRecord.objects.filter(party_id__in=party_ids).values_list("raw_payload", flat=True):
        values.update(s for s in _strings(payload) if len(s.strip()) >= 3)
    for attributes in Engagement.objects.filter(party_id__in=party_ids).values_list("attributes", flat=True):
        values.update(s for s in _strings(attributes) if len(s.strip()) >= 3)
    values.update(
        PartyRelationship.objects.filter(
            Q(from_party_id__in=party_ids) | Q(to_party_id__in=party_ids)
        ).values_list("role", flat=True)
    )
    return _clean(values)


class Redactor:
    """Replaces the erased values wherever they occur in a text or a JSON document, as whole
    words, ignoring case (stored JSON may also hold them \\u-escaped). ``identifying`` are the
    values looked for in rows not linked to the party (rejected lines, the admin's log), where
    a common value from a payload ("Berlin") must not touch other customers' rows."""

    def __init__(self, values: Iterable[str], identifying: Iterable[str] = ()):
        self.all = self._pattern(values)
        # identifying values are whole tokens: "schulz.77@example.org" is not in
        # "anna.schulz.77@example.org", nor "ZQ-7781" in "ZQ-7781-2"
        self.strict = self._pattern(identifying, before=r"(?<![\w.@+\-])", after=r"(?![\w@+\-]|[.\-]\w)")
        self.needles = sorted({v for v in identifying if len(v) >= 5})

    @staticmethod
    def _pattern(
        values: Iterable[str], before: str = r"(?<!\w)", after: str = r"(?!\w)"
    ) -> re.Pattern | None:
        forms: set[str] = set()
        for value in values:
            forms.update((value, json.dumps(value)[1:-1]))
        if not forms:
            return None
        ordered = sorted(forms, key=len, reverse=True)
        body = "|".join(re.escape(v) for v in ordered)
        return re.compile(f"{before}(?:{body}){after}", re.IGNORECASE)

    def text(self, value: str, *, strict: bool = False) -> str:
        pattern = self.strict if strict else self.all
        return pattern.sub(ERASED, value) if pattern and value else value

    def json(self, value: Any, *, only: Sequence[str] = ()) -> Any:
        """Redact every string in the document (``only``: the values of those keys only)."""
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, dict):
            if only:
                return {k: (self.json(v) if k in only else v) for k, v in value.items()}
            return {self.text(k): self.json(v) for k, v in value.items()}
        if isinstance(value, list):
            return [self.json(v, only=only) for v in value]
        return value


def redact_rows(
    queryset: models.QuerySet,
    redactor: Redactor,
    text: Sequence[str] = (),
    documents: Sequence[str] = (),
    *,
    strict: bool = False,
    only: Sequence[str] = (),
) -> int:
    """Rewrite the columns of every row where redaction changes something (with ``update``, so
    append-only models' ``save`` guard is not involved)."""
    changed = 0
    for row in queryset.values("pk", *text, *documents).iterator(chunk_size=500):
        new = {name: redactor.text(row[name], strict=strict) for name in text}
        new.update({name: redactor.json(row[name], only=only) for name in documents})
        new = {name: value for name, value in new.items() if value != row[name]}
        if new:
            queryset.model.objects.filter(pk=row["pk"]).update(**new)
            changed += 1
    return changed
