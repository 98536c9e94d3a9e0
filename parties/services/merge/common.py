"""What the merge, unmerge and split modules share: their refusals, the models they move, and
two small helpers."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from typing import Any

from django.utils import timezone

from parties.models import (
    ContactPointAddress,
    ContactPointEmail,
    ContactPointPhone,
    ContactPointSocial,
    EventKind,
    Party,
)

CONTACT_POINT_MODELS = (ContactPointEmail, ContactPointPhone, ContactPointAddress, ContactPointSocial)
MERGE_KINDS = (EventKind.MERGE, EventKind.AUTO_MERGE)


class MergeRefused(ValueError):
    """The merge, unmerge or split cannot be done as asked; nothing was changed."""


class AlreadyHandled(MergeRefused):
    """Someone else merged (or unmerged) these parties first."""


def plain(value: Any) -> Any:
    """A date or datetime as ISO text, for the JSON of snapshots and change logs."""
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


def parties_touch(party_ids: Iterable[int]) -> None:
    """Mark the parties changed now, for API clients that sync by ``updated_since`` (an unmerge
    restores every value, but the parties did change again)."""
    Party.objects.filter(pk__in=list(party_ids)).update(updated_at=timezone.now())
