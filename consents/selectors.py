"""Reads of the consents app: a party's consent grid, preferences and ledger; a page of a
segment's members."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from c360.kernel.labels import field_label, value_label
from consents.models import (
    Channel,
    ConsentEvent,
    ConsentStatus,
    ContactPointTypeConsent,
    DataUsePurpose,
    PrivacyPreference,
)


@dataclass
class Cell:
    channel: str
    channel_label: str
    purpose: DataUsePurpose
    row: ContactPointTypeConsent | None

    @property
    def status(self) -> str:
        return self.row.status if self.row else ConsentStatus.NOT_SEEN

    @property
    def status_label(self) -> str:
        return ConsentStatus(self.status).label


@dataclass
class ConsentGrid:
    channels: list[tuple[str, str]]
    rows: list[tuple[DataUsePurpose, list[Cell]]]
    preferences: PrivacyPreference | None
    events: list[ConsentEvent]


def ledger_what(key: str, purpose_names: dict[str, str]) -> str:
    """A ledger entry's key in words: ``email/newsletter`` → "Email · Newsletter",
    ``email#12/marketing`` → "Email (contact point 12) · Marketing", ``preferences`` →
    "Privacy preferences"."""
    if key == "preferences":
        return "Privacy preferences"
    channel_part, _, purpose = key.partition("/")
    if not purpose:
        return field_label(key)
    channel, _, point = channel_part.partition("#")
    channel_text = dict(Channel.choices).get(channel, field_label(channel))
    if point:
        channel_text = f"{channel_text} (contact point {point})"
    return f"{channel_text} · {purpose_names.get(purpose) or field_label(purpose)}"


def _yes_no(value: object) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list):
        return ", ".join(value_label(v) for v in value) or "none"
    return value_label(value) if value not in (None, "") else "none"


def ledger_change(event: ConsentEvent) -> str:
    """What an entry changed, in words: "Not seen → Opt-in", "Opt-in → removed", or the
    preferences that changed ("Do not solicit: yes")."""
    previous, new = event.previous or {}, event.new or {}
    if "status" in previous or "status" in new:
        before = value_label(previous.get("status") or ConsentStatus.NOT_SEEN)
        return f"{before} → {value_label(new['status']) if new.get('status') else 'removed'}"
    changed = [k for k in new if new.get(k) != previous.get(k)] or list(new)
    return "; ".join(f"{field_label(k)}: {_yes_no(new.get(k))}" for k in changed) or "—"


def consent_grid(*, party_id: int, events: int = 50) -> ConsentGrid:
    purposes = list(DataUsePurpose.objects.filter(is_active=True).order_by("pk"))
    held = {(r.channel, r.purpose_id): r for r in ContactPointTypeConsent.objects.filter(party_id=party_id)}
    channels = list(Channel.choices)
    rows = [
        (purpose, [Cell(code, label, purpose, held.get((code, purpose.pk))) for code, label in channels])
        for purpose in purposes
    ]
    return ConsentGrid(
        channels=channels,
        rows=rows,
        preferences=PrivacyPreference.objects.filter(party_id=party_id).first(),
        events=_worded(
            list(
                ConsentEvent.objects.filter(party_id=party_id)
                .select_related("actor")
                .order_by("-id")[:events]
            )
        ),
    )


def _worded(events: list[ConsentEvent]) -> list[ConsentEvent]:
    """The ledger's entries with ``what`` and ``change`` in words for the page."""
    names = dict(DataUsePurpose.objects.values_list("code", "name"))
    for event in events:
        event.what, event.change = ledger_what(event.key, names), ledger_change(event)
    return events


def party_or_404(pk: int):
    """The party (merged or not), or a 404 that names the id."""
    from django.http import Http404

    from parties.models import Party

    party = Party.objects.filter(pk=pk).first()
    if party is None:
        raise Http404(f"There is no party {pk}.")
    return party


@dataclass
class MemberRow:
    party: object
    email: str = ""
    email_invalid: bool = False
    country: str = ""
    ltv: Decimal = Decimal(0)
    orders: int = 0
    last_engagement: datetime | None = None


def segment_member_rows(parties: list) -> list[MemberRow]:
    """A page of a segment's members with what the member list shows: primary email, country,
    lifetime value, orders and last engagement — four queries for the page, whatever its size."""
    from django.db.models import Max

    from consents.services.segments import party_totals
    from parties.models import ContactPointAddress, ContactPointEmail, Engagement

    rows = {p.pk: MemberRow(party=p) for p in parties}
    ids = list(rows)
    # the primary (else the first) active email and address; ordering puts primary first
    for email in ContactPointEmail.objects.filter(party_id__in=ids, is_active=True).order_by(
        "party_id", "-is_primary", "pk"
    ):
        if not rows[email.party_id].email:
            rows[email.party_id].email, rows[email.party_id].email_invalid = (
                email.normalized,
                email.validity == "invalid",
            )
    for address in (
        ContactPointAddress.objects.filter(party_id__in=ids, is_active=True)
        .exclude(country="")
        .order_by("party_id", "-is_primary", "pk")
        .only("party_id", "country")
    ):
        rows[address.party_id].country = rows[address.party_id].country or address.country
    for total in party_totals().filter(party_id__in=ids):
        rows[total["party_id"]].ltv, rows[total["party_id"]].orders = total["ltv"], total["orders"]
    last = Engagement.objects.filter(party_id__in=ids).order_by().values("party_id")
    for row in last.annotate(at=Max("occurred_at")):
        rows[row["party_id"]].last_engagement = row["at"]
    return [rows[p.pk] for p in parties]
