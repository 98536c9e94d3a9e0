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
from typing import Any, TypeVar

from django.db.models import Model
from django.utils.dateparse import parse_datetime

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

_M = TypeVar("_M", bound=Model)

RANK: dict[str, int] = {ConsentStatus.NOT_SEEN: 0, ConsentStatus.SEEN: 1}


def consent_winner(rows: Sequence[ContactPointTypeConsent]) -> ContactPointTypeConsent:
    """The row whose decision the merged party keeps, of one or more rows (see the module's
    docstring)."""
    explicit = [r for r in rows if r.status in EXPLICIT]
    if explicit:
        # latest first; on equal capture times an opt-out comes first
        return max(explicit, key=lambda r: (r.captured_at, r.status == ConsentStatus.OPT_OUT))
    return max(rows, key=lambda r: (RANK.get(r.status, 0), r.captured_at))


def preferences_combined(rows: Sequence[PrivacyPreference], survivor_id: int) -> dict:
    survivor = next((r for r in rows if r.party_id == survivor_id), None)
    combined: dict[str, Any] = {
        name: any(getattr(r, name) for r in rows) for name in PREFERENCE_FIELDS if name.startswith("do_not_")
    }
    frequencies = [r.contact_frequency for r in rows]
    combined["contact_frequency"] = max(frequencies, key=FREQUENCY_ORDER.index, default="")
    for name in ("preferred_channel", "preferred_language"):
        values = [getattr(r, name) for r in ([survivor] if survivor else []) + list(rows) if getattr(r, name)]
        combined[name] = values[0] if values else ""
    combined["interests"] = sorted({i for r in rows for i in (r.interests or [])})
    return combined


def _merge_actor(ctx: MergeContext) -> Actor:
    return Actor(
        kind=ActorKind.MERGE,
        user=ctx.actor,
        label=f"merge into party {ctx.survivor_id}"
        + (f" by {ctx.actor.get_username()}" if ctx.actor else " (automatic)"),
    )


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
        target = mine or ContactPointTypeConsent(
            party_id=ctx.survivor_id, channel=channel, purpose_id=purpose_id
        )
        previous = channel_state(mine)
        for name in STATE_FIELDS:
            setattr(target, name, getattr(winner, name))
        _record(
            party_id=ctx.survivor_id,
            scope=ConsentEvent.Scope.CHANNEL,
            key=channel_key(channel, winner.purpose.code),
            previous=previous,
            new=channel_state(target),
            actor=actor,
            capture_source=winner.capture_source,
            evidence=f"kept party {winner.party_id}'s decision of {winner.captured_at:%Y-%m-%d}",
        )
        target.save()
    # contact-point consents follow their points: those now on the survivor move with them
    _points_follow(ctx, actor)
    # privacy preferences: toward the more restrictive
    preferences = list(PrivacyPreference.objects.filter(party_id__in=ids))
    if preferences:
        own = next((r for r in preferences if r.party_id == ctx.survivor_id), None)
        previous = preference_state(own)
        kept = own or PrivacyPreference(party_id=ctx.survivor_id)
        for name, value in preferences_combined(preferences, ctx.survivor_id).items():
            setattr(kept, name, value)
        _record(
            party_id=ctx.survivor_id,
            scope=ConsentEvent.Scope.PREFERENCE,
            key="preferences",
            previous=previous,
            new=preference_state(kept),
            actor=actor,
            evidence="preferences combined toward the more restrictive",
        )
        kept.save()
    return {"before": before, "ledger_mark": _ledger_mark(ctx)}


def _points_follow(ctx: MergeContext, actor: Actor) -> None:
    from parties.models import ContactPointAddress, ContactPointEmail, ContactPointPhone

    models: dict[str, type[ContactPointEmail | ContactPointPhone | ContactPointAddress]] = {
        "email": ContactPointEmail,
        "phone": ContactPointPhone,
        "address": ContactPointAddress,
    }
    for row in ContactPointConsent.objects.filter(party_id__in=ctx.other_ids).select_related("purpose"):
        owner = (
            models[row.point_kind].objects.filter(pk=row.point_id).values_list("party_id", flat=True).first()
        )
        if owner != ctx.survivor_id:
            continue  # the point stayed with the absorbed party (the survivor has the same value)
        key = point_key(row.point_kind, row.point_id, row.purpose.code)
        _record(
            party_id=row.party_id,
            scope=ConsentEvent.Scope.POINT,
            key=key,
            previous=point_state(row),
            new=None,
            actor=actor,
            evidence=f"moved to party {ctx.survivor_id} with its contact point",
        )
        _record(
            party_id=ctx.survivor_id,
            scope=ConsentEvent.Scope.POINT,
            key=key,
            previous=None,
            new=point_state(row),
            actor=actor,
            evidence=f"came from party {row.party_id}",
        )
        ContactPointConsent.objects.filter(pk=row.pk).update(party_id=ctx.survivor_id)


