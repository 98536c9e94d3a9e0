"""What the audit trail shows of parties before and after a change."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

from django.db import models

from parties.models import (
    ContactPointAddress,
    ContactPointEmail,
    ContactPointPhone,
    Engagement,
    Membership,
    Party,
    PartyIdentification,
    SourceRecord,
)
from parties.services.golden import GOLDEN_ATTRIBUTES
from parties.services.merge.common import plain


def parties_snapshot(party_ids: Iterable[int]) -> dict[str, dict]:
    """What the audit trail shows of each party: its golden values and what is attached."""
    ids = sorted(set(party_ids))
    snapshot: dict[str, dict] = {}
    for party in Party.objects.filter(pk__in=ids).order_by("pk"):
        snapshot[str(party.pk)] = {
            "display_name": party.display_name,
            "kind": party.kind,
            "status": party.status,
            "merged_into": party.merged_into_id,
            **{name: plain(getattr(party, name)) for name in GOLDEN_ATTRIBUTES},
            "source_records": [],
            "emails": [],
            "phones": [],
            "addresses": [],
            "identifiers": [],
        }
    for party_id, source, key in (
        SourceRecord.objects.filter(party_id__in=ids)
        .order_by("pk")
        .values_list("party_id", "source_system__name", "source_key")
    ):
        snapshot[str(party_id)]["source_records"].append(f"{source}:{key}")
    for name, model in (
        ("emails", ContactPointEmail),
        ("phones", ContactPointPhone),
        ("addresses", ContactPointAddress),
    ):
        for party_id, value in (
            model.objects.filter(party_id__in=ids).order_by("pk").values_list("party_id", "normalized")
        ):
            snapshot[str(party_id)][name].append(value)
    for party_id, kind, value in (
        PartyIdentification.objects.filter(party_id__in=ids)
        .order_by("pk")
        .values_list("party_id", "identifier_type", "normalized")
    ):
        snapshot[str(party_id)]["identifiers"].append(f"{kind}:{value}")
    counts: defaultdict[int, dict[str, int]] = defaultdict(dict)
    for counted, name in ((Engagement, "engagements"), (Membership, "memberships")):
        for party_id, count in (
            counted.objects.filter(party_id__in=ids)
            .values_list("party_id")
            .annotate(n=models.Count("pk"))
            .values_list("party_id", "n")
        ):
            counts[party_id][name] = count
    for key, item in snapshot.items():
        item["engagements"] = counts[int(key)].get("engagements", 0)
        item["memberships"] = counts[int(key)].get("memberships", 0)
    return snapshot
