"""Every consent and preference change goes through here: the state row is written and an
entry appended to the ledger (``ConsentEvent``) in one transaction, so the current state is
always the replay of the ledger (``ledger_check`` proves it).

States are stored in the ledger as plain dicts (``channel_state`` / ``point_state`` /
``preference_state``); ``None`` means "no row".
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, overload

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from consents.models import (
    EXPLICIT,
    ActorKind,
    Channel,
    ConsentEvent,
    ConsentStatus,
    ContactFrequency,
    ContactPointConsent,
    ContactPointKind,
    ContactPointTypeConsent,
    DataUsePurpose,
    PrivacyPreference,
)
from parties.services import outbox

STATE_FIELDS = [
    "status",
    "effective_from",
    "effective_to",
    "captured_at",
    "capture_source",
    "capture_channel",
    "double_opt_in_at",
]
PREFERENCE_FIELDS = [
    "do_not_process",
    "do_not_profile",
    "do_not_track",
    "do_not_solicit",
    "preferred_channel",
    "preferred_language",
    "contact_frequency",
    "interests",
]


@dataclass(frozen=True)
class Actor:
    """Who changes a consent: a staff user, an import job's line, an API client, a rule."""

    kind: str = ActorKind.SYSTEM
    user: Any = None
    label: str = ""
    import_job_id: int | None = None
    import_line: int | None = None

    @classmethod
    def of_user(cls, user) -> Actor:
        return cls(kind=ActorKind.USER, user=user, label=user.get_username())

    @property
    def text(self) -> str:
        if self.label:
            return self.label
        if self.kind == ActorKind.IMPORT:
            return f"import #{self.import_job_id} line {self.import_line}"
        return self.kind


def _iso(value: Any) -> Any:
    return value.isoformat() if isinstance(value, datetime) else value


@overload
def channel_state(row: ContactPointTypeConsent | ContactPointConsent) -> dict: ...
@overload
def channel_state(row: ContactPointTypeConsent | ContactPointConsent | None) -> dict | None: ...
def channel_state(row: ContactPointTypeConsent | ContactPointConsent | None) -> dict | None:
    if row is None:
        return None
    return {name: _iso(getattr(row, name)) for name in STATE_FIELDS}


point_state = channel_state


@overload
def preference_state(row: PrivacyPreference) -> dict: ...
@overload
def preference_state(row: PrivacyPreference | None) -> dict | None: ...
def preference_state(row: PrivacyPreference | None) -> dict | None:
    if row is None:
        return None
    return {name: getattr(row, name) for name in PREFERENCE_FIELDS}


def channel_key(channel: str, purpose: str) -> str:
    return f"{channel}/{purpose}"


def point_key(kind: str, point_id: int, purpose: str) -> str:
    return f"{kind}#{point_id}/{purpose}"


def _change_event(
    *, party_id: int, scope: str, key: str, previous: dict | None, new: dict | None, actor: Actor
) -> None:
    """The change event other systems learn of it by (statuses and field names, no values)."""
    who = actor.user if actor.user is not None else actor.text
    if scope == ConsentEvent.Scope.PREFERENCE:
        before = previous if previous is not None else preference_state(PrivacyPreference())  # the defaults
        fields = [n for n in PREFERENCE_FIELDS if before.get(n) != (new or {}).get(n)]
        outbox.preference_changed_event(party_id=party_id, fields=fields, actor=who)
    else:
        outbox.consent_changed_event(
            party_id=party_id,
            scope=scope,
            key=key,
            status=(new or {}).get("status"),
            previous_status=(previous or {}).get("status"),
            actor=who,
        )


def _record(
    *,
    party_id: int,
    scope: str,
    key: str,
    previous: dict | None,
    new: dict | None,
    actor: Actor,
    capture_source: str = "",
    evidence: str = "",
) -> ConsentEvent | None:
    if previous == new:
        return None  # nothing changed: nothing to record (re-imports are idempotent)
    from parties.models import Party

    Party.objects.filter(pk=party_id).update(updated_at=timezone.now())  # API clients sync by it
    _change_event(party_id=party_id, scope=scope, key=key, previous=previous, new=new, actor=actor)
    return ConsentEvent.objects.create(
        party_id=party_id,
        scope=scope,
        key=key,
        previous=previous,
        new=new,
        actor_kind=actor.kind,
        actor=actor.user,
        actor_label=actor.text[:200],
        import_job_id=actor.import_job_id,
        import_line=actor.import_line,
        capture_source=capture_source[:200],
        evidence=evidence,
    )


