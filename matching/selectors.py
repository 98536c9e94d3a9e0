"""Reads for matching: parties flattened for dedupe, in bulk."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence

import orjson
from django.db import connection

from matching.fields import FIELD_DEFINITIONS, flat_record
from parties.models import (
    ContactPointAddress,
    ContactPointEmail,
    ContactPointPhone,
    Party,
    PartyIdentification,
)

GOLDEN = ["given_name", "family_name", "organization_name", "birth_date"]


def _table(model) -> str:
    return connection.ops.quote_name(model._meta.db_table)


def party_records(party_ids: Iterable[int]) -> dict[int, dict]:
    """``{party id: record}`` for active parties, in five queries whatever their number (raw
    SQL through ``rows_for_ids``: Django's IN lookups and model rows took 0.8 ms a party, the
    better part of a training's 100,000-party sample and of fingerprinting)."""
    from parties.models import PartyStatus

    ids = list(party_ids)
    if not ids:
        return {}
    emails, phones, addresses, identifiers = (defaultdict(list) for _ in range(4))
    for party_id, value in rows_for_ids(
        f"SELECT party_id, normalized FROM {_table(ContactPointEmail)} "  # noqa: S608
        "WHERE is_active = %s AND party_id {ids}",
        ids,
        [True],
    ):
        emails[party_id].append(value)
    for party_id, value in rows_for_ids(
        f"SELECT party_id, normalized FROM {_table(ContactPointPhone)} "  # noqa: S608
        "WHERE is_active = %s AND party_id {ids}",
        ids,
        [True],
    ):
        phones[party_id].append(value)
    for party_id, line1, city, postal_code, country, _, _ in sorted(
        rows_for_ids(
            "SELECT party_id, line1, city, postal_code, country, is_primary, id "  # noqa: S608
            f"FROM {_table(ContactPointAddress)} WHERE is_active = %s AND party_id {{ids}}",
            ids,
            [True],
        ),
        key=lambda row: (not row[5], row[6]),
    ):  # the primary address first, then the oldest
        addresses[party_id].append(
            {"line1": line1, "city": city, "postal_code": postal_code, "country": country}
        )
    for party_id, kind, value in sorted(
        rows_for_ids(
            "SELECT party_id, identifier_type, normalized "  # noqa: S608
            f"FROM {_table(PartyIdentification)} WHERE party_id {{ids}}",
            ids,
        )
    ):
        identifiers[party_id].append(f"{kind}:{value}")
    records = {}
    for pid, *values in rows_for_ids(
        f"SELECT id, {', '.join(GOLDEN)} FROM {_table(Party)} "  # noqa: S608
        "WHERE status = %s AND id {ids}",
        ids,
        [PartyStatus.ACTIVE],
    ):
        records[pid] = flat_record(
            attributes=dict(zip(GOLDEN, values, strict=True)),
            emails=emails[pid],
            phones=phones[pid],
            address=addresses[pid][0] if addresses[pid] else None,
            identifiers=identifiers[pid],
        )
    return records


_SET_FIELDS = [name for name, kind, _ in FIELD_DEFINITIONS if kind == "Set"]
_RECORD_KEYS = frozenset(flat_record(attributes={}, emails=(), phones=(), address=None, identifiers=()))


def match_records_store(party_ids: list[int], records: dict[int, dict], *, fresh: bool = False) -> None:
    """Replace the stored flat records of ``party_ids`` (inactive ones are just removed;
    ``fresh``: the table was emptied, nothing to replace)."""
    from django.utils import timezone

    from matching.models import MatchRecord
    from parties.services.bulk_writer import rows_insert

    if not fresh:
        MatchRecord.objects.filter(party_id__in=party_ids).delete()
    rows_insert(
        MatchRecord,
        [{"party_id": pid, "record": orjson.dumps(record).decode()} for pid, record in records.items()],
        now=timezone.now(),
    )


def rows_for_ids(sql: str, ids: Sequence[int], params: Sequence = ()) -> list[tuple]:
    """Rows of raw ``sql`` (ending in ``… {ids}``) for many ids: one array parameter on
    PostgreSQL, IN lists of 900 elsewhere. Raw SQL because Django's IN lookups cost more than
    the data for 20,000 ids."""
    rows: list[tuple] = []
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(sql.format(ids="= ANY(%s)"), [*params, list(ids)])
            return cursor.fetchall()
        for start in range(0, len(ids), 900):
            part = list(ids[start : start + 900])
            cursor.execute(sql.format(ids=f"IN ({', '.join(['%s'] * len(part))})"), [*params, *part])
            rows.extend(cursor.fetchall())
    return rows


def match_records(party_ids: Iterable[int]) -> dict[int, dict]:
    """``{party id: record}`` from the records stored at fingerprinting, one query; parties
    without a stored record are flattened afresh."""
    from matching.models import MatchRecord

    ids = set(party_ids)
    found: dict[int, dict] = {}
    table = connection.ops.quote_name(MatchRecord._meta.db_table)
    rows = rows_for_ids(f"SELECT party_id, record FROM {table} WHERE party_id {{ids}}", list(ids))  # noqa: S608
    for party_id, text in rows:
        record = orjson.loads(text)
        if _RECORD_KEYS - record.keys():  # stored by an older version: flattened afresh below
            continue
        for field in _SET_FIELDS:
            if record[field] is not None:
                record[field] = tuple(record[field])
        found[party_id] = record
    missing = ids - found.keys()
    if missing:
        found.update(party_records(missing))
    return found


def suggestions_pending():
    """Pending suggestions, best first, with their members' parties in two more queries."""
    from django.db.models import Prefetch

    from matching.models import MatchSuggestion, MatchSuggestionMember, SuggestionStatus

    return (
        MatchSuggestion.objects.filter(status=SuggestionStatus.PENDING)
        .order_by("-score", "id")
        .prefetch_related(
            Prefetch(
                "members", queryset=MatchSuggestionMember.objects.select_related("party").order_by("-score")
            )
        )
    )


# A phase's share of a run's progress bar (fingerprinting is cheaper than scoring).
_PHASE_SPAN = {
    "queued": (0, 0),
    "fingerprinting": (0, 30),
    "scoring": (30, 90),
    "clustering": (90, 99),
    "done": (100, 100),
}


def run_partner_caps(run) -> dict:
    """The fewest and most partners per party that a run's chunks over the pair budget kept."""
    from django.db.models import Max, Min

    from matching.models import RunPhase

    return run.chunks.filter(phase=RunPhase.SCORING).aggregate(
        fewest=Min("partner_cap"), most=Max("partner_cap")
    )


def run_progress(run) -> dict:
    """Percent done and the per-phase timings of a match run, for its progress page."""
    from django.utils import timezone

    from matching.models import RunPhase, RunStatus

    start, end = _PHASE_SPAN[run.phase]
    share = run.chunks_done / run.chunks_total if run.chunks_total else 0
    percent = start + int((end - start) * share) if run.phase in ("fingerprinting", "scoring") else start
    if run.status == RunStatus.FAILED:
        percent = max(percent, 1)
    phases = []
    for phase in (RunPhase.FINGERPRINTING, RunPhase.SCORING, RunPhase.CLUSTERING):
        seconds = run.phase_seconds.get(phase)
        if (
            seconds is None
            and run.phase == phase
            and run.phase_started_at
            and run.status == RunStatus.RUNNING
        ):
            seconds = (timezone.now() - run.phase_started_at).total_seconds()
            state = "running"
        else:
            state = "done" if seconds is not None else "waiting"
        phases.append({"name": phase.label, "key": phase.value, "seconds": seconds, "state": state})
    total = None
    if run.started_at:
        total = ((run.finished_at or timezone.now()) - run.started_at).total_seconds()
    return {"percent": percent, "phases": phases, "total_seconds": total}


def threshold_chart(current, width: int = 640, height: int = 220) -> dict | None:
    """Geometry of the thresholds chart (an SVG drawn by the template) from the latest full
    run's curve: for each threshold, the groups of parties it would suggest."""
    from matching.models import MatchRun, RunStatus

    run = (
        MatchRun.objects.filter(status=RunStatus.SUCCEEDED, full=True)
        .exclude(threshold_curve=[])
        .order_by("-finished_at")
        .first()
    )
    if run is None:
        return None
    curve = run.threshold_curve
    left, bottom, top = 48, 28, 12
    plot_w, plot_h = width - left - 12, height - bottom - top
    peak = max([point["groups"] for point in curve] + [1])
    step = plot_w / len(curve)
    bars = []
    for i, point in enumerate(curve):
        bar_h = plot_h * point["groups"] / peak
        bars.append(
            {
                **point,
                "x": round(left + i * step + 2, 1),
                "w": round(step - 4, 1),
                "y": round(top + plot_h - bar_h, 1),
                "h": round(bar_h, 1),
                "label_x": round(left + i * step + step / 2, 1),
                "review": abs(point["threshold"] - current.review_threshold) < 0.025,
                "auto": current.auto_merge_threshold is not None
                and point["threshold"] >= current.auto_merge_threshold,
            }
        )

    def x_of(threshold: float) -> float:
        return round(left + (threshold - curve[0]["threshold"]) / 0.05 * step + step / 2, 1)

    return {
        "run": run,
        "bars": bars,
        "width": width,
        "height": height,
        "peak": peak,
        "left": left,
        "top": top,
        "axis_y": top + plot_h,
        "label_y": height - 8,
        "review_x": x_of(current.review_threshold),
        "auto_x": x_of(current.auto_merge_threshold) if current.auto_merge_threshold else None,
    }
