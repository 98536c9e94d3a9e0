"""Undo a merge: play its change log backwards."""

from __future__ import annotations

from django.apps import apps as django_apps
from django.db import transaction
from django.utils import timezone

from parties.extensions import MergeContext, merge_participants, parties_changed_notify
from parties.models import EventKind, Party, PartyEvent, PartyStatus, SourceRecord
from parties.services import events, outbox
from parties.services.golden import party_golden_refresh
from parties.services.merge.common import MERGE_KINDS, AlreadyHandled, MergeRefused, parties_touch
from parties.services.merge.locks import parties_lock
from parties.services.merge.snapshot import parties_snapshot


def _later_events(event: PartyEvent) -> bool:
    """Whether anything merged into or split from the survivor after ``event`` still stands."""
    return (
        PartyEvent.objects.filter(
            pk__gt=event.pk,
            kind__in=[*MERGE_KINDS, EventKind.SPLIT],
            parties=event.party_id,
            reverted_by__isnull=True,
        )
        .exclude(kind=EventKind.UNMERGE)
        .exists()
    )


@transaction.atomic(durable=True)
def party_unmerge(
    *, event_id: int, actor=None, reason: str = "", different_customers: bool = True
) -> PartyEvent:
    """Undo a merge: every row goes back to the party it came from, the absorbed parties are
    active again with their own golden values, and the survivor is restored exactly as it
    was (recomputed instead when later merges or splits changed it since).

    ``different_customers``: the steward says the parties are different customers; the other
    apps record that (matching: "not a match", so they are not suggested together again until
    one side's data changes). False is "undo for now": nothing is recorded about the pairs,
    and the next match run may suggest them again.

    Durable: an unmerge is a decision of its own, committed before its caller goes on (every
    caller is a view, the API or a script; none runs it inside a transaction)."""
    event = PartyEvent.objects.get(pk=event_id)
    if event.kind not in MERGE_KINDS:
        raise MergeRefused(f"event #{event.pk} is a {event.get_kind_display().lower()}, not a merge")
    survivor, absorbed = event.changes["survivor"], event.changes["absorbed"]
    parties = parties_lock([survivor, *absorbed])
    undone = PartyEvent.objects.filter(reverts=event).select_related("actor").first()
    if undone:
        when = timezone.localtime(undone.created_at).strftime("%Y-%m-%d %H:%M")
        raise AlreadyHandled(f"merge #{event.pk} was already undone by {undone.actor_label} at {when}")
    if parties[survivor].status != PartyStatus.ACTIVE:
        later = parties[survivor]
        raise MergeRefused(
            f"party {survivor} was merged into party {later.merged_into_id} since; undo that merge first"
        )
    moved_on = [pid for pid in absorbed if parties[pid].merged_into_id != survivor]
    if moved_on:
        raise MergeRefused(f"party {moved_on[0]} is no longer merged into party {survivor}")
    before = parties_snapshot([survivor, *absorbed])
    changes = event.changes
    exact = (
        not _later_events(event)
        and not SourceRecord.objects.filter(party_id=survivor, updated_at__gt=event.created_at).exists()
    )
    for link in changes["links_added"]:
        django_apps.get_model(link["model"]).objects.filter(pk__in=link["pks"]).delete()
    for created in changes["created"]:
        django_apps.get_model(created["model"]).objects.filter(pk__in=created["pks"]).delete()
    for update in reversed(changes["updates"]):
        model = django_apps.get_model(update["model"])
        model.objects.filter(pk__in=update["pks"], **update["where"]).update(**update["old"])
    if exact:
        Party.objects.filter(pk=survivor).update(**changes["survivor_row"])
    else:
        party_golden_refresh(party_id=survivor)
    changed_since = SourceRecord.objects.filter(party_id__in=absorbed, updated_at__gt=event.created_at)
    for party_id in set(changed_since.values_list("party_id", flat=True)):
        party_golden_refresh(party_id=party_id)
    context = MergeContext(
        kind=EventKind.UNMERGE,
        survivor_id=survivor,
        other_ids=absorbed,
        actor=actor,
        suggestion_id=event.suggestion_id,
        keep_apart=different_customers,
    )
    for participant in merge_participants():
        if participant.on_unmerge:
            participant.on_unmerge(context, changes.get("apps", {}).get(participant.name))
    ids = [survivor, *absorbed]
    unmerge = events.unmerged_event(
        merge=event,
        survivor_id=survivor,
        party_ids=ids,
        actor=actor,
        reason=reason,
        before=before,
        changes={"exact": exact, "different_customers": different_customers},
    )
    outbox.party_unmerged_event(survivor_id=survivor, restored_ids=absorbed, actor=actor)
    parties_touch(ids)
    transaction.on_commit(lambda: parties_changed_notify(ids, reason="unmerge"))
    return unmerge