def _party_for_change(party_id: int, *, follow_merge: bool) -> int:
    """Lock the party a consent change is asked of and return the id it is written to.

    A merged party's consents are its survivor's: the change follows ``merged_into`` to the
    active survivor (``follow_merge``; the caller says so to the user) instead of landing on a
    row nobody reads. An erased party is refused: nothing of an erased customer may change
    again. The parties are locked first, in primary-key order (``parties_lock``), then the
    consent rows: the order merges and unmerges lock in, so a consent change racing an
    unmerge waits for it instead of deadlocking."""
    from parties.selectors import survivors_of
    from parties.services.merge import MergeRefused, parties_lock

    for _ in range(5):
        target = survivors_of([party_id])[party_id] if follow_merge else party_id
        try:
            locked = parties_lock({party_id, target})
        except MergeRefused as exc:
            raise ValidationError({"party": _erased_text(str(exc))}) from None
        # a merge or unmerge may have committed between the look-up and the lock: look again
        if not follow_merge or (
            locked[target].merged_into_id is None
            and (target == party_id or locked[party_id].merged_into_id is not None)
        ):
            return target
    raise ValidationError({"party": f"party {party_id} is being merged or unmerged right now; try again"})


def _followed(asked: int, target: int, evidence: str) -> str:
    if asked == target:
        return evidence
    note = f"asked of party {asked}, which was merged into party {target}"
    return f"{evidence} ({note})" if evidence else note


def _erased_text(text: str) -> str:
    if "erased" in text:
        return text.replace("can no longer be changed", "its consents and preferences can no longer change")
    return text


def _never_older(
    row: ContactPointTypeConsent | ContactPointConsent | None, status: str, when: datetime
) -> None:
    """An older decision never replaces a newer one (the merge policy's rule, for every
    caller): a late file or API call cannot bring back an opt-in the customer withdrew since,
    and "seen"/"not seen" is no decision, so it never replaces an opt-in or opt-out."""
    if row is None or row.status not in EXPLICIT:
        return
    held = f"the {ConsentStatus(row.status).label.lower()} captured {row.captured_at:%Y-%m-%d %H:%M}"
    if status not in EXPLICIT:
        raise ValidationError(
            {"status": f"{ConsentStatus(status).label.lower()!r} is no decision and cannot replace {held}"}
        )
    if when < row.captured_at or (
        when == row.captured_at and status == ConsentStatus.OPT_IN and row.status == ConsentStatus.OPT_OUT
    ):
        raise ValidationError(
            {
                "captured_at": f"{when:%Y-%m-%d %H:%M} is older than {held}, which stays in "
                "force: an older decision never replaces a newer one"
            }
        )


def _purpose(code: str) -> DataUsePurpose:
    purpose = DataUsePurpose.objects.filter(code=code, is_active=True).first()
    if purpose is None:
        known = ", ".join(DataUsePurpose.objects.filter(is_active=True).values_list("code", flat=True))
        raise ValidationError({"purpose": f"{code!r} is not a purpose (known: {known})"})
    return purpose


def _validated(status: str, captured_at: datetime | None, capture_source: str) -> datetime:
    errors = {}
    if status not in ConsentStatus.values:
        errors["status"] = f"{status!r} is not one of {', '.join(ConsentStatus.values)}"
    if not (capture_source or "").strip():
        errors["capture_source"] = "say where the customer said so (e.g. web form, call centre)"
    when = captured_at or timezone.now()
    if timezone.is_naive(when):
        errors["captured_at"] = "needs a time zone"
    elif when > timezone.now() + timedelta(minutes=5):
        errors["captured_at"] = f"{when:%Y-%m-%d %H:%M} is in the future"
    if errors:
        raise ValidationError(errors)
    return when


@transaction.atomic
def consent_set(
    *,
    party_id: int,
    channel: str,
    purpose: str,
    status: str,
    capture_source: str,
    actor: Actor,
    captured_at: datetime | None = None,
    capture_channel: str = "",
    double_opt_in_at: datetime | None = None,
    effective_from: datetime | None = None,
    effective_to: datetime | None = None,
    evidence: str = "",
    follow_merge: bool = True,
) -> ContactPointTypeConsent:
    """Set a party's consent for a channel and purpose, and append it to the ledger.

    Asked of a merged party, the consent is set on its survivor (the returned row's
    ``party_id`` says which; the ledger entry says it was asked of the merged id), unless
    ``follow_merge`` is false (erasure opts out every row of a customer where it lies). An
    erased party is refused."""
    if channel not in Channel.values:
        raise ValidationError({"channel": f"{channel!r} is not one of {', '.join(Channel.values)}"})
    purpose_row = _purpose(purpose)
    when = _validated(status, captured_at, capture_source)
    asked, party_id = party_id, _party_for_change(party_id, follow_merge=follow_merge)
    if captured_at is None:  # "now" is when the change holds the lock, after any that held it first
        when = timezone.now()
    evidence = _followed(asked, party_id, evidence)
    row = (
        ContactPointTypeConsent.objects.select_for_update()
        .filter(party_id=party_id, channel=channel, purpose=purpose_row)
        .first()
    )
    _never_older(row, status, when)
    previous = channel_state(row)
    row = row or ContactPointTypeConsent(party_id=party_id, channel=channel, purpose=purpose_row)
    row.status, row.captured_at, row.capture_source = status, when, capture_source.strip()[:200]
    row.capture_channel = capture_channel or channel
    row.double_opt_in_at = double_opt_in_at
    row.effective_from, row.effective_to = effective_from, effective_to
    _record(
        party_id=party_id,
        scope=ConsentEvent.Scope.CHANNEL,
        key=channel_key(channel, purpose),
        previous=previous,
        new=channel_state(row),
        actor=actor,
        capture_source=row.capture_source,
        evidence=evidence,
    )
    row.save()
    return row


