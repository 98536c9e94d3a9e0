"""Split source records off a party into a new party."""

from __future__ import annotations

from collections.abc import Sequence

from django.db import transaction

from parties.extensions import MergeContext, merge_participants, parties_changed_notify
from parties.models import (
    Engagement,
    EventKind,
    Membership,
    Party,
    PartyEvent,
    PartyIdentification,
    PartyRelationship,
    PartyStatus,
    SourceRecord,
)
from parties.services import events, outbox
from parties.services.golden import party_golden_refresh
from parties.services.merge.common import CONTACT_POINT_MODELS, MergeRefused, parties_touch
from parties.services.merge.locks import parties_lock
from parties.services.merge.snapshot import parties_snapshot


@transaction.atomic(durable=True)
def party_split(*, party_id: int, record_ids: Sequence[int], actor=None, reason: str = "") -> PartyEvent:
    """Move the chosen source records out of a party into a new party, with the contact
    points, identifiers, engagements, memberships and relationships they brought. A value
    other records of the party also reported is copied, not moved.

    Durable: a split is a decision of its own, committed before its caller goes on (the party
    page's split is its only caller; matching's split of a suggestion is a set of merges)."""
    party = parties_lock([party_id])[party_id]
    if party.status != PartyStatus.ACTIVE:
        raise MergeRefused(
            f"party {party_id} is merged into party {party.merged_into_id}; split the survivor instead"
        )
    moving = set(record_ids)
    own = set(SourceRecord.objects.filter(party_id=party_id).values_list("pk", flat=True))
    if not moving:
        raise MergeRefused("choose at least one source record to split off")
    if not moving <= own:
        raise MergeRefused(f"source record {sorted(moving - own)[0]} does not belong to party {party_id}")
    if moving == own:
        raise MergeRefused("a split must leave at least one source record with the party")
    before = parties_snapshot([party_id])
    first = SourceRecord.objects.filter(pk__in=moving).order_by("pk")[0]  # moving is not empty
    new = Party.objects.create(kind=first.standardized.get("kind") or party.kind)
    SourceRecord.objects.filter(pk__in=moving).update(party_id=new.pk)
    for model in CONTACT_POINT_MODELS:
        _split_contact_points(model, party_id, new.pk, moving)
    for attached in (PartyIdentification, Engagement, Membership):
        attached.objects.filter(party_id=party_id, source_record_id__in=moving).update(party_id=new.pk)
    PartyRelationship.objects.filter(from_party_id=party_id, source_record_id__in=moving).update(
        from_party_id=new.pk
    )
    PartyRelationship.objects.filter(to_party_id=party_id, source_record_id__in=moving).update(
        to_party_id=new.pk
    )
    party_golden_refresh(party_id=party_id)
    party_golden_refresh(party_id=new.pk)
    context = MergeContext(
        kind=EventKind.SPLIT,
        survivor_id=party_id,
        other_ids=[new.pk],
        actor=actor,
        moved_record_ids=sorted(moving),
    )
    for participant in merge_participants():
        if participant.on_split:
            participant.on_split(context)
    event = events.split_event(
        party_id=party_id,
        new_party_id=new.pk,
        actor=actor,
        reason=reason,
        before=before,
        changes={"new_party": new.pk, "moved_records": sorted(moving)},
    )
    outbox.party_split_event(party_id=party_id, new_party_ids=[new.pk], actor=actor)
    parties_touch([party_id, new.pk])
    transaction.on_commit(lambda: parties_changed_notify([party_id, new.pk], reason="split"))
    return event


def _split_contact_points(model, party_id: int, new_id: int, moving: set[int]) -> None:
    for point in model.objects.filter(party_id=party_id).prefetch_related("other_source_records"):
        reporters = {r.pk for r in point.other_source_records.all()} | (
            {point.source_record_id} if point.source_record_id else set()
        )
        leaving = reporters & moving
        if not leaving:
            continue
        if reporters <= moving:
            model.objects.filter(pk=point.pk).update(party_id=new_id)
            continue
        # Reported by records on both sides: the new party gets its own copy.
        copy = model.objects.get(pk=point.pk)
        copy.pk = copy.id = None
        copy.party_id, copy.source_record_id = new_id, min(leaving)
        copy.is_primary = not model.objects.filter(party_id=new_id, is_primary=True).exists()
        copy.save()
        copy.other_source_records.set(sorted(leaving - {copy.source_record_id}))
        point.other_source_records.remove(*leaving)
        if point.source_record_id in leaving:
            model.objects.filter(pk=point.pk).update(source_record_id=min(reporters - moving))
