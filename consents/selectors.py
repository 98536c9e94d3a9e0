"""Reads of the consents app: a party's consent grid, preferences and ledger."""

from __future__ import annotations

from dataclasses import dataclass

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


def consent_grid(*, party_id: int, events: int = 50) -> ConsentGrid:
    purposes = list(DataUsePurpose.objects.filter(is_active=True).order_by("pk"))
    held = {(r.channel, r.purpose_id): r for r in ContactPointTypeConsent.objects.filter(party_id=party_id)}
    channels = list(Channel.choices)
    rows = [(purpose, [Cell(code, label, purpose, held.get((code, purpose.pk))) for code, label in channels])
            for purpose in purposes]
    return ConsentGrid(
        channels=channels, rows=rows,
        preferences=PrivacyPreference.objects.filter(party_id=party_id).first(),
        events=list(ConsentEvent.objects.filter(party_id=party_id).select_related("actor")
                    .order_by("-id")[:events]))


def party_or_404(pk: int):
    """The party (merged or not), or a 404 that names the id."""
    from django.http import Http404

    from parties.models import Party

    party = Party.objects.filter(pk=pk).first()
    if party is None:
        raise Http404(f"There is no party {pk}.")
    return party
