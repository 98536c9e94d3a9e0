"""Staff edits of contact points: add, correct, mark verified, deactivate. Never a hard
delete. Values go through the same standardization as imports; invalid ones are refused with
the reason. Every edit is in the party's audit trail and makes the party re-matched."""

from __future__ import annotations

from typing import Any

import phonenumbers
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from parties.extensions import parties_changed_notify
from parties.models import (
    ContactPointAddress,
    ContactPointEmail,
    ContactPointPhone,
    ContactUsage,
    Party,
    PartyStatus,
    Validity,
)
from parties.services import events, outbox
from parties.services import standardize as std
from parties.services.merge import MergeRefused, parties_lock, parties_snapshot

MODELS = {"email": ContactPointEmail, "phone": ContactPointPhone}


def _model(kind: str):
    if kind not in MODELS:
        raise ValidationError({"kind": f"{kind!r} is not one of {', '.join(MODELS)}"})
    return MODELS[kind]


def _address_country(party_id: int) -> str:
    """The country of the party's primary active address (else its first with a country)."""
    return (
        ContactPointAddress.objects.filter(party_id=party_id, is_active=True)
        .exclude(country="")
        .order_by("-is_primary", "pk")
        .values_list("country", flat=True)
        .first()
        or ""
    )


def _values(kind: str, value: str, region: str, party_id: int) -> dict[str, Any]:
    """The stored fields of a new or corrected value, or ValidationError naming the field.
    A phone without its own +country is read in the region the editor gave, else in the
    party's address country, else in the US (``standardize.phone_normalize``'s rule)."""
    if kind == "email":
        cleaned = std.email_normalize(value)
        if not cleaned.value:
            raise ValidationError({"value": "enter an email address"})
        if cleaned.problem:
            raise ValidationError({"value": cleaned.problem})
        return {"raw_value": std.collapse(value)[:320], "normalized": cleaned.value[:320]}
    if region.strip():  # the editor's explicit choice for this number
        if region.strip().upper() not in phonenumbers.SUPPORTED_REGIONS:
            raise ValidationError(
                {
                    "region": f"{region.strip()!r} is not a country code phone numbers "
                    "know (ISO 3166 alpha-2, like DE or GB)"
                }
            )
        phone = std.phone_normalize(value, region)
    else:
        phone = std.phone_normalize(value, "US", address_country=_address_country(party_id))
    if not phone.normalized:
        raise ValidationError({"value": "enter a phone number"})
    if phone.problem:
        raise ValidationError({"value": phone.problem})
    return {
        "raw_value": std.collapse(value)[:64],
        "normalized": phone.normalized,
        "country": phone.country,
        "phone_type": phone.phone_type,
        "extension": phone.extension[:16],
    }


def _audit(party_id: int, actor, before: dict, reason: str) -> None:
    events.contact_point_event(party_id=party_id, actor=actor, reason=reason, before=before)
    Party.objects.filter(pk=party_id).update(updated_at=timezone.now())  # API clients sync by it
    transaction.on_commit(lambda: parties_changed_notify([party_id], reason="contact point edited"))


def _active_party(party_id: int):
    try:
        party = parties_lock([party_id])[party_id]
    except MergeRefused as exc:  # no such party, or erased
        raise ValidationError(str(exc)) from None
    if party.status != PartyStatus.ACTIVE:
        raise ValidationError(
            f"party {party_id} is merged into party {party.merged_into_id}; edit the survivor"
        )
    return party


@transaction.atomic
def contact_point_add(
    *, party_id: int, kind: str, value: str, usage: str = ContactUsage.HOME, region: str = "", actor=None
):
    model = _model(kind)
    _active_party(party_id)
    if usage not in ContactUsage.values:
        raise ValidationError({"usage": f"{usage!r} is not one of {', '.join(ContactUsage.values)}"})
    fields = _values(kind, value, region, party_id)
    if model.objects.filter(party_id=party_id, normalized=fields["normalized"]).exists():
        raise ValidationError({"value": f"the party already has {fields['normalized']}"})
    before = parties_snapshot([party_id])
    now = timezone.now()
    point = model.objects.create(
        party_id=party_id,
        usage=usage,
        validity=Validity.VALID,
        first_seen_at=now,
        last_seen_at=now,
        is_primary=not model.objects.filter(party_id=party_id, is_active=True, is_primary=True).exists(),
        **fields,
    )
    _audit(party_id, actor, before, f"{kind} added: {point.normalized}")
    outbox.contact_point_changed_event(
        change="added", party_id=party_id, kind=kind, point_id=point.pk, actor=actor
    )
    return point


@transaction.atomic
def contact_point_correct(*, kind: str, point_id: int, value: str, region: str = "", actor=None):
    """Replace a wrong value (a typo); the point keeps its provenance and history."""
    model = _model(kind)
    point = model.objects.get(pk=point_id)
    _active_party(point.party_id)
    fields = _values(kind, value, region, point.party_id)
    same = model.objects.filter(party_id=point.party_id, normalized=fields["normalized"])
    if same.exclude(pk=point.pk).exists():
        raise ValidationError({"value": f"the party already has {fields['normalized']}; deactivate this one"})
    before = parties_snapshot([point.party_id])
    old = point.normalized
    model.objects.filter(pk=point.pk).update(
        validity=Validity.VALID, validity_reason="", verified_at=None, updated_at=timezone.now(), **fields
    )
    _audit(point.party_id, actor, before, f"{kind} corrected: {old} → {fields['normalized']}")
    outbox.contact_point_changed_event(
        change="corrected", party_id=point.party_id, kind=kind, point_id=point.pk, actor=actor
    )
    return model.objects.get(pk=point.pk)


@transaction.atomic
def contact_point_verify(*, kind: str, point_id: int, actor=None):
    model = _model(kind)
    point = model.objects.get(pk=point_id)
    _active_party(point.party_id)
    before = parties_snapshot([point.party_id])
    model.objects.filter(pk=point.pk).update(
        validity=Validity.VERIFIED, verified_at=timezone.now(), updated_at=timezone.now()
    )
    _audit(point.party_id, actor, before, f"{kind} verified: {point.normalized}")
    outbox.contact_point_changed_event(
        change="verified", party_id=point.party_id, kind=kind, point_id=point.pk, actor=actor
    )
    return model.objects.get(pk=point.pk)


@transaction.atomic
def contact_point_deactivate(*, kind: str, point_id: int, actor=None, reason: str = ""):
    """Stop using a contact point; it stays, with its history and provenance."""
    model = _model(kind)
    point = model.objects.get(pk=point_id)
    _active_party(point.party_id)
    before = parties_snapshot([point.party_id])
    model.objects.filter(pk=point.pk).update(is_active=False, is_primary=False, updated_at=timezone.now())
    if point.is_primary:  # another active point becomes primary
        other = model.objects.filter(party_id=point.party_id, is_active=True).order_by("pk").first()
        if other:
            model.objects.filter(pk=other.pk).update(is_primary=True)
    why = f" ({reason.strip()})" if reason.strip() else ""
    _audit(point.party_id, actor, before, f"{kind} deactivated: {point.normalized}{why}")
    outbox.contact_point_changed_event(
        change="deactivated", party_id=point.party_id, kind=kind, point_id=point.pk, actor=actor
    )
    return model.objects.get(pk=point.pk)
