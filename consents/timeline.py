"""The consent ledger on the party page's timeline (registered in ``ConsentsConfig.ready``):
every consent and preference change of the customer, in words, with who made it and where the
customer said so. An erased customer's entries say what changed and who changed it, nothing
more: no capture source, no preference value."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from django.db.models import QuerySet
from django.urls import reverse

from c360.kernel.labels import field_label
from consents.models import ConsentEvent, DataUsePurpose
from consents.selectors import ledger_change, ledger_what
from consents.services.ledger import PREFERENCE_FIELDS
from parties.extensions import TimelineEntry, TimelineQuery, TimelineSource

CONSENT = "consent"


def _events(query: TimelineQuery) -> QuerySet[ConsentEvent]:
    return ConsentEvent.objects.filter(party_id__in=query.party_ids)


def _counts(party_ids: Sequence[int]) -> Mapping[str, int]:
    return {CONSENT: ConsentEvent.objects.filter(party_id__in=party_ids).count()}


def _text(event: ConsentEvent, purposes: dict[str, str], erased: bool) -> str:
    what = ledger_what(event.key, purposes)
    if event.scope == ConsentEvent.Scope.PREFERENCE:
        if erased:  # the names of what changed, not the values (a language, interests)
            previous, new = event.previous or {}, event.new or {}
            order = {name: n for n, name in enumerate(PREFERENCE_FIELDS)}  # jsonb keeps its own
            # A first entry (no earlier row) names the preferences it set, not every default.
            unset: tuple[Any, ...] = (False, "", [], None)
            changed = [
                k for k in new if new.get(k) != previous.get(k) and (k in previous or new.get(k) not in unset)
            ]
            changed.sort(key=lambda k: order.get(k, len(order)))
            return "Preferences changed: " + (", ".join(field_label(k) for k in changed) or "—")
        return f"Preferences: {ledger_change(event)}"
    text = f"Consent: {what}: {ledger_change(event)}"
    if event.capture_source and not erased:
        text += f" (via {event.capture_source})"
    return text


def _entries(ids: Sequence[int], query: TimelineQuery) -> dict[int, TimelineEntry]:
    purposes = dict(DataUsePurpose.objects.values_list("code", "name"))
    return {
        event.pk: TimelineEntry(
            at=event.occurred_at,
            type=CONSENT,
            label="Preferences" if event.scope == ConsentEvent.Scope.PREFERENCE else "Consent",
            text=_text(event, purposes, query.erased),
            who=event.actor_label,
            url=reverse("consents:preferences", args=[event.party_id]),
            url_label="Ledger",
        )
        for event in ConsentEvent.objects.filter(pk__in=ids)
    }


LEDGER = TimelineSource(
    name="consent_ledger",
    filters=[(CONSENT, "Consents & preferences")],
    visible=lambda user: user.has_perm("consents.view_consentevent"),
    counts=_counts,
    rows=_events,
    time_field="occurred_at",
    entries=_entries,
)
