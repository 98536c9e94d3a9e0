"""What the merge queue filters and orders suggestions by, computed once when a suggestion is
written (so the queue stays one indexed table scan at 100,000 pending suggestions).

Risk puts first what matters most to the business: clusters whose consents conflict (one
party opted in where another opted out; other apps say so through parties' merge extension
point), parties that disagree on who they are (different birth dates), large clusters,
parties with open orders or support cases, and members of a high loyalty tier.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Mapping, Sequence

from django.db import connection

from matching.selectors import rows_for_ids
from parties.extensions import merge_participants
from parties.models import Engagement, EngagementType, Membership, MembershipStatus, Party, SourceRecord

OPEN_ORDER_STATUSES = ("open", "pending", "processing", "shipped", "on_hold")
HIGH_TIERS = ("gold", "platinum", "diamond", "vip")
_NON_DIGITS = re.compile(r"\D+")


def _search_text(evidence: Mapping[str, dict]) -> str:
    words: list[str] = []
    for field in ("given_name", "family_name", "organization_name", "emails"):
        for value in (evidence.get(field) or {}).get("values", {}).values():
            words.extend(value if isinstance(value, list) else [value] if value else [])
    for value in (evidence.get("phones") or {}).get("values", {}).values():
        words.extend(_NON_DIGITS.sub("", phone) for phone in value or [])
    return " ".join(str(w).lower() for w in words if w)[:4000]


def _table(model) -> str:
    return connection.ops.quote_name(model._meta.db_table)


def suggestion_facets(
    clusters: Sequence[Sequence[int]], evidences: Sequence[Mapping[str, dict]]
) -> list[dict]:
    """For each cluster (party ids) and its evidence: the queue's filter and risk columns."""
    ids = sorted({pid for cluster in clusters for pid in cluster})
    kinds = dict(rows_for_ids(f"SELECT id, kind FROM {_table(Party)} WHERE id {{ids}}", ids))  # noqa: S608
    sources: dict[int, set[int]] = defaultdict(set)
    for party_id, source_id in rows_for_ids(
        f"SELECT DISTINCT party_id, source_system_id FROM {_table(SourceRecord)} "  # noqa: S608
        "WHERE party_id {ids}",
        ids,
    ):
        sources[party_id].add(source_id)
    marks = ", ".join(["%s"] * len(OPEN_ORDER_STATUSES))
    busy = {
        row[0]
        for row in rows_for_ids(
            f"SELECT DISTINCT party_id FROM {_table(Engagement)} "  # noqa: S608
            f"WHERE ((engagement_type = %s AND status IN ({marks})) OR (engagement_type = %s "
            "AND status = 'open')) AND party_id {ids}",
            ids,
            [EngagementType.ORDER, *OPEN_ORDER_STATUSES, EngagementType.CASE],
        )
    }
    tiers = ", ".join(["%s"] * len(HIGH_TIERS))
    high_tier = {
        row[0]
        for row in rows_for_ids(
            f"SELECT DISTINCT party_id FROM {_table(Membership)} "  # noqa: S608
            f"WHERE status = %s AND LOWER(tier) IN ({tiers}) AND party_id {{ids}}",
            ids,
            [MembershipStatus.ACTIVE, *HIGH_TIERS],
        )
    }
    conflicted = [False] * len(clusters)
    for participant in merge_participants():
        if participant.conflicting:
            conflicted = [a or b for a, b in zip(conflicted, participant.conflicting(clusters), strict=True)]
    facets = []
    for cluster, evidence, conflict in zip(clusters, evidences, conflicted, strict=True):
        cluster_kinds = {kinds.get(pid, "") for pid in cluster}
        countries = sorted(
            {str(v).upper() for v in (evidence.get("country") or {}).get("values", {}).values() if v}
        )
        risk = 0
        reasons: list[str] = []
        if conflict:
            risk, reasons = risk + 4, [*reasons, "conflicting consents"]
        if (evidence.get("birth_date") or {}).get("agreement") == "different":
            risk, reasons = risk + 3, [*reasons, "different birth dates"]
        if len(cluster) > 2:
            risk, reasons = risk + min(len(cluster) - 2, 5), [*reasons, f"{len(cluster)} parties"]
        if busy.intersection(cluster):
            risk, reasons = risk + 2, [*reasons, "open orders or cases"]
        if high_tier.intersection(cluster):
            risk, reasons = risk + 2, [*reasons, "high loyalty tier"]
        facets.append(
            {
                "size": len(cluster),
                "kind": cluster_kinds.pop() if len(cluster_kinds) == 1 else "mixed",
                "countries": f",{','.join(countries)}," if countries else "",
                "sources": ",{},".format(
                    ",".join(str(s) for s in sorted(set().union(*(sources[pid] for pid in cluster))))
                ),
                "search_text": _search_text(evidence),
                "risk": risk,
                "risk_reasons": reasons,
            }
        )
    return facets
