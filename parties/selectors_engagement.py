"""Reads of a party's touch points: their totals on the 360 page (the timeline itself:
``selectors_timeline``). Each is one or two indexed queries on (party, occurred_at), whatever
the number of engagements."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from django.db.models import Avg, Count, Max, Q, Sum

from parties.models import Engagement, EngagementType

TIMELINE_PAGE_SIZE = 50
# A cancelled order never happened: it counts neither in the lifetime value nor in the order
# count (here and in segments). The status is free text from the sources: the usual spellings
# are listed rather than compared case-insensitively, which would cost a call per engagement.
CANCELLED_STATUSES = ("cancelled", "canceled", "Cancelled", "Canceled", "CANCELLED", "CANCELED")


def counted_order() -> Q:
    return Q(engagement_type=EngagementType.ORDER) & ~Q(status__in=CANCELLED_STATUSES)


@dataclass
class EngagementTotals:
    """Lifetime value is what the party's orders brought in (cancelled ones left out) minus
    what its returns refunded, per currency (amounts in different currencies are never added
    up). ``order_count`` leaves cancelled orders out too; ``by_type`` counts every row."""

    count: int = 0
    order_count: int = 0
    return_count: int = 0
    lifetime_value: list[tuple[str, Decimal]] = field(default_factory=list)
    last_engagement_at: datetime | None = None
    average_nps: float | None = None
    nps_responses: int = 0
    by_type: list[tuple[str, str, int]] = field(default_factory=list)  # (type, label, count)


def engagement_totals(*, party_id: int) -> EngagementTotals:
    engagements = Engagement.objects.filter(party_id=party_id)
    totals = EngagementTotals()
    counts = dict(engagements.order_by().values_list("engagement_type").annotate(n=Count("pk")))
    totals.by_type = [
        (value, label, counts[value]) for value, label in EngagementType.choices if counts.get(value)
    ]
    totals.count = sum(counts.values())
    totals.return_count = counts.get(EngagementType.RETURN, 0)
    if not totals.count:
        return totals
    figures = engagements.aggregate(
        orders=Count("pk", filter=counted_order()),
        last=Max("occurred_at"),
        nps=Avg("nps_score", filter=Q(engagement_type=EngagementType.SURVEY_RESPONSE)),
        nps_n=Count("nps_score", filter=Q(engagement_type=EngagementType.SURVEY_RESPONSE)),
    )
    totals.order_count = figures["orders"]
    totals.last_engagement_at = figures["last"]
    totals.average_nps = float(figures["nps"]) if figures["nps"] is not None else None
    totals.nps_responses = figures["nps_n"]
    money = (
        engagements.filter(
            engagement_type__in=[EngagementType.ORDER, EngagementType.RETURN], amount__isnull=False
        )
        .exclude(engagement_type=EngagementType.ORDER, status__in=CANCELLED_STATUSES)
        .order_by()
        .values_list("currency")
        .annotate(
            orders=Sum("amount", filter=Q(engagement_type=EngagementType.ORDER)),
            returns=Sum("amount", filter=Q(engagement_type=EngagementType.RETURN)),
        )
    )
    totals.lifetime_value = sorted(
        (
            (currency or "—", (orders or Decimal(0)) - abs(returns or Decimal(0)))
            for currency, orders, returns in money
        ),
        key=lambda item: -item[1],
    )
    return totals


def engagement_types_parse(values: list[str]) -> tuple[list[str], list[str]]:
    """The known engagement types among ``values`` (codes or labels, any case), and the
    values that are none."""
    by_name = {value: value for value in EngagementType.values}
    by_name.update({label.lower(): value for value, label in EngagementType.choices})
    known: list[str] = []
    unknown: list[str] = []
    for raw in values:
        for part in raw.split(","):
            part = part.strip()
            if not part:
                continue
            value = by_name.get(part) or by_name.get(part.lower())
            if value is None:
                unknown.append(part)
            elif value not in known:
                known.append(value)
    return known, unknown
