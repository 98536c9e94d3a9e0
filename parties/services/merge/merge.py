"""Merge parties into one, losslessly (see the package's docstring)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from django.db import models, transaction
from django.db.models import Q
from django.utils import timezone

from parties.extensions import MergeContext, merge_participants, parties_changed_notify
from parties.models import (
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
from parties.services import events, outbox
from parties.services.golden import golden_explain, party_golden_refresh
from parties.services.merge.changes import Changes
from parties.services.merge.common import (
    CONTACT_POINT_MODELS,
    MERGE_KINDS,
    AlreadyHandled,
    MergeRefused,
    parties_touch,
    plain,
)
from parties.services.merge.locks import merged_by, parties_lock
from parties.services.merge.snapshot import parties_snapshot

MOVED_WITH_PARTY = (SourceRecord, Engagement, Membership)
PARTY_ROW_FIELDS = [f.attname for f in Party._meta.concrete_fields if f.attname != "id"]


def survivor_default(party_ids: Sequence[int]) -> int:
    """The party with the most source records, then the oldest."""
    counts = dict(
        SourceRecord.objects.filter(party_id__in=party_ids)
        .values_list("party_id")
        .annotate(n=models.Count("pk"))
        .values_list("party_id", "n")
    )
    return min(party_ids, key=lambda pid: (-counts.get(pid, 0), pid))


def _move_contact_points(changes: Changes, survivor: int, absorbed: int) -> None:
    for model in CONTACT_POINT_MODELS:
        key = ("network", "normalized") if model is ContactPointSocial else ("normalized",)
        kept = {
            tuple(row[1:]): row[0] for row in model.objects.filter(party_id=survivor).values_list("pk", *key)
        }
        has_primary = model.objects.filter(party_id=survivor, is_primary=True).exists()
        through = model.other_source_records.through
        fk = f"{model._meta.model_name}_id"
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


def _move_identifiers(changes: Changes, survivor: int, absorbed: int) -> None:
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


def _move_relationships(changes: Changes, survivor: int, absorbed: int, merging: set[int]) -> None:
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
    changes: Changes, survivor: int, absorbed: Sequence[int], chosen: Mapping[str, Any], actor, reason: str
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
        if str(plain(current.value) or "") == text:
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
    ``MergeRefused`` for any other reason not to; then nothing changed.

    Not durable: matching merges inside its own transaction, with the suggestion it decides
    (``suggestion_merge``) or the other groups of a split (``suggestion_split``)."""
    if kind not in MERGE_KINDS:
        raise ValueError(f"{kind!r} is not a kind of merge")
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
    changes = Changes()
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
    event = events.merged_event(
        survivor_id=survivor,
        party_ids=ids,
        automatic=kind == EventKind.AUTO_MERGE,
        actor=actor,
        actor_label=actor_label,
        suggestion_id=suggestion_id,
        score=score,
        reason=reason,
        before=before,
        changes={
            **changes.as_json(),
            "survivor_row": {k: plain(v) for k, v in survivor_row.items()},
            "survivor": survivor,
            "absorbed": absorbed,
            "apps": app_states,
        },
    )
    outbox.party_merged_event(
        survivor_id=survivor,
        merged_ids=absorbed,
        automatic=kind == EventKind.AUTO_MERGE,
        suggestion_id=suggestion_id,
        actor=actor or actor_label or None,
    )
    parties_touch(ids)
    transaction.on_commit(lambda: parties_changed_notify(ids, reason="merge"))
    return event
