"""Touch points of a row: engagements (orders, cases, visits, ...) and memberships."""

from __future__ import annotations

import random
from datetime import date, timedelta
from typing import Any

from parties.demo.entities import _Entity
from parties.demo.places import _COUNTRIES
from parties.demo.randomness import (
    _ENGAGEMENT_START,
    _MEMBERSHIP_START,
    _REFERENCE_DATE,
    _random_date,
    _random_datetime,
)
from parties.demo.rows import _Context

_ENGAGEMENT_COUNT_WEIGHTS: dict[str, tuple[int, ...]] = {
    "ecommerce": (15, 25, 20, 15, 10, 8, 7),
    "pos": (20, 25, 20, 15, 10, 6, 4),
    "support": (50, 28, 12, 5, 3, 1, 1),
    "marketing": (25, 20, 20, 15, 10, 5, 5),
    "crm": (75, 18, 7, 0, 0, 0, 0),
    "erp": (30, 20, 15, 15, 10, 5, 5),
    "loyalty": (40, 20, 15, 10, 8, 4, 3),
}
_TYPE_CODES = {
    "order": "ORD",
    "return": "RET",
    "web_visit": "VIS",
    "case": "CS",
    "email_interaction": "EMI",
    "survey_response": "SRV",
    "event_attendance": "EVT",
}
_TIERS = ("Bronze", "Silver", "Gold", "Platinum")
_TIER_WEIGHTS = (50, 30, 15, 5)


def _next_id(ctx: _Context, engagement_type: str) -> str:
    number = ctx.counters.get(engagement_type, 0) + 1
    ctx.counters[engagement_type] = number
    return f"{_TYPE_CODES[engagement_type]}-{number:07d}"


def _amount(rng: random.Random, low: int, high: int) -> str:
    euros = rng.randint(low, high)
    cents = rng.choice((0, 0, 50, 90, 95, 99, rng.randint(0, 99)))
    return f"{euros}.{cents:02d}"


def _engagement(
    ctx: _Context,
    engagement_type: str,
    channel: str,
    currency: str,
    *,
    status: str = "",
    amount: str | None = None,
    nps: int | None = None,
    attributes: dict[str, Any] | None = None,
) -> dict[str, Any]:
    occurred = _random_datetime(ctx.rng, _ENGAGEMENT_START)
    return {
        "external_id": _next_id(ctx, engagement_type),
        "engagement_type": engagement_type,
        "channel": channel,
        "occurred_at": occurred.isoformat(),
        "status": status,
        "amount": amount,
        "currency": currency if amount is not None else "",
        "nps_score": nps,
        "attributes": attributes or {},
    }


