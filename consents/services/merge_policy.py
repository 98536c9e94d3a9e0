"""Consents' part in merges (registered with parties' extension point in ``ConsentsConfig``).

For each channel and purpose, the survivor gets the most recent explicit decision (opt-in or
opt-out) of the merged parties: an opt-out is never overridden by an older opt-in, and a tie
goes to the opt-out. Without any explicit decision, "seen" beats "not seen". Privacy
preferences combine toward the more restrictive (any "do not …" holds; the rarest contact
frequency). Consents of contact points move with the points. Every change is a ledger entry
by the merge; an unmerge puts each party's own rows back exactly and records that too.
"""

from __future__ import annotations

from collections.abc import Sequence

from consents.models import (
    EXPLICIT,
    FREQUENCY_ORDER,
    ActorKind,
    ConsentEvent,
    ConsentStatus,
    ContactPointConsent,
    ContactPointTypeConsent,
    PrivacyPreference,
)
from consents.services.ledger import (
    PREFERENCE_FIELDS,
    STATE_FIELDS,
    Actor,
    _iso,
    _record,
    channel_key,
    channel_state,
    point_key,
    point_state,
    preference_state,
)
from parties.extensions import MergeContext, MergeParticipant

RANK = {ConsentStatus.NOT_SEEN: 0, ConsentStatus.SEEN: 1}


def consent_winner(rows: Sequence[ContactPointTypeConsent]) -> ContactPointTypeConsent | None:
    """The row whose decision the merged party keeps (see the module's docstring)."""
    explicit = [r for r in rows if r.status in EXPLICIT]
    if explicit:
        # latest first; on equal capture times an opt-out comes first
        return max(explicit, key=lambda r: (r.captured_at, r.status == ConsentStatus.OPT_OUT))
    return max(rows, key=lambda r: (RANK.get(r.status, 0), r.captured_at), default=None)


def preferences_combined(rows: Sequence[PrivacyPreference], survivor_id: int) -> dict:
    survivor = next((r for r in rows if r.party_id == survivor_id), None)
    combined = {name: any(getattr(r, name) for r in rows) for name in PREFERENCE_FIELDS
                if name.startswith("do_not_")}
    frequencies = [r.contact_frequency for r in rows]
    combined["contact_frequency"] = max(frequencies, key=FREQUENCY_ORDER.index, default="")
    for name in ("preferred_channel", "preferred_language"):
        values = [getattr(r, name) for r in ([survivor] if survivor else []) + list(rows) if getattr(r, name)]
        combined[name] = values[0] if values else ""
    combined["interests"] = sorted({i for r in rows for i in (r.interests or [])})
    return combined


def _merge_actor(ctx: MergeContext) -> Actor:
    return Actor(kind=ActorKind.MERGE, user=ctx.actor,
                 label=f"merge into party {ctx.survivor_id}"
                       + (f" by {ctx.actor.get_username()}" if ctx.actor else " (automatic)"))


def _row_values(row) -> dict:
    # isoformat here: the JSON encoder would cut datetimes to milliseconds, and an unmerge
    # must give the rows back exactly
    return {f.attname: _iso(getattr(row, f.attname)) for f in row._meta.concrete_fields}


def on_merge(ctx: MergeContext) -> dict:
    ids = [ctx.survivor_id, *ctx.other_ids]
    actor = _merge_actor(ctx)
    before = {
        "channel": [_row_values(r) for r in ContactPointTypeConsent.objects.filter(party_id__in=ids)],
        "point": [_row_values(r) for r in ContactPointConsent.objects.filter(party_id__in=ids)],
        "preference": [_row_values(r) for r in PrivacyPreference.objects.filter(party_id__in=ids)],
    }
    # channel consents: the survivor's row takes the winner's state
    groups: dict[tuple[str, int], list[ContactPointTypeConsent]] = {}
    for row in ContactPointTypeConsent.objects.filter(party_id__in=ids).select_related("purpose"):
        groups.setdefault((row.channel, row.purpose_id), []).append(row)
    for (channel, purpose_id), rows in groups.items():
        winner = consent_winner(rows)
        mine = next((r for r in rows if r.party_id == ctx.survivor_id), None)
        target = mine or ContactPointTypeConsent(party_id=ctx.survivor_id, channel=channel,
                                                 purpose_id=purpose_id)
        previous = channel_state(mine)
        for name in STATE_FIELDS:
            setattr(target, name, getattr(winner, name))
        _record(party_id=ctx.survivor_id, scope=ConsentEvent.Scope.CHANNEL,
                key=channel_key(channel, winner.purpose.code), previous=previous,
                new=channel_state(target), actor=actor, capture_source=winner.capture_source,
                evidence=f"kept party {winner.party_id}'s decision of {winner.captured_at:%Y-%m-%d}")
        target.save()
    # contact-point consents follow their points: those now on the survivor move with them
    _points_follow(ctx, actor)
    # privacy preferences: toward the more restrictive
    rows = list(PrivacyPreference.objects.filter(party_id__in=ids))
    if rows:
        mine = next((r for r in rows if r.party_id == ctx.survivor_id), None)
        previous = preference_state(mine)
        target = mine or PrivacyPreference(party_id=ctx.survivor_id)
        for name, value in preferences_combined(rows, ctx.survivor_id).items():
            setattr(target, name, value)
        _record(party_id=ctx.survivor_id, scope=ConsentEvent.Scope.PREFERENCE, key="preferences",
                previous=previous, new=preference_state(target), actor=actor,
                evidence="preferences combined toward the more restrictive")
        target.save()
    return {"before": before}


