"""Lossless merge, unmerge and split of parties.

A merge moves every row of the absorbed parties to the survivor — source records, contact
points (a value the survivor already has gains the absorbed row's provenance instead; the
absorbed row stays where it was), identifiers, engagements, memberships, relationships and
steward overrides — and lets other apps move theirs (``extensions.merge_participant_register``).
The absorbed parties keep their ids, with status merged and ``merged_into`` the survivor.
Nothing is deleted. The merge is a ``PartyEvent`` holding a snapshot before and after and the
exact list of what changed (``changes``), which ``party_unmerge`` plays backwards.

Concurrency: every service locks the party rows it touches in primary-key order before
reading them, so two merges of overlapping parties run one after the other and the second
finds the first one's result ("already merged into …") instead of merging twice. The lock
order of the whole application is written down once, in ``parties_lock``.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime
from typing import Any

from django.apps import apps as django_apps
from django.db import connection, models, transaction
from django.db.models import Q
from django.utils import timezone

from parties.extensions import MergeContext, merge_participants, parties_changed_notify
from parties.models import (
    ContactPointAddress,
    ContactPointEmail,
    ContactPointPhone,
    ContactPointSocial,
    Engagement,
    EventKind,
    GoldenOverride,
    Membership,
    Party,
    PartyEvent,
    PartyIdentification,
    PartyKind,
    PartyRelationship,
    PartyStatus,
    SourceRecord,
)
from parties.services.golden import GOLDEN_ATTRIBUTES, golden_explain, party_golden_refresh

CONTACT_POINT_MODELS = (ContactPointEmail, ContactPointPhone, ContactPointAddress, ContactPointSocial)
MOVED_WITH_PARTY = (SourceRecord, Engagement, Membership)
MERGE_KINDS = (EventKind.MERGE, EventKind.AUTO_MERGE)


class MergeRefused(ValueError):
    """The merge, unmerge or split cannot be done as asked; nothing was changed."""


class AlreadyHandled(MergeRefused):
    """Someone else merged (or unmerged) these parties first."""


# --- snapshots -----------------------------------------------------------------------------


def _plain(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


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
            **{name: _plain(getattr(party, name)) for name in GOLDEN_ATTRIBUTES},
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
    counts = defaultdict(dict)
    for model, name in ((Engagement, "engagements"), (Membership, "memberships")):
        for party_id, count in (
            model.objects.filter(party_id__in=ids)
            .values_list("party_id")
            .annotate(n=models.Count("pk"))
            .values_list("party_id", "n")
        ):
            counts[party_id][name] = count
    for party_id, item in snapshot.items():
        item["engagements"] = counts[int(party_id)].get("engagements", 0)
        item["memberships"] = counts[int(party_id)].get("memberships", 0)
    return snapshot


# --- the change log an unmerge plays backwards ---------------------------------------------


class _Changes:
    """Rows changed by a merge: ``{"model", "pks", "old": {field: value}, "where": {...}}``
    (undo: set ``old`` on the rows still matching ``where``), link rows added (undo: delete),
    rows created (undo: delete)."""

    def __init__(self) -> None:
        self.updates: list[dict] = []
        self.links_added: list[dict] = []
        self.created: list[dict] = []

    def update(
        self,
        model: type[models.Model],
        pks: Sequence[int],
        *,
        old: Mapping[str, Any],
        new: Mapping[str, Any],
        where: Mapping[str, Any] | None = None,
    ) -> None:
        if not pks:
            return
        model.objects.filter(pk__in=list(pks)).update(**new)
        self.updates.append(
            {
                "model": model._meta.label_lower,
                "pks": list(pks),
                "old": {k: _plain(v) for k, v in old.items()},
                "where": dict(where or {}),
            }
        )

    def as_json(self) -> dict:
        return {"updates": self.updates, "links_added": self.links_added, "created": self.created}


def _old_values(model: type[models.Model], pk: int, fields: Iterable[str]) -> dict[str, Any]:
    return model.objects.filter(pk=pk).values(*fields).get()


def _touch(party_ids) -> None:
    """Mark the parties changed now, for API clients that sync by ``updated_since`` (an unmerge
    restores every value, but the parties did change again)."""
    Party.objects.filter(pk__in=list(party_ids)).update(updated_at=timezone.now())


# --- locking -------------------------------------------------------------------------------


def parties_lock(party_ids: Iterable[int]) -> dict[int, Party]:
    """Lock the parties in primary-key order and return them by id. Erased parties are
    refused: nothing may change them again.

    THE LOCK ORDER (the one place it is written down; every service that locks follows it):

    1. Parties first, all of them at once, in primary-key order, through this function:
       merges, unmerges, splits, overrides, contact-point edits, consent changes
       (``consent_set``), a steward's merge, "not a match" and re-scoring of a suggestion.
       A service that learns of more parties later does not lock them later: it refuses
       ("changed by someone else meanwhile") and the caller starts again.
    2. Then the rows that hang off those parties: the suggestion and its members (the
       suggestion itself is locked after its parties, never before), the other suggestions a
       merge closes, consent and ledger rows, training labels and pair decisions.
    3. Job control rows (``ImportJob``, ``MatchRun``, ``MatchRunChunk``, ``MatcherModel``,
       ``SourceSystem``) are only ever claimed with one conditional UPDATE or locked in a short
       transaction of their own; an import batch updates its job's row last, after its rows.

    Parties are locked FOR NO KEY UPDATE on PostgreSQL. Django's foreign keys are checked at
    commit (deferred), and each check takes a KEY SHARE lock on the party a new row points
    at. Bulk writers that cannot lock every party they point at (a match run saving its
    suggestions, an import writing records) hold suggestion or job rows when they commit; with
    FOR UPDATE here, a merge holding a party and waiting for such a row would deadlock with
    them. NO KEY UPDATE still makes every locker of a party wait for the others.

    What the loser of a race sees: it waits, then finds the winner's result, and is refused
    with a message naming who handled it ("already merged into … by … at …", "already
    handled (rejected) by …"), never a deadlock or a 500."""
    ids = sorted(set(party_ids))
    locking = Party.objects.select_for_update(no_key=connection.features.has_select_for_no_key_update)
    parties = {p.pk: p for p in locking.filter(pk__in=ids).order_by("pk")}
    missing = [pid for pid in ids if pid not in parties]
    if missing:
        raise MergeRefused(f"there is no party {', '.join(map(str, missing))}")
    erased = [pid for pid in ids if parties[pid].erased_at]
    if erased:
        raise MergeRefused(
            f"party {erased[0]} was erased on request (right to be forgotten) and can no longer be changed"
        )
    return parties


def merged_by(party: Party) -> str:
    event = (
        PartyEvent.objects.filter(
            kind__in=MERGE_KINDS, parties=party, party_id=party.merged_into_id, reverted_by__isnull=True
        )
        .order_by("-pk")
        .first()
    )
    if event is None:
        return f"party {party.pk} was already merged into party {party.merged_into_id}"
    when = timezone.localtime(event.created_at).strftime("%Y-%m-%d %H:%M")
    return (
        f"party {party.pk} was already merged into party {party.merged_into_id} "
        f"by {event.actor_label} at {when}"
    )


def survivor_default(party_ids: Sequence[int]) -> int:
    """The party with the most source records, then the oldest."""
    counts = dict(
        SourceRecord.objects.filter(party_id__in=party_ids)
        .values_list("party_id")
        .annotate(n=models.Count("pk"))
        .values_list("party_id", "n")
    )
    return min(party_ids, key=lambda pid: (-counts.get(pid, 0), pid))


# --- merge ---------------------------------------------------------------------------------


def _move_contact_points(changes: _Changes, survivor: int, absorbed: int) -> None:
    for model in CONTACT_POINT_MODELS:
        key = ("network", "normalized") if model is ContactPointSocial else ("normalized",)
        kept = {
            tuple(row[1:]): row[0] for row in model.objects.filter(party_id=survivor).values_list("pk", *key)
        }
        has_primary = model.objects.filter(party_id=survivor, is_primary=True).exists()
        through = model.other_source_records.through
        fk = model._meta.model_name + "_id"
        for point in model.objects.filter(party_id=absorbed).prefetch_related("other_source_records"):
            same = kept.get(tuple(getattr(point, k) for k in key))
            if same is None:
                primary = point.is_primary and not has_primary
                has_primary = has_primary or primary
                changes.update(
                    model,
                    [point.pk],
                    old={"party_id": absorbed, "is_primary": point.is_primary},
                    new={"party_id": survivor, "is_primary": primary},
                    where={"party_id": survivor},
                )
                continue
            # The survivor has the value: it gains this row's provenance; the row stays put.
            target = model.objects.get(pk=same)
            reporters = {r.pk for r in point.other_source_records.all()} | (
                {point.source_record_id} if point.source_record_id else set()
            )
            known = set(target.other_source_records.values_list("pk", flat=True)) | (
                {target.source_record_id} if target.source_record_id else set()
            )
            added = [
                through.objects.create(**{fk: target.pk, "sourcerecord_id": rid}).pk
                for rid in sorted(reporters - known)
            ]
            if added:
                changes.links_added.append({"model": through._meta.label_lower, "pks": added})
            first = min(filter(None, [target.first_seen_at, point.first_seen_at]), default=None)
            last = max(filter(None, [target.last_seen_at, point.last_seen_at]), default=None)
            if (first, last) != (target.first_seen_at, target.last_seen_at):
                changes.update(
                    model,
                    [target.pk],
                    old={"first_seen_at": target.first_seen_at, "last_seen_at": target.last_seen_at},
                    new={"first_seen_at": first, "last_seen_at": last},
                )


def _move_identifiers(changes: _Changes, survivor: int, absorbed: int) -> None:
    key = ("identifier_type", "issuer", "normalized")
    kept = set(PartyIdentification.objects.filter(party_id=survivor).values_list(*key))
    movable = [
        pk
        for pk, *k in PartyIdentification.objects.filter(party_id=absorbed).values_list("pk", *key)
        if tuple(k) not in kept
    ]
    changes.update(
        PartyIdentification,
        movable,
        old={"party_id": absorbed},
        new={"party_id": survivor},
        where={"party_id": survivor},
    )


def _move_relationships(changes: _Changes, survivor: int, absorbed: int, merging: set[int]) -> None:
    existing = set(
        PartyRelationship.objects.filter(Q(from_party_id=survivor) | Q(to_party_id=survivor)).values_list(
            "from_party_id", "to_party_id", "kind"
        )
    )
    for rel in PartyRelationship.objects.filter(Q(from_party_id=absorbed) | Q(to_party_id=absorbed)):
        new_from = survivor if rel.from_party_id in merging else rel.from_party_id
        new_to = survivor if rel.to_party_id in merging else rel.to_party_id
        if new_from == new_to or (new_from, new_to, rel.kind) in existing:
            continue  # a relationship between the merged parties, or one the survivor has: kept as is
        existing.add((new_from, new_to, rel.kind))
        changes.update(
            PartyRelationship,
            [rel.pk],
            old={"from_party_id": rel.from_party_id, "to_party_id": rel.to_party_id},
            new={"from_party_id": new_from, "to_party_id": new_to},
        )


def _overrides_apply(
    changes: _Changes, survivor: int, absorbed: Sequence[int], chosen: Mapping[str, Any], actor, reason: str
) -> None:
    """Absorbed parties' overrides move where the survivor has none; the steward's chosen
    values become overrides where the rules would pick something else."""
    taken = set(GoldenOverride.objects.filter(party_id=survivor).values_list("attribute", flat=True))
    for override in GoldenOverride.objects.filter(party_id__in=absorbed).order_by("-created_at", "pk"):
        if override.attribute not in taken:
            taken.add(override.attribute)
            changes.update(
                GoldenOverride,
                [override.pk],
                old={"party_id": override.party_id},
                new={"party_id": survivor},
                where={"party_id": survivor},
            )
    if not chosen:
        return
    from django.core.exceptions import ValidationError

    from parties.services.overrides import override_value_clean

    golden = golden_explain(party_id=survivor)
    for attribute, value in chosen.items():
        try:
            text = override_value_clean(attribute, "" if value is None else str(value))
        except ValidationError as exc:
            raise MergeRefused(f"{attribute.replace('_', ' ')}: {' '.join(exc.messages)}") from None
        current = golden[attribute]
        if str(_plain(current.value) or "") == text:
            continue
        existing = GoldenOverride.objects.filter(party_id=survivor, attribute=attribute).first()
        if existing:
            changes.update(
                GoldenOverride,
                [existing.pk],
                old={
                    "value": existing.value,
                    "reason": existing.reason,
                    "created_by_id": existing.created_by_id,
                },
                new={
                    "value": text[:300],
                    "reason": reason[:300],
                    "created_by_id": getattr(actor, "pk", None),
                },
            )
        else:
            override = GoldenOverride.objects.create(
                party_id=survivor,
                attribute=attribute,
                value=text[:300],
                reason=reason[:300],
                created_by=actor,
            )
            changes.created.append({"model": "parties.goldenoverride", "pks": [override.pk]})


PARTY_ROW_FIELDS = [f.attname for f in Party._meta.concrete_fields if f.attname != "id"]


@transaction.atomic
def party_merge(
    *,
    party_ids: Sequence[int],
    survivor_id: int | None = None,
    actor=None,
    actor_label: str = "",
    kind: str = EventKind.MERGE,
    suggestion_id: int | None = None,
    score: float | None = None,
    chosen_values: Mapping[str, Any] | None = None,
    reason: str = "",
) -> PartyEvent:
    """Merge ``party_ids`` into ``survivor_id`` (default: ``survivor_default``), losslessly,
    and record it. Raises ``AlreadyHandled`` if one of them was merged meanwhile and
    ``MergeRefused`` for any other reason not to; then nothing changed."""
    ids = sorted(set(party_ids))
    if len(ids) < 2:
        raise MergeRefused("a merge needs at least two parties")
    parties = parties_lock(ids)
    gone = [p for p in parties.values() if p.status != PartyStatus.ACTIVE]
    if gone:
        raise AlreadyHandled("; ".join(merged_by(p) for p in gone))
    survivor = survivor_id if survivor_id is not None else survivor_default(ids)
    if survivor not in parties:
        raise MergeRefused(f"the survivor {survivor} is not one of the parties merged")
    if len({p.kind for p in parties.values()}) > 1 and not any(
        p.kind == PartyKind.INDIVIDUAL for p in parties.values()
    ):
        raise MergeRefused("these parties are of different kinds")
    absorbed = [pid for pid in ids if pid != survivor]
    before = parties_snapshot(ids)
    first_records: dict[int, int] = {}
    for record_id, party_id in (
        SourceRecord.objects.filter(party_id__in=ids).order_by("pk").values_list("pk", "party_id")
    ):
        first_records.setdefault(party_id, record_id)
    changes = _Changes()
    survivor_row = Party.objects.filter(pk=survivor).values(*PARTY_ROW_FIELDS).get()
    merging, now = set(ids), timezone.now()
    for other in absorbed:
        for model in MOVED_WITH_PARTY:
            changes.update(
                model,
                list(model.objects.filter(party_id=other).values_list("pk", flat=True)),
                old={"party_id": other},
                new={"party_id": survivor},
                where={"party_id": survivor},
            )
        _move_contact_points(changes, survivor, other)
        _move_identifiers(changes, survivor, other)
        _move_relationships(changes, survivor, other, merging)
    _overrides_apply(changes, survivor, absorbed, chosen_values or {}, actor, reason)
    changes.update(
        Party,
        absorbed,
        old={"status": PartyStatus.ACTIVE, "merged_into_id": None, "merged_at": None},
        new={"status": PartyStatus.MERGED, "merged_into_id": survivor, "merged_at": now},
        where={"status": PartyStatus.MERGED, "merged_into_id": survivor},
    )
    party_golden_refresh(party_id=survivor)
    context = MergeContext(
        kind=kind,
        survivor_id=survivor,
        other_ids=absorbed,
        actor=actor,
        suggestion_id=suggestion_id,
        first_records=first_records,
    )
    app_states = {p.name: p.on_merge(context) for p in merge_participants() if p.on_merge}
    event = PartyEvent.objects.create(
        kind=kind,
        party_id=survivor,
        actor=actor,
        actor_label=actor_label or (actor.get_username() if actor else "system"),
        suggestion_id=suggestion_id,
        score=score,
        reason=reason[:500],
        before=before,
        after=parties_snapshot([survivor]),
        changes={
            **changes.as_json(),
            "survivor_row": {k: _plain(v) for k, v in survivor_row.items()},
            "survivor": survivor,
            "absorbed": absorbed,
            "apps": app_states,
        },
    )
    event.parties.set(ids)
    _touch(ids)
    transaction.on_commit(lambda: parties_changed_notify(ids, reason="merge"))
    return event


# --- unmerge -------------------------------------------------------------------------------


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


@transaction.atomic
def party_unmerge(
    *, event_id: int, actor=None, reason: str = "", different_customers: bool = True
) -> PartyEvent:
    """Undo a merge: every row goes back to the party it came from, the absorbed parties are
    active again with their own golden values, and the survivor is restored exactly as it
    was (recomputed instead when later merges or splits changed it since).

    ``different_customers``: the steward says the parties are different customers; the other
    apps record that (matching: "not a match", so they are not suggested together again until
    one side's data changes). False is "undo for now": nothing is recorded about the pairs,
    and the next match run may suggest them again."""
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
    unmerge = PartyEvent.objects.create(
        kind=EventKind.UNMERGE,
        party_id=survivor,
        actor=actor,
        actor_label=actor.get_username() if actor else "system",
        suggestion_id=event.suggestion_id,
        reason=reason[:500],
        before=before,
        after=parties_snapshot([survivor, *absorbed]),
        changes={"exact": exact, "different_customers": different_customers},
        reverts=event,
    )
    unmerge.parties.set([survivor, *absorbed])
    ids = [survivor, *absorbed]
    _touch(ids)
    transaction.on_commit(lambda: parties_changed_notify(ids, reason="unmerge"))
    return unmerge


# --- split ---------------------------------------------------------------------------------


@transaction.atomic
def party_split(*, party_id: int, record_ids: Sequence[int], actor=None, reason: str = "") -> PartyEvent:
    """Move the chosen source records out of a party into a new party, with the contact
    points, identifiers, engagements, memberships and relationships they brought. A value
    other records of the party also reported is copied, not moved."""
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
    first = SourceRecord.objects.filter(pk__in=moving).order_by("pk").first()
    new = Party.objects.create(kind=first.standardized.get("kind") or party.kind)
    SourceRecord.objects.filter(pk__in=moving).update(party_id=new.pk)
    for model in CONTACT_POINT_MODELS:
        _split_contact_points(model, party_id, new.pk, moving)
    for model in (PartyIdentification, Engagement, Membership):
        model.objects.filter(party_id=party_id, source_record_id__in=moving).update(party_id=new.pk)
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
    event = PartyEvent.objects.create(
        kind=EventKind.SPLIT,
        party_id=party_id,
        actor=actor,
        actor_label=actor.get_username() if actor else "system",
        reason=reason[:500],
        before=before,
        after=parties_snapshot([party_id, new.pk]),
        changes={"new_party": new.pk, "moved_records": sorted(moving)},
    )
    event.parties.set([party_id, new.pk])
    _touch([party_id, new.pk])
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