def on_unmerge(ctx: MergeContext, state: dict | None) -> None:
    """Put every party's consent rows back as they were before the merge, except where the
    customer decided again after the merge: the present is never overwritten by the past.

    A decision made after the merge (on the merged party, so by a customer we then took for one
    person) stays in force on the survivor; a withdrawal (opt-out, or a "do not …" preference
    switched on) stays in force on every party of the merge, since we cannot tell whose it was.
    A consent of one contact point keeps its latest decision and goes back with its point. The
    ledger says which rule kept each value."""
    if not state:
        return
    ids = [ctx.survivor_id, *ctx.other_ids]
    actor = Actor(
        kind=ActorKind.MERGE,
        user=ctx.actor,
        label=f"unmerge of party {ctx.survivor_id}"
        + (f" by {ctx.actor.get_username()}" if ctx.actor else ""),
    )
    later = _decisions_since_merge(ctx, state, ids)
    _channels_restore(ctx, state["before"][ConsentEvent.Scope.CHANNEL], ids, later, actor)
    _points_restore(state["before"][ConsentEvent.Scope.POINT], ids, later, actor)
    _preferences_restore(ctx, state["before"][ConsentEvent.Scope.PREFERENCE], ids, later, actor)


def _ledger_mark(ctx: MergeContext) -> int:
    """The last ledger entry of the merge: decisions after it were made after the merge."""
    return ConsentEvent.objects.order_by("-pk").values_list("pk", flat=True).first() or 0


def _decisions_since_merge(ctx: MergeContext, state: dict, ids: Sequence[int]) -> dict[tuple[str, str], Any]:
    """``{(scope, key): the latest ledger entry}`` of the decisions made on the merge's parties
    after the merge, by anyone but the merge policy itself."""
    mark = state.get("ledger_mark")
    if mark is None:  # merged before the mark was kept: the merge's own last ledger entry
        mark = (
            ConsentEvent.objects.filter(
                party_id=ctx.survivor_id,
                actor_kind=ActorKind.MERGE,
                actor_label__startswith=f"merge into party {ctx.survivor_id}",
            )
            .order_by("-pk")
            .values_list("pk", flat=True)
            .first()
        ) or 0
    latest: dict[tuple[str, str], Any] = {}
    for event in (
        ConsentEvent.objects.filter(party_id__in=list(ids), pk__gt=mark)
        .exclude(actor_kind=ActorKind.MERGE)
        .order_by("pk")
    ):
        if event.scope == ConsentEvent.Scope.PREFERENCE:
            for name in PREFERENCE_FIELDS:
                if (event.previous or {}).get(name) != (event.new or {}).get(name):
                    latest[(event.scope, name)] = event
        else:
            latest[(event.scope, event.key)] = event
    return latest


def _kept_text(event: ConsentEvent, what: str) -> str:
    when = event.occurred_at.strftime("%Y-%m-%d %H:%M")
    return (
        f"{what} made after the merge ({event.actor_label}, {when}, ledger #{event.pk}) stays in "
        "force: an unmerge never brings back an older decision"
    )


def _state_apply(row, state: dict) -> None:
    for name in STATE_FIELDS:
        value = state.get(name)
        if isinstance(value, str) and name.endswith(("_at", "_from", "_to")):
            value = parse_datetime(value)
        setattr(row, name, value)


def _restored(model: type[_M], values: dict) -> _M:
    row = model(**values)
    _with_purpose([row])
    return row


def _write(model, row, values_updated_at) -> None:
    model.objects.filter(pk=row.pk).delete()
    row.save(force_insert=True)
    if values_updated_at is not None:
        model.objects.filter(pk=row.pk).update(updated_at=values_updated_at)