def _engagements(entity: _Entity, ctx: _Context) -> list[dict[str, Any]]:
    kind = ctx.spec.kind
    weights = _ENGAGEMENT_COUNT_WEIGHTS.get(kind)
    if weights is None:
        return []
    rng = ctx.rng
    currency = _COUNTRIES[entity.country].currency
    city = entity.address.city if entity.address else ""
    result: list[dict[str, Any]] = []
    for _ in range(rng.choices(range(len(weights)), weights=weights)[0]):
        roll = rng.random()
        if kind == "ecommerce":
            if roll < 0.55:
                status = rng.choices(
                    ("delivered", "shipped", "cancelled", "returned", "processing"), weights=(70, 10, 8, 7, 5)
                )[0]
                result.append(
                    _engagement(
                        ctx,
                        "order",
                        "web",
                        currency,
                        status=status,
                        amount=_amount(rng, 9, 450),
                        attributes={
                            "items": rng.randint(1, 6),
                            "payment": rng.choice(("card", "paypal", "invoice", "klarna")),
                        },
                    )
                )
            else:
                result.append(
                    _engagement(
                        ctx,
                        "web_visit",
                        "web",
                        currency,
                        attributes={
                            "pages": rng.randint(1, 25),
                            "duration_seconds": rng.randint(5, 1800),
                            "landing_page": rng.choice(
                                ("/", "/sale", "/new-arrivals", "/account", "/product/12345")
                            ),
                        },
                    )
                )
        elif kind == "pos":
            store = f"{city} {rng.choice(('Centre', 'Mall', 'Station', 'Outlet'))}"
            if roll < 0.85:
                result.append(
                    _engagement(
                        ctx,
                        "order",
                        "store",
                        currency,
                        status="completed",
                        amount=_amount(rng, 3, 300),
                        attributes={
                            "store": store,
                            "items": rng.randint(1, 9),
                            "payment": rng.choice(("card", "cash", "mobile")),
                        },
                    )
                )
            else:
                result.append(
                    _engagement(
                        ctx,
                        "return",
                        "store",
                        currency,
                        status="refunded",
                        amount=_amount(rng, 5, 150),
                        attributes={"store": store},
                    )
                )
        elif kind == "support":
            result.append(
                _engagement(
                    ctx,
                    "case",
                    rng.choice(("phone", "email")),
                    currency,
                    status="open" if roll < 0.2 else "closed",
                    attributes={
                        "subject": rng.choice(
                            (
                                "Delivery delayed",
                                "Refund request",
                                "Password reset",
                                "Damaged item",
                                "Invoice question",
                                "Change address",
                            )
                        ),
                        "priority": rng.choice(("low", "normal", "normal", "high")),
                    },
                )
            )
        elif kind == "marketing":
            if roll < 0.75:
                result.append(
                    _engagement(
                        ctx,
                        "email_interaction",
                        "email",
                        currency,
                        attributes={
                            "action": "open" if rng.random() < 0.7 else "click",
                            "campaign": rng.choice(
                                (
                                    "Spring Sale",
                                    "Summer Newsletter",
                                    "Black Friday",
                                    "Welcome Series",
                                    "Winter Collection",
                                )
                            ),
                        },
                    )
                )
            else:
                score = rng.choices(range(11), weights=(2, 1, 1, 2, 2, 4, 6, 12, 20, 25, 25))[0]
                result.append(
                    _engagement(
                        ctx,
                        "survey_response",
                        rng.choice(("email", "web")),
                        currency,
                        status="completed",
                        nps=score,
                        attributes={"survey": rng.choice(("Relationship NPS", "Post-purchase"))},
                    )
                )
        elif kind == "crm":
            result.append(
                _engagement(
                    ctx,
                    "event_attendance",
                    "event",
                    currency,
                    status=rng.choice(("attended", "attended", "registered", "no_show")),
                    attributes={
                        "event": rng.choice(
                            ("Customer Summit", "Product Launch", "Partner Day", "Webinar: What's New")
                        ),
                        "city": city,
                    },
                )
            )
        elif kind == "erp":
            result.append(
                _engagement(
                    ctx,
                    "order",
                    "other",
                    currency,
                    status=rng.choices(("paid", "invoiced", "overdue"), weights=(75, 18, 7))[0],
                    amount=_amount(rng, 20, 5000 if entity.is_org else 900),
                    attributes={"invoice_number": f"INV-{rng.randint(10_000_000, 99_999_999)}"},
                )
            )
        elif kind == "loyalty":
            channel = "store" if roll < 0.6 else "app"
            result.append(
                _engagement(
                    ctx,
                    "order",
                    channel,
                    currency,
                    status="completed",
                    amount=_amount(rng, 5, 250),
                    attributes={"points_earned": rng.randint(5, 250)},
                )
            )
    result.sort(key=lambda item: (item["occurred_at"], item["external_id"]))
    return result


def _memberships(entity: _Entity, ctx: _Context, raw: dict[str, str]) -> list[dict[str, Any]]:
    if entity.is_org:
        return []
    rng, kind = ctx.rng, ctx.spec.kind
    result: list[dict[str, Any]] = []
    loyalty_share = {"loyalty": 0.95, "pos": 0.35, "ecommerce": 0.15}.get(kind, 0.0)
    if rng.random() < loyalty_share:
        started = _random_date(rng, _MEMBERSHIP_START, _REFERENCE_DATE)
        expired = rng.random() < 0.15
        ends = ""
        if expired:
            ends = _random_date(rng, started, _REFERENCE_DATE).isoformat()
        elif rng.random() < 0.3:
            ends = _random_date(
                rng, _REFERENCE_DATE + timedelta(days=1), _REFERENCE_DATE + timedelta(days=730)
            ).isoformat()
        number = raw.get("identifier_value", "") if raw.get("identifier_type") == "loyalty_number" else ""
        result.append(
            {
                "program_type": "loyalty",
                "program_name": "Club Rewards",
                "member_number": number or f"CR{rng.randint(100_000_000, 999_999_999)}",
                "tier": rng.choices(_TIERS, weights=_TIER_WEIGHTS)[0],
                "status": "expired" if expired else "active",
                "started_on": started.isoformat(),
                "ends_on": ends,
                "points_balance": 0 if expired else rng.randint(0, 25_000),
            }
        )
    subscription_share = {"ecommerce": 0.12, "marketing": 0.2}.get(kind, 0.0)
    if rng.random() < subscription_share:
        started = _random_date(rng, date(2020, 1, 1), _REFERENCE_DATE)
        status = rng.choices(("active", "cancelled", "paused"), weights=(75, 20, 5))[0]
        ends = _random_date(rng, started, _REFERENCE_DATE).isoformat() if status == "cancelled" else ""
        result.append(
            {
                "program_type": "subscription",
                "program_name": "Premium Delivery" if kind == "ecommerce" else "Newsletter Plus",
                "member_number": f"SUB-{rng.randint(1_000_000, 9_999_999)}",
                "tier": rng.choice(("Monthly", "Annual")),
                "status": status,
                "started_on": started.isoformat(),
                "ends_on": ends,
                "points_balance": None,
            }
        )
    return result
