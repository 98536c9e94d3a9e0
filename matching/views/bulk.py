"""Bulk merge jobs: the page that follows one while a worker merges (thin: read and render)."""

from __future__ import annotations

from django.contrib.auth.decorators import permission_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from matching.models import BulkMergeJob
from matching.services.bulk import bulk_merge_progress


@require_GET
@permission_required("matching.view_matchsuggestion", raise_exception=True)
def bulk_job_detail(request: HttpRequest, pk: int) -> HttpResponse:
    job = BulkMergeJob.objects.select_related("created_by").filter(pk=pk).first()
    if job is None:
        raise Http404(f"There is no bulk merge #{pk}.")
    context = {"job": job, "progress": bulk_merge_progress(job)}
    if request.htmx:  # the progress block polls every second while the job runs
        response = render(request, "matching/_bulk_progress.html", context)
        if job.is_finished:
            response["HX-Refresh"] = "true"  # once: the finished page lists the refusals
        return response
    return render(request, "matching/bulk_job.html", context)
