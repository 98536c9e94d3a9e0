"""The customer's consents: everything opted out through the ledger (so the replay holds), then
the free text of their ledger entries, consent rows and preferences erased whole — not only the
values known to be theirs ("met at the fair, her poodle Fluffy" names nothing we hold). The
ledger is append-only; erasure is the one sanctioned exception: it redacts values in its text,
never the kind, time or actor of an entry."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.utils import timezone

from consents.models import (
    ConsentEvent,
    ConsentStatus,
    ContactPointConsent,
    ContactPointTypeConsent,
    PrivacyPreference,
)
from consents.services.erasure.base import CAPTURE_SOURCE, ERASED
from consents.services.ledger import Actor, consent_set, point_consent_set, preferences_set
from parties.models import PartyEvent


def _not_before(row):
    """Now, or the row's own capture time if a clock ahead put it in the next minutes: the
    erasure's opt-out must never count as older than the decision it replaces."""
    return max(timezone.now(), row.captured_at)


def consents_opt_out(ids: Sequence[int], actor: Actor) -> None:
    """Opt every active purpose out, on every channel and point, and set every "do not"."""
    active = {"party_id__in": ids, "purpose__is_active": True}
    for row in ContactPointTypeConsent.objects.filter(**active).select_related("purpose"):
        if row.status != ConsentStatus.OPT_OUT:
            consent_set(
                party_id=row.party_id,
                channel=row.channel,
                purpose=row.purpose.code,
                status=ConsentStatus.OPT_OUT,
                capture_source=CAPTURE_SOURCE,
                actor=actor,
                follow_merge=False,
                captured_at=_not_before(row),
            )
    for point in ContactPointConsent.objects.filter(**active).select_related("purpose"):
        if point.status != ConsentStatus.OPT_OUT:
            point_consent_set(
                party_id=point.party_id,
                point_kind=point.point_kind,
                point_id=point.point_id,
                purpose=point.purpose.code,
                status=ConsentStatus.OPT_OUT,
                capture_source=CAPTURE_SOURCE,
                actor=actor,
                follow_merge=False,
                captured_at=_not_before(point),
            )
    for party_id in ids:
        preferences_set(
            party_id=party_id,
            actor=actor,
            capture_source=CAPTURE_SOURCE,
            follow_merge=False,
            changes={
                "do_not_process": True,
                "do_not_profile": True,
                "do_not_track": True,
                "do_not_solicit": True,
                "preferred_channel": "",
                "preferred_language": "",
                "contact_frequency": "",
                "interests": [],
            },
        )


# The ledger's free text: where consent was captured, the evidence, the interests and language
# the customer gave. Enumerated values ("email", "opt_out") and times stay: they replay.
LEDGER_FREE_TEXT = ("capture_source", "preferred_language", "interests")


def _free_text_erased(value: Any) -> Any:
    if isinstance(value, list):
        return [ERASED] if value else value
    if isinstance(value, str):
        return value if value in ("", ERASED, CAPTURE_SOURCE) else ERASED
    return value


def _state_erased(state: Any) -> Any:
    if not isinstance(state, dict):
        return state
    return {k: (_free_text_erased(v) if k in LEDGER_FREE_TEXT else v) for k, v in state.items()}


def _snapshot_free_text_erased(document: Any) -> Any:
    """The consent states a merge keeps in the audit trail (to undo it), at any depth."""
    if isinstance(document, dict):
        return {
            k: (
                _free_text_erased(v)
                if k in (*LEDGER_FREE_TEXT, "evidence")
                else _snapshot_free_text_erased(v)
            )
            for k, v in document.items()
        }
    if isinstance(document, list):
        return [_snapshot_free_text_erased(v) for v in document]
    return document


def ledger_free_text_erase(ids: Sequence[int]) -> int:
    """Every free text of the customer's ledger entries and consent rows goes whole, and the
    consent states the audit trail keeps of them. The state rows and the ledger's last entries
    are redacted alike, so the replay still holds. Returns how many ledger entries changed."""
    changed = 0
    events = ConsentEvent.objects.filter(party_id__in=ids)
    for values in events.values("pk", "capture_source", "evidence", "previous", "new").iterator(
        chunk_size=500
    ):
        row: dict[str, Any] = dict(values)
        new = {
            "capture_source": _free_text_erased(row["capture_source"]),
            "evidence": ERASED if row["evidence"] else "",
            "previous": _state_erased(row["previous"]),
            "new": _state_erased(row["new"]),
        }
        new = {name: value for name, value in new.items() if value != row[name]}
        if new:
            changed += ConsentEvent.objects.filter(pk=row["pk"]).update(**new)
    for model in (ContactPointTypeConsent, ContactPointConsent):
        for pk, text in model.objects.filter(party_id__in=ids).values_list("pk", "capture_source"):
            if _free_text_erased(text) != text:
                model.objects.filter(pk=pk).update(capture_source=_free_text_erased(text))
    for pk, interests, language in PrivacyPreference.objects.filter(party_id__in=ids).values_list(
        "pk", "interests", "preferred_language"
    ):
        PrivacyPreference.objects.filter(pk=pk).update(
            interests=_free_text_erased(interests), preferred_language=_free_text_erased(language)
        )
    party_events = PartyEvent.objects.filter(pk__in=PartyEvent.objects.filter(parties__in=ids).values("pk"))
    for pk, changes in party_events.values_list("pk", "changes"):
        if (erased := _snapshot_free_text_erased(changes)) != changes:
            PartyEvent.objects.filter(pk=pk).update(changes=erased)
    return changed
