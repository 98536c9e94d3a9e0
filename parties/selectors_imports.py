"""Reads for import pages and reports."""

from __future__ import annotations

from collections.abc import Iterator

from django.db.models import QuerySet

from parties.models import DataQualityIssue, ImportJob, ImportRejection


def import_job_list() -> QuerySet[ImportJob]:
    return ImportJob.objects.select_related("source_system", "created_by")


def import_report_rows(*, job: ImportJob) -> Iterator[tuple]:
    """Every problem of a job as (line, column, value, reason, outcome), in line order:
    rejected rows and the values that were kept but could not be standardized."""
    rejections = (
        ImportRejection.objects.filter(job=job)
        .order_by("line", "id")
        .values_list("line", "column", "value", "reason")
        .iterator(chunk_size=2000)
    )
    issues = (
        DataQualityIssue.objects.filter(job=job)
        .order_by("line", "id")
        .values_list("line", "field", "value", "reason")
        .iterator(chunk_size=2000)
    )
    rejected = [(*r, "row rejected") for r in rejections]
    from parties.services.imports.mapping import mapping_source_column

    def column(field: str) -> str:
        source = mapping_source_column(job.mapping, field)
        return source if source == field else f"{source} ({field})"

    kept = (
        (line, column(field), value, reason, "value kept, not standardized")
        for line, field, value, reason in issues
    )
    # merge two line-ordered streams; rejections per job are few, issues may be many
    index = 0
    for issue in kept:
        while index < len(rejected) and rejected[index][0] <= (issue[0] or 0):
            yield rejected[index]
            index += 1
        yield issue
    yield from rejected[index:]