@dataclass(frozen=True)
class ConsentChange:
    """One cell of the consent grid: a channel, a purpose and the state it is set to."""

    channel: str
    purpose: str
    status: str


@transaction.atomic
def consent_set_many(
    *,
    party_id: int,
    changes: Sequence[ConsentChange],
    capture_source: str,
    actor: Actor,
    evidence: str = "",
    captured_at: datetime | None = None,
) -> list[ContactPointTypeConsent]:
    """Several consent changes a customer asked for at once, under one capture source and
    evidence: each goes through ``consent_set`` (so each is one ledger entry carrying that
    source and evidence), all in one transaction — one refused change leaves every other
    unchanged too, and the error names the channel and purpose it concerns."""
    if not changes:
        raise ValidationError({"changes": "choose at least one change"})
    if not (capture_source or "").strip():  # once, not once per change
        raise ValidationError(
            {"capture_source": "say where the customer said so (e.g. web form, call centre)"}
        )
    seen: set[tuple[str, str]] = set()
    for change in changes:
        if (change.channel, change.purpose) in seen:
            raise ValidationError(
                {"changes": f"{change.channel}/{change.purpose} is changed twice; choose one state for it"}
            )
        seen.add((change.channel, change.purpose))
    if captured_at is None:  # lock first: "now" comes after any change that held the party
        _party_for_change(party_id, follow_merge=True)
    when = captured_at or timezone.now()  # one moment for the whole conversation
    rows = []
    for change in changes:
        try:
            rows.append(
                consent_set(
                    party_id=party_id,
                    channel=change.channel,
                    purpose=change.purpose,
                    status=change.status,
                    capture_source=capture_source,
                    evidence=evidence,
                    actor=actor,
                    captured_at=when,
                )
            )
        except ValidationError as exc:
            if not hasattr(exc, "error_dict"):
                raise
            raise ValidationError(
                {
                    f"{change.channel}/{change.purpose} {field}".replace(" __all__", ""): errors
                    for field, errors in exc.error_dict.items()
                }
            ) from None
    return rows


@transaction.atomic
def point_consent_set(
    *,
    party_id: int,
    point_kind: str,
    point_id: int,
    purpose: str,
    status: str,
    capture_source: str,
    actor: Actor,
    captured_at: datetime | None = None,
    double_opt_in_at: datetime | None = None,
    evidence: str = "",
    follow_merge: bool = True,
) -> ContactPointConsent:
    """Set the consent of one specific email address, phone number or postal address (a
    merged party's changes go to its survivor, an erased party's are refused: see
    ``consent_set``)."""
    if point_kind not in ContactPointKind.values:
        kinds = ", ".join(ContactPointKind.values)
        raise ValidationError({"point_kind": f"{point_kind!r} is not one of {kinds}"})
    purpose_row = _purpose(purpose)
    when = _validated(status, captured_at, capture_source)
    asked, party_id = party_id, _party_for_change(party_id, follow_merge=follow_merge)
    if captured_at is None:  # "now" is when the change holds the lock, as in consent_set
        when = timezone.now()
    evidence = _followed(asked, party_id, evidence)
    row = (
        ContactPointConsent.objects.select_for_update()
        .filter(point_kind=point_kind, point_id=point_id, purpose=purpose_row)
        .first()
    )
    _never_older(row, status, when)
    previous = point_state(row)
    row = row or ContactPointConsent(
        party_id=party_id, point_kind=point_kind, point_id=point_id, purpose=purpose_row
    )
    row.status, row.captured_at, row.capture_source = status, when, capture_source.strip()[:200]
    row.capture_channel = {"email": "email", "phone": "phone", "address": "mail"}[point_kind]
    row.double_opt_in_at = double_opt_in_at
    _record(
        party_id=party_id,
        scope=ConsentEvent.Scope.POINT,
        key=point_key(point_kind, point_id, purpose),
        previous=previous,
        new=point_state(row),
        actor=actor,
        capture_source=row.capture_source,
        evidence=evidence,
    )
    row.save()
    return row


