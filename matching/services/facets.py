"""What the merge queue filters and orders suggestions by, computed once when a suggestion is
written (so the queue stays one indexed table scan at 100,000 pending suggestions).

Risk puts first what matters most to the business: clusters whose parties disagree on who
they are (different birth dates), large clusters, parties with open orders or support cases,
and members of a high loyalty tier.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Mapping, Sequence

from django.db.models import Q

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


def suggestion_facets(clusters: Sequence[Sequence[int]],
                      evidences: Sequence[Mapping[str, dict]]) -> list[dict]:
    """For each cluster (party ids) and its evidence: the queue's filter and risk columns."""
    ids = sorted({pid for cluster in clusters for pid in cluster})
    kinds = dict(Party.objects.filter(pk__in=ids).values_list("pk", "kind"))
    sources: dict[int, set[int]] = defaultdict(set)
    for party_id, source_id in SourceRecord.objects.filter(party_id__in=ids).values_list(
            "party_id", "source_system_id").distinct():
        sources[party_id].add(source_id)
    busy = set(Engagement.objects.filter(party_id__in=ids).filter(
        Q(engagement_type=EngagementType.ORDER, status__in=OPEN_ORDER_STATUSES)
        | Q(engagement_type=EngagementType.CASE, status="open")).values_list("party_id", flat=True))
    high_tier = set(Membership.objects.filter(
        party_id__in=ids, status=MembershipStatus.ACTIVE).filter(
        Q(tier__iexact=HIGH_TIERS[0]) | Q(tier__iexact=HIGH_TIERS[1]) | Q(tier__iexact=HIGH_TIERS[2])
        | Q(tier__iexact=HIGH_TIERS[3])).values_list("party_id", flat=True))
    facets = []
    for cluster, evidence in zip(clusters, evidences, strict=True):
        cluster_kinds = {kinds.get(pid, "") for pid in cluster}
        countries = sorted({str(v).upper() for v in (evidence.get("country") or {}).get(
            "values", {}).values() if v})
        risk, reasons = 0, []
        if (evidence.get("birth_date") or {}).get("agreement") == "different":
            risk, reasons = risk + 3, [*reasons, "different birth dates"]
        if len(cluster) > 2:
            risk, reasons = risk + min(len(cluster) - 2, 5), [*reasons, f"{len(cluster)} parties"]
        if busy.intersection(cluster):
            risk, reasons = risk + 2, [*reasons, "open orders or cases"]
        if high_tier.intersection(cluster):
            risk, reasons = risk + 2, [*reasons, "high loyalty tier"]
        facets.append({
            "size": len(cluster),
            "kind": cluster_kinds.pop() if len(cluster_kinds) == 1 else "mixed",
            "countries": f",{','.join(countries)}," if countries else "",
            "sources": ",{},".format(",".join(str(s) for s in sorted(
                set().union(*(sources[pid] for pid in cluster))))),
            "search_text": _search_text(evidence),
            "risk": risk,
            "risk_reasons": reasons,
        })
    return facets
