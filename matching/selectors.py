"""Reads for matching: parties flattened for dedupe, in bulk."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

from matching.fields import flat_record
from parties.models import (
    ContactPointAddress,
    ContactPointEmail,
    ContactPointPhone,
    Party,
    PartyIdentification,
)

GOLDEN = ["given_name", "family_name", "organization_name", "birth_date"]


def party_records(party_ids: Iterable[int]) -> dict[int, dict]:
    """``{party id: record}`` for active parties, in five queries whatever their number."""
    ids = list(party_ids)
    emails, phones, addresses, identifiers = (defaultdict(list) for _ in range(4))
    for party_id, value in ContactPointEmail.objects.filter(
            party_id__in=ids, is_active=True).values_list("party_id", "normalized"):
        emails[party_id].append(value)
    for party_id, value in ContactPointPhone.objects.filter(
            party_id__in=ids, is_active=True).values_list("party_id", "normalized"):
        phones[party_id].append(value)
    for row in ContactPointAddress.objects.filter(party_id__in=ids, is_active=True).order_by(
            "-is_primary", "id").values("party_id", "line1", "city", "postal_code", "country"):
        addresses[row.pop("party_id")].append(row)
    for party_id, kind, value in PartyIdentification.objects.filter(party_id__in=ids).values_list(
            "party_id", "identifier_type", "normalized"):
        identifiers[party_id].append(f"{kind}:{value}")
    return {
        row["id"]: flat_record(attributes=row, emails=emails[row["id"]], phones=phones[row["id"]],
                               address=(addresses[row["id"]] or [None])[0],
                               identifiers=identifiers[row["id"]])
        for row in Party.objects.active().filter(pk__in=ids).values("id", *GOLDEN)
    }


def suggestions_pending():
    """Pending suggestions, best first, with their members' parties in two more queries."""
    from django.db.models import Prefetch

    from matching.models import MatchSuggestion, MatchSuggestionMember, SuggestionStatus

    return (MatchSuggestion.objects.filter(status=SuggestionStatus.PENDING)
            .order_by("-score", "id")
            .prefetch_related(Prefetch("members", queryset=MatchSuggestionMember.objects
                                       .select_related("party").order_by("-score"))))