def _channels_restore(
    ctx: MergeContext, before: list[dict], ids: Sequence[int], later: dict, actor: Actor
) -> None:
    scope = ConsentEvent.Scope.CHANNEL
    wanted = {row["id"]: row for row in before}
    now = {r.pk: r for r in _with_purpose(ContactPointTypeConsent.objects.filter(party_id__in=list(ids)))}
    # the state each party ends with, key by key: its own from before the merge ...
    final: dict[tuple[int, str], tuple[dict | None, str, ContactPointTypeConsent]] = {}
    for own in wanted.values():
        row = _restored(ContactPointTypeConsent, own)
        key = channel_key(row.channel, row.purpose.code)
        final[(row.party_id, key)] = (own, "as before the merge", row)
    # ... unless the customer decided again after the merge
    purposes = {p.code: p for p in _purposes()}
    for (event_scope, key), event in later.items():
        if event_scope != scope or event.new is None:
            continue
        opted_out = event.new.get("status") == ConsentStatus.OPT_OUT
        for party_id in ids:
            if party_id != ctx.survivor_id and not opted_out:
                continue  # an opt-in is the survivor's alone: another party may be another person
            entry = final.get((party_id, key))
            if entry is not None:
                row = entry[2]
            else:
                channel, code = key.split("/", 1)
                row = ContactPointTypeConsent(party_id=party_id, channel=channel, purpose=purposes[code])
                current = next(
                    (
                        r
                        for r in now.values()
                        if r.party_id == party_id and channel_key(r.channel, r.purpose.code) == key
                    ),
                    None,
                )
                if current is not None:
                    row.pk = current.pk
            _state_apply(row, event.new)
            what = "the opt-out" if opted_out else f"the decision ({event.new.get('status')})"
            final[(party_id, key)] = (None, _kept_text(event, what), row)
    kept_pks = {row.pk for _, _, row in final.values() if row.pk}
    for pk, row in now.items():
        if pk not in kept_pks:  # created by the merge for the survivor
            _record(
                party_id=row.party_id,
                scope=scope,
                key=channel_key(row.channel, row.purpose.code),
                previous=channel_state(row),
                new=None,
                actor=actor,
                evidence="not held before the merge",
            )
            ContactPointTypeConsent.objects.filter(pk=pk).delete()
    for (party_id, key), (values, evidence, row) in sorted(final.items(), key=lambda item: item[0]):
        current = now.get(row.pk) if row.pk else None
        if current is not None and current.party_id != party_id:
            _record(
                party_id=current.party_id,
                scope=scope,
                key=key,
                previous=channel_state(current),
                new=None,
                actor=actor,
                evidence="back to its party",
            )
            current = None
        _record(
            party_id=party_id,
            scope=scope,
            key=key,
            previous=channel_state(current),
            new=channel_state(row),
            actor=actor,
            evidence=evidence,
        )
        if row.pk:
            _write(ContactPointTypeConsent, row, values["updated_at"] if values else None)
        else:
            row.save()


def _points_restore(before: list[dict], ids: Sequence[int], later: dict, actor: Actor) -> None:
    """Point consents go back with their points; a decision made after the merge is kept."""
    from parties.models import ContactPointAddress, ContactPointEmail, ContactPointPhone

    scope = ConsentEvent.Scope.POINT
    models: dict[str, type[ContactPointEmail | ContactPointPhone | ContactPointAddress]] = {
        "email": ContactPointEmail,
        "phone": ContactPointPhone,
        "address": ContactPointAddress,
    }
    wanted = {row["id"]: row for row in before}
    now = {r.pk: r for r in _with_purpose(ContactPointConsent.objects.filter(party_id__in=list(ids)))}
    for pk in set(now) | set(wanted):
        current = now.get(pk)
        values = wanted.get(pk)
        row = _restored(ContactPointConsent, values) if values else now[pk]
        key = point_key(row.point_kind, row.point_id, row.purpose.code)
        event = later.get((scope, key))
        evidence = "as before the merge"
        if event is not None and event.new is not None:
            _state_apply(row, event.new)
            status = event.new.get("status")
            evidence = _kept_text(
                event, "the opt-out" if status == ConsentStatus.OPT_OUT else f"the decision ({status})"
            )
        elif values is None:
            evidence = "kept with its contact point"
        owner = (
            models[row.point_kind].objects.filter(pk=row.point_id).values_list("party_id", flat=True).first()
        )
        if owner in ids:
            row.party_id = owner  # with its point, wherever the unmerge put it back
        if current is not None and current.party_id != row.party_id:
            _record(
                party_id=current.party_id,
                scope=scope,
                key=key,
                previous=point_state(current),
                new=None,
                actor=actor,
                evidence="back to its party",
            )
            current = None
        _record(
            party_id=row.party_id,
            scope=scope,
            key=key,
            previous=point_state(current),
            new=point_state(row),
            actor=actor,
            evidence=evidence,
        )
        if values is not None and event is None:
            _write(ContactPointConsent, row, values["updated_at"])
        else:
            ContactPointConsent.objects.filter(pk=row.pk).delete()
            row.save(force_insert=True)


