"""The merge queue's strip of bulk merges running now (or just finished), linking their pages."""

from __future__ import annotations

from datetime import timedelta

from django import template
from django.db.models import Q
from django.utils import timezone

from matching.models import BulkJobStatus, BulkMergeJob

register = template.Library()

RECENT_MINUTES = 15


@register.inclusion_tag("matching/_bulk_running.html")
def bulk_merges_running() -> dict:
    recent = timezone.now() - timedelta(minutes=RECENT_MINUTES)
    jobs = BulkMergeJob.objects.filter(
        Q(status__in=[BulkJobStatus.QUEUED, BulkJobStatus.RUNNING]) | Q(finished_at__gte=recent)
    ).only("pk", "status", "done", "total", "merged", "finished_at")[:5]
    return {"jobs": list(jobs)}
