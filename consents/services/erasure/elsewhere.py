"""The customer's values outside their own rows: other apps' data (through the erasure
participants those apps registered; matching: its stored records, block keys, labels and
suggestions), and rows that hold values without a link to the party — rejected import lines,
import jobs' errors and the admin's log. Only the person: values found in unlinked rows count
only if they identify someone by themselves (``values.identifying_values``)."""

from __future__ import annotations

from collections.abc import Sequence

from django.contrib.admin.models import LogEntry
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.db.models import Q

from consents.services.erasure.base import ERASED
from consents.services.erasure.values import Redactor, redact_rows
from parties.extensions import ErasureContext, erasure_participants
from parties.models import ImportJob, ImportRejection, Party


def participants_erase(ids: Sequence[int], record_ids: Sequence[int], redactor: Redactor) -> None:
    """The other apps' rows, through the erasure participants they registered."""

    def redact(queryset: models.QuerySet, **columns) -> int:
        return redact_rows(queryset, redactor, **columns)

    ctx = ErasureContext(party_ids=list(ids), record_ids=list(record_ids), redact_rows=redact)
    for participant in erasure_participants():
        participant.erase(ctx)


def _mentioning(model, columns: Sequence[str], needles: Sequence[str]) -> models.QuerySet:
    """Rows of ``model`` where any of the columns contains any of the needles."""
    condition = Q()
    for needle in needles:
        for column in columns:
            condition |= Q(**{f"{column}__icontains": needle})
    return model.objects.filter(condition)


def unlinked_rows_erase(ids: Sequence[int], redactor: Redactor) -> None:
    """Rows that hold values without a link to the party (found by value, and by object for
    the admin's log)."""
    party_type = ContentType.objects.get_for_model(Party)
    LogEntry.objects.filter(content_type=party_type, object_id__in=[str(pk) for pk in ids]).update(
        object_repr=ERASED, change_message=""
    )
    if not redactor.needles:
        return
    for model, columns in (
        (ImportRejection, ["value", "reason"]),
        (ImportJob, ["error"]),
        (LogEntry, ["object_repr", "change_message"]),
    ):
        redact_rows(_mentioning(model, columns, redactor.needles), redactor, text=columns, strict=True)