def _points_follow(ctx: MergeContext, actor: Actor) -> None:
    from parties.models import ContactPointAddress, ContactPointEmail, ContactPointPhone

    models = {"email": ContactPointEmail, "phone": ContactPointPhone, "address": ContactPointAddress}
    for row in ContactPointConsent.objects.filter(party_id__in=ctx.other_ids).select_related("purpose"):
        owner = (models[row.point_kind].objects.filter(pk=row.point_id)
                 .values_list("party_id", flat=True).first())
        if owner != ctx.survivor_id:
            continue  # the point stayed with the absorbed party (the survivor has the same value)
        key = point_key(row.point_kind, row.point_id, row.purpose.code)
        _record(party_id=row.party_id, scope=ConsentEvent.Scope.POINT, key=key, previous=point_state(row),
                new=None, actor=actor, evidence=f"moved to party {ctx.survivor_id} with its contact point")
        _record(party_id=ctx.survivor_id, scope=ConsentEvent.Scope.POINT, key=key, previous=None,
                new=point_state(row), actor=actor, evidence=f"came from party {row.party_id}")
        ContactPointConsent.objects.filter(pk=row.pk).update(party_id=ctx.survivor_id)


def on_unmerge(ctx: MergeContext, state: dict | None) -> None:
    """Put every party's consent rows back exactly as they were before the merge."""
    if not state:
        return
    ids = [ctx.survivor_id, *ctx.other_ids]
    actor = Actor(kind=ActorKind.MERGE, user=ctx.actor, label=f"unmerge of party {ctx.survivor_id}"
                  + (f" by {ctx.actor.get_username()}" if ctx.actor else ""))
    for scope, model, key_of, state_of in (
            (ConsentEvent.Scope.CHANNEL, ContactPointTypeConsent,
             lambda r: channel_key(r.channel, r.purpose.code), channel_state),
            (ConsentEvent.Scope.POINT, ContactPointConsent,
             lambda r: point_key(r.point_kind, r.point_id, r.purpose.code), point_state),
            (ConsentEvent.Scope.PREFERENCE, PrivacyPreference, lambda r: "preferences", preference_state)):
        wanted = {row["id"]: row for row in state["before"][scope]}
        now = {r.pk: r for r in _with_purpose(model.objects.filter(party_id__in=ids))}
        for pk, row in now.items():
            if pk not in wanted:  # created by the merge for the survivor
                _record(party_id=row.party_id, scope=scope, key=key_of(row), previous=state_of(row),
                        new=None, actor=actor, evidence="not held before the merge")
                model.objects.filter(pk=pk).delete()
        for pk, values in wanted.items():
            restored = model(**values)
            current = now.get(pk)
            if current is not None and current.party_id != restored.party_id:
                _record(party_id=current.party_id, scope=scope, key=key_of(current),
                        previous=state_of(current), new=None, actor=actor, evidence="back to its party")
                current = None
            _with_purpose([restored])
            _record(party_id=restored.party_id, scope=scope, key=key_of(restored),
                    previous=state_of(current) if current else None, new=state_of(restored), actor=actor,
                    evidence="as before the merge")
            model.objects.filter(pk=pk).delete()
            restored.save(force_insert=True)
            model.objects.filter(pk=pk).update(updated_at=values["updated_at"])


def _with_purpose(rows):
    from consents.models import DataUsePurpose

    rows = list(rows)
    purposes = {p.pk: p for p in DataUsePurpose.objects.all()}
    for row in rows:
        if hasattr(row, "purpose_id"):
            row.purpose = purposes[row.purpose_id]
    return rows


def conflicts(party_ids: Sequence[int]) -> list[str]:
    """Channel and purpose pairs where one party opted in and another opted out."""
    groups: dict[tuple[str, str], list[ContactPointTypeConsent]] = {}
    for row in ContactPointTypeConsent.objects.filter(party_id__in=list(party_ids),
                                                      status__in=EXPLICIT).select_related("purpose"):
        groups.setdefault((row.get_channel_display(), row.purpose.name), []).append(row)
    found = []
    for (channel, purpose), rows in sorted(groups.items()):
        if len({r.status for r in rows}) > 1:
            winner = consent_winner(rows)
            said = "; ".join(f"party {r.party_id} {r.get_status_display().lower()} {r.captured_at:%Y-%m-%d} "
                             f"({r.capture_source})" for r in sorted(rows, key=lambda r: r.captured_at))
            found.append(f"{channel} · {purpose}: {said} — the merged party will be "
                         f"{winner.get_status_display().lower()}")
    return found


def conflicting(clusters: Sequence[Sequence[int]]) -> list[bool]:
    """For each cluster of party ids: would merging it put an opt-in against an opt-out?
    One query for all of them."""
    ids = sorted({pid for cluster in clusters for pid in cluster})
    said: dict[int, set[tuple[str, int, str]]] = {}
    for party_id, channel, purpose_id, status in ContactPointTypeConsent.objects.filter(
            party_id__in=ids, status__in=EXPLICIT).values_list("party_id", "channel", "purpose_id", "status"):
        said.setdefault(party_id, set()).add((channel, purpose_id, status))
    result = []
    for cluster in clusters:
        decisions = [d for pid in cluster for d in said.get(pid, ())]
        statuses: dict[tuple[str, int], set[str]] = {}
        for channel, purpose_id, status in decisions:
            statuses.setdefault((channel, purpose_id), set()).add(status)
        result.append(any(len(s) > 1 for s in statuses.values()))
    return result


PARTICIPANT = MergeParticipant(name="consents", on_merge=on_merge, on_unmerge=on_unmerge,
                               conflicts=conflicts, conflicting=conflicting)
