"""Fixed date ranges (never the clock) and the small random-draw helpers used everywhere."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta

_REFERENCE_DATE = date(2026, 6, 30)
_RANGE_END = datetime(2026, 6, 30, 23, 59, 59, tzinfo=UTC)
_UPDATED_START = datetime(2023, 1, 1, tzinfo=UTC)
_ENGAGEMENT_START = datetime(2022, 1, 1, tzinfo=UTC)
_BIRTH_START = date(1940, 1, 1)
_BIRTH_END = date(2006, 12, 31)
_MEMBERSHIP_START = date(2016, 1, 1)


def _digits(rng: random.Random, count: int, first: str = "0123456789") -> str:
    if count <= 0:
        return ""
    return rng.choice(first) + "".join(rng.choice("0123456789") for _ in range(count - 1))


def _weighted_index(rng: random.Random, weights: list[float]) -> int:
    total = sum(weights)
    if total <= 0:
        return rng.randrange(len(weights))
    return rng.choices(range(len(weights)), weights=weights)[0]


def _random_datetime(rng: random.Random, start: datetime, end: datetime = _RANGE_END) -> datetime:
    span = int((end - start).total_seconds())
    return start + timedelta(seconds=rng.randrange(span + 1))


def _random_date(rng: random.Random, start: date, end: date) -> date:
    return start + timedelta(days=rng.randrange((end - start).days + 1))