def _preferences_restore(
    ctx: MergeContext, before: list[dict], ids: Sequence[int], later: dict, actor: Actor
) -> None:
    """Each party's own preferences from before the merge, with the changes made after it: all
    of them on the survivor, the restrictive ones ("do not …" switched on) on every party."""
    scope = ConsentEvent.Scope.PREFERENCE
    wanted = {row["party_id"]: row for row in before}
    now = {r.party_id: r for r in PrivacyPreference.objects.filter(party_id__in=list(ids))}
    changed = {name: event for (event_scope, name), event in later.items() if event_scope == scope}
    survivor_now = preference_state(now.get(ctx.survivor_id)) or {}
    for party_id in ids:
        values = wanted.get(party_id)
        current = now.get(party_id)
        row = PrivacyPreference(**values) if values else PrivacyPreference(party_id=party_id)
        if current is not None:
            row.pk = current.pk
        kept = []
        for name, event in changed.items():
            value = (event.new or {}).get(name, survivor_now.get(name))
            if party_id == ctx.survivor_id or (name.startswith("do_not_") and value is True):
                setattr(row, name, value)
                kept.append(f"{name.replace('_', ' ')} ({event.actor_label}, ledger #{event.pk})")
        if values is None and not kept:
            if current is not None:  # created by the merge for the survivor
                _record(
                    party_id=party_id,
                    scope=scope,
                    key="preferences",
                    previous=preference_state(current),
                    new=None,
                    actor=actor,
                    evidence="not held before the merge",
                )
                current.delete()
            continue
        evidence = "as before the merge"
        if kept:
            evidence += "; changed after the merge and kept: " + ", ".join(kept)
        _record(
            party_id=party_id,
            scope=scope,
            key="preferences",
            previous=preference_state(current),
            new=preference_state(row),
            actor=actor,
            evidence=evidence,
        )
        if current is not None:
            PrivacyPreference.objects.filter(pk=current.pk).delete()
        row.save(force_insert=True)
        if values is not None and not kept:
            PrivacyPreference.objects.filter(pk=row.pk).update(updated_at=values["updated_at"])


def _purposes():
    from consents.models import DataUsePurpose

    return DataUsePurpose.objects.all()


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
    for row in ContactPointTypeConsent.objects.filter(
        party_id__in=list(party_ids), status__in=EXPLICIT
    ).select_related("purpose"):
        groups.setdefault((row.get_channel_display(), row.purpose.name), []).append(row)
    found = []
    for (channel, purpose), rows in sorted(groups.items()):
        if len({r.status for r in rows}) > 1:
            winner = consent_winner(rows)
            said = "; ".join(
                f"party {r.party_id} {r.get_status_display().lower()} {r.captured_at:%Y-%m-%d} "
                f"({r.capture_source})"
                for r in sorted(rows, key=lambda r: r.captured_at)
            )
            found.append(
                f"{channel} · {purpose}: {said} — the merged party will be "
                f"{winner.get_status_display().lower()}"
            )
    return found


def conflicting(clusters: Sequence[Sequence[int]]) -> list[bool]:
    """For each cluster of party ids: would merging it put an opt-in against an opt-out?
    One query for all of them."""
    ids = sorted({pid for cluster in clusters for pid in cluster})
    said: dict[int, set[tuple[str, int, str]]] = {}
    for party_id, channel, purpose_id, status in ContactPointTypeConsent.objects.filter(
        party_id__in=ids, status__in=EXPLICIT
    ).values_list("party_id", "channel", "purpose_id", "status"):
        said.setdefault(party_id, set()).add((channel, purpose_id, status))
    result = []
    for cluster in clusters:
        decisions = [d for pid in cluster for d in said.get(pid, ())]
        statuses: dict[tuple[str, int], set[str]] = {}
        for channel, purpose_id, status in decisions:
            statuses.setdefault((channel, purpose_id), set()).add(status)
        result.append(any(len(s) > 1 for s in statuses.values()))
    return result


PARTICIPANT = MergeParticipant(
    name="consents", on_merge=on_merge, on_unmerge=on_unmerge, conflicts=conflicts, conflicting=conflicting
)
