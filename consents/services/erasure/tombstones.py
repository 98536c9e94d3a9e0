"""What is left of an erased customer: keyed hashes (HMAC-SHA256) of their email addresses,
phone numbers, source keys, identifiers and name with birth date, and the guard that recognises
them when an import or an edit brings the same person back."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Sequence

from django.conf import settings

from consents.models import ActorKind, ErasureTombstone, TombstoneKind
from consents.services.erasure.base import CAPTURE_SOURCE
from consents.services.ledger import Actor, preferences_set
from parties.models import ContactPointEmail, ContactPointPhone, Party, PartyIdentification, SourceRecord

GUARD_LABEL = "erasure tombstone"


def tombstone_digest(kind: str, value: str) -> str:
    key = str(settings.C360_TOMBSTONE_KEY or settings.SECRET_KEY).encode()
    return hmac.new(key, f"{kind}:{value.strip().lower()}".encode(), hashlib.sha256).hexdigest()


def _person_key(party: Party) -> str:
    if not (party.family_name and party.birth_date):
        return ""
    return f"{party.family_name}|{party.given_name}|{party.birth_date.isoformat()}"


def party_digests(party_ids: Sequence[int]) -> dict[int, set[tuple[str, str]]]:
    """Per party: the (kind, digest) pairs of what identifies it."""
    found: dict[int, set[tuple[str, str]]] = {pk: set() for pk in party_ids}

    def add(party_id: int, kind: str, value: str) -> None:
        if value:
            found[party_id].add((kind, tombstone_digest(kind, value)))

    for party in Party.objects.filter(pk__in=party_ids).only("family_name", "given_name", "birth_date"):
        add(party.pk, TombstoneKind.PERSON, _person_key(party))
    for party_id, value in ContactPointEmail.objects.filter(party_id__in=party_ids).values_list(
        "party_id", "normalized"
    ):
        add(party_id, TombstoneKind.EMAIL, value)
    for party_id, value in ContactPointPhone.objects.filter(party_id__in=party_ids).values_list(
        "party_id", "normalized"
    ):
        add(party_id, TombstoneKind.PHONE, value)
    for party_id, source, key in SourceRecord.objects.filter(party_id__in=party_ids).values_list(
        "party_id", "source_system_id", "source_key"
    ):
        add(party_id, TombstoneKind.SOURCE_KEY, f"{source}:{key}")
    for party_id, kind, value in PartyIdentification.objects.filter(party_id__in=party_ids).values_list(
        "party_id", "identifier_type", "normalized"
    ):
        add(party_id, TombstoneKind.IDENTIFIER, f"{kind}:{value}")
    return found


def tombstones_record(digests: set[tuple[str, str]], *, event_id: int, erased_at) -> None:
    ErasureTombstone.objects.bulk_create(
        ErasureTombstone(kind=kind, digest=digest, erasure_event_id=event_id, erased_at=erased_at)
        for kind, digest in sorted(digests)
    )


def tombstone_erased_on(*, channel: str, value: str, region: str = "US"):
    """When an erased customer had this email address or phone number: the erasure's time
    (the value itself is not kept, its hash is compared), else None."""
    from parties.services import standardize as std

    if channel == "email":
        kind, normalized = TombstoneKind.EMAIL, std.email_normalize(value).value
    elif channel in ("sms", "phone"):
        kind, normalized = TombstoneKind.PHONE, std.phone_normalize(value, region).normalized
    else:
        return None
    if not normalized:
        return None
    found = ErasureTombstone.objects.filter(kind=kind, digest=tombstone_digest(kind, normalized)).first()
    return found.erased_at if found else None


def tombstones_guard(party_ids: Sequence[int], reason: str = "") -> list[int]:
    """Mark parties that match an erasure tombstone "do not process" and "do not solicit"
    (through the ledger); returns their ids. Registered for every parties-changed notice."""
    if not ErasureTombstone.objects.exists():  # no erasure yet: nothing to guard (one cheap read)
        return []
    candidates = list(
        Party.objects.filter(pk__in=party_ids, erased_at__isnull=True, merged_into__isnull=True).values_list(
            "pk", flat=True
        )
    )
    if not candidates:
        return []
    per_party = party_digests(candidates)
    wanted = {digest for pairs in per_party.values() for _, digest in pairs}
    known = {}
    for digest, kind, erased_at in ErasureTombstone.objects.filter(digest__in=wanted).values_list(
        "digest", "kind", "erased_at"
    ):
        known[digest] = (kind, erased_at)
    flagged = []
    for party_id, pairs in per_party.items():
        hits = sorted({known[d][0] for _, d in pairs if d in known})
        if not hits:
            continue
        when = min(known[d][1] for _, d in pairs if d in known)
        what = ", ".join(TombstoneKind(k).label.lower() for k in hits)
        preferences_set(
            party_id=party_id,
            actor=Actor(kind=ActorKind.SYSTEM, label=GUARD_LABEL),
            capture_source=CAPTURE_SOURCE,
            changes={"do_not_process": True, "do_not_solicit": True},
            evidence=f"matches a customer erased on {when:%Y-%m-%d} ({what})",
        )
        flagged.append(party_id)
    return flagged


def tombstones_guard_hook(party_ids: Sequence[int], reason: str) -> None:
    if reason in ("import", "contact point edited", "split", "unmerge"):
        tombstones_guard(party_ids, reason)
