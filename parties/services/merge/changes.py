"""The change log a merge writes and an unmerge plays backwards."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from django.db import models

from parties.services.merge.common import plain


class Changes:
    """Rows changed by a merge: ``{"model", "pks", "old": {field: value}, "where": {...}}``
    (undo: set ``old`` on the rows still matching ``where``), link rows added (undo: delete),
    rows created (undo: delete)."""

    def __init__(self) -> None:
        self.updates: list[dict] = []
        self.links_added: list[dict] = []
        self.created: list[dict] = []

    def update(
        self,
        model: type[models.Model],
        pks: Sequence[int],
        *,
        old: Mapping[str, Any],
        new: Mapping[str, Any],
        where: Mapping[str, Any] | None = None,
    ) -> None:
        if not pks:
            return
        model._default_manager.filter(pk__in=list(pks)).update(**new)
        self.updates.append(
            {
                "model": model._meta.label_lower,
                "pks": list(pks),
                "old": {k: plain(v) for k, v in old.items()},
                "where": dict(where or {}),
            }
        )

    def as_json(self) -> dict:
        return {"updates": self.updates, "links_added": self.links_added, "created": self.created}