def _preference_clean(changes: Mapping[str, Any]) -> dict[str, Any]:
    errors, clean = {}, {}
    for name, value in changes.items():
        if name not in PREFERENCE_FIELDS:
            errors[name] = "not a privacy preference"
        elif name.startswith("do_not_"):
            if not isinstance(value, bool):
                errors[name] = "must be true or false"
            clean[name] = value
        elif name == "preferred_channel" and value not in ("", *Channel.values):
            errors[name] = f"{value!r} is not one of {', '.join(Channel.values)}"
        elif name == "contact_frequency" and value not in ContactFrequency.values:
            errors[name] = f"{value!r} is not one of {', '.join(v for v in ContactFrequency.values if v)}"
        elif name == "interests":
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                errors[name] = "must be a list of words"
            else:
                clean[name] = sorted({v.strip().lower()[:50] for v in value if v.strip()})
        else:
            clean[name] = value
    if errors:
        raise ValidationError(errors)
    return clean


@transaction.atomic
def preferences_set(
    *,
    party_id: int,
    changes: Mapping[str, Any],
    actor: Actor,
    capture_source: str = "",
    evidence: str = "",
    follow_merge: bool = True,
) -> PrivacyPreference:
    """Change some of a party's privacy preferences, and append it to the ledger (a merged
    party's changes go to its survivor, an erased party's are refused: see ``consent_set``)."""
    clean = _preference_clean(changes)
    asked, party_id = party_id, _party_for_change(party_id, follow_merge=follow_merge)
    evidence = _followed(asked, party_id, evidence)
    row = PrivacyPreference.objects.select_for_update().filter(party_id=party_id).first()
    previous = preference_state(row)
    row = row or PrivacyPreference(party_id=party_id)
    for name, value in clean.items():
        setattr(row, name, value)
    _record(
        party_id=party_id,
        scope=ConsentEvent.Scope.PREFERENCE,
        key="preferences",
        previous=previous,
        new=preference_state(row),
        actor=actor,
        capture_source=capture_source,
        evidence=evidence,
    )
    row.save()
    return row


# --- replay --------------------------------------------------------------------------------


def current_states(party_ids: Iterable[int] | None = None) -> dict[tuple[int, str], dict]:
    """Every consent and preference row, as ``{(party, key): state}``."""
    ids = list(party_ids) if party_ids is not None else None
    states: dict[tuple[int, str], dict] = {}

    def scoped(queryset):
        return queryset.filter(party_id__in=ids) if ids is not None else queryset

    for row in scoped(ContactPointTypeConsent.objects.select_related("purpose")):
        states[(row.party_id, channel_key(row.channel, row.purpose.code))] = channel_state(row)
    for row in scoped(ContactPointConsent.objects.select_related("purpose")):
        states[(row.party_id, point_key(row.point_kind, row.point_id, row.purpose.code))] = point_state(row)
    for row in scoped(PrivacyPreference.objects.all()):
        states[(row.party_id, "preferences")] = preference_state(row)
    return states


def ledger_replay(party_ids: Iterable[int] | None = None) -> dict[tuple[int, str], dict]:
    """The states the ledger's entries add up to, replayed in the order they were written."""
    events = ConsentEvent.objects.order_by("id")
    if party_ids is not None:
        events = events.filter(party_id__in=list(party_ids))
    states: dict[tuple[int, str], dict] = {}
    for party_id, key, new in events.values_list("party_id", "key", "new").iterator(chunk_size=5000):
        if new is None:
            states.pop((party_id, key), None)
        else:
            states[(party_id, key)] = new
    return states


def _comparable(state: dict | None) -> dict | None:
    if state is None:
        return None
    out = {}
    for name, value in state.items():
        is_time = isinstance(value, str) and name.endswith(("_at", "_from", "_to"))
        parsed = parse_datetime(value) if is_time else None
        out[name] = parsed.isoformat() if parsed else value
    return out


def ledger_check(party_ids: Iterable[int] | None = None) -> list[str]:
    """Where the current state differs from the ledger's replay (nothing, when all is well)."""
    current, replayed = current_states(party_ids), ledger_replay(party_ids)
    problems = []
    for key in sorted(set(current) | set(replayed)):
        if _comparable(current.get(key)) != _comparable(replayed.get(key)):
            problems.append(
                f"party {key[0]} {key[1]}: state {current.get(key)} but ledger {replayed.get(key)}"
            )
    return problems
