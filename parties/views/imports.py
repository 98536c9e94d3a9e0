"""Import pages: upload, map columns, watch progress, read the report, cancel, retry."""

from __future__ import annotations

from pathlib import Path

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from parties.extensions import ImportKind, import_kind_get, import_kinds_for
from parties.forms_imports import ImportMappingForm, ImportUploadForm
from parties.models import ImportJob, ImportStatus
from parties.models.sources import DateOrder
from parties.selectors_imports import import_job_list, import_report_rows
from parties.services.csv_export import csv_stream
from parties.services.imports.dry_run import (
    import_job_dry_run_abandoned,
    import_job_dry_run_progress,
    import_job_dry_run_request,
)
from parties.services.imports.jobs import (
    IgnoredColumnsError,
    ImportJobError,
    import_job_cancel,
    import_job_preview,
    import_job_progress,
    import_job_retry,
    import_job_samples,
    import_job_start,
)
from parties.services.imports.mapping import MappingError, mapping_ignored_warnings
from parties.services.imports.readers import ImportFileError
from parties.services.imports.submit import import_submit

# Who may do what: administrators (the generic import permissions) with every job; anyone else
# with the jobs of the kinds they may import (marketing staff: consent lists).
VIEW, RUN, CONTROL = "parties.view_importjob", "parties.add_importjob", "parties.change_importjob"


def _allowed_kinds(request: HttpRequest) -> list[ImportKind]:
    kinds = import_kinds_for(request.user)
    if not kinds and not request.user.has_perm(VIEW):
        raise PermissionDenied("Your role may not import files.")
    return kinds


def _may(user, job: ImportJob, generic_perm: str) -> bool:
    if user.has_perm(generic_perm):
        return True
    try:
        kind = import_kind_get(job.kind)
    except KeyError:
        return False
    return kind.permission != RUN and user.has_perm(kind.permission)


def _job(request: HttpRequest, pk: int, generic_perm: str, queryset=None) -> ImportJob:
    job = get_object_or_404(queryset if queryset is not None else ImportJob.objects.all(), pk=pk)
    if not _may(request.user, job, generic_perm):
        raise PermissionDenied(f"Your role may not do this with import #{job.pk} ({job.kind}).")
    return job


@require_GET
def import_list(request: HttpRequest) -> HttpResponse:
    kinds = _allowed_kinds(request)
    jobs = import_job_list()
    if not request.user.has_perm(VIEW):
        jobs = jobs.filter(kind__in=[k.name for k in kinds])
    return render(request, "parties/imports/list.html", {"jobs": jobs[:200], "may_upload": bool(kinds)})


@require_GET
def import_template(request: HttpRequest, kind: str) -> FileResponse:
    """The example file of a kind: the canonical template, ready to fill in."""
    try:
        import_kind = import_kind_get(kind)
    except KeyError as exc:
        raise Http404(str(exc)) from exc
    if not (request.user.has_perm(VIEW) or request.user.has_perm(import_kind.permission)):
        raise PermissionDenied("Your role may not import this kind of file.")
    path = Path(settings.BASE_DIR) / import_kind.example_path
    return FileResponse(path.open("rb"), as_attachment=True, filename=path.name, content_type="text/csv")


@require_http_methods(["GET", "POST"])
def import_new(request: HttpRequest) -> HttpResponse:
    kinds = import_kinds_for(request.user)
    if not kinds:
        raise PermissionDenied("Your role may not import files.")
    form = ImportUploadForm(
        request.POST or None,
        request.FILES or None,
        kinds=kinds,
        may_add_source=request.user.has_perm("parties.add_sourcesystem"),
    )
    if request.method == "POST":
        refused = getattr(request, "upload_refused", "")
        if refused:
            form.is_valid()
            form.errors["file"] = form.error_class([refused])  # instead of "field is required"
        elif form.is_valid():
            job = _create_job(request, form)
            if job is not None:
                return redirect("parties:import_mapping", pk=job.pk)
    return render(request, "parties/imports/new.html", {"form": form, "kinds": kinds})


def _create_job(request: HttpRequest, form: ImportUploadForm) -> ImportJob | None:
    upload = form.cleaned_data["file"]
    # A new source system is only named here; the import's start (on the mapping page)
    # registers it.
    try:
        return import_submit(
            stream=upload,
            original_name=upload.name,
            source=form.cleaned_data.get("source"),
            new_source=form.new_source_settings(),
            kind=form.cleaned_data["kind"],
            user=request.user,
        )
    except ImportFileError as exc:
        form.add_error("file", f"{exc} Nothing was imported.")
    except ImportJobError as exc:  # the source system: the new one named, or the one chosen
        field = "new_source" if form.new_source_settings() is not None else "source"
        form.add_error(field, f"{str(exc)[:1].upper()}{str(exc)[1:]}.")
    return None


@require_http_methods(["GET", "POST"])
def import_mapping(request: HttpRequest, pk: int) -> HttpResponse:
    job = _job(request, pk, RUN, ImportJob.objects.select_related("source_system"))
    if job.status != ImportStatus.DRAFT:
        return redirect(job)
    kind = import_kind_get(job.kind)
    if len(job.headers) > settings.C360_IMPORT_MAX_COLUMNS:  # a draft uploaded before the limit
        error = (
            f"{job.original_name} has {len(job.headers):,} columns; at most "
            f"{settings.C360_IMPORT_MAX_COLUMNS:,} can be imported. Discard this upload."
        )
        return render(
            request,
            "parties/imports/mapping.html",
            {"job": job, "kind": kind, "too_wide": True, "error": error},
        )
    form = ImportMappingForm(request.POST or None, headers=job.headers, kind=kind, mapping=job.mapping)
    error, unconfirmed, confirmed = "", [], set(request.POST.getlist("confirm_ignored"))
    samples = import_job_samples(job)
    mapping = job.mapping
    if request.method == "POST" and request.POST.get("action") == "dry_run":
        if form.is_valid():
            mapping = form.mapping()
            try:
                import_job_dry_run_request(job=job, mapping=mapping)
            except (MappingError, ImportJobError) as exc:
                error = f"Not previewed: {exc}"
            else:
                messages.info(request, f"Preview of import #{job.pk} queued: nothing will be written.")
                return redirect("parties:import_mapping", pk=job.pk)
    elif request.method == "POST" and form.is_valid():
        mapping = form.mapping()
        try:
            import_job_start(
                job=job,
                mapping=mapping,
                save_mapping=form.cleaned_data["save_mapping"],
                confirmed_ignored=confirmed,
            )
        except IgnoredColumnsError as exc:
            unconfirmed = exc.columns
            error = (
                f"Not started: {len(exc.columns)} ignored column"
                f"{'s look' if len(exc.columns) > 1 else ' looks'} like customer data. "
                "Map each marked column below, or tick “ignore it anyway”."
            )
        except (MappingError, ImportJobError) as exc:
            error = f"Not started: {exc}"
        else:
            messages.success(request, f"Import #{job.pk} started.")
            return redirect(job)
    warnings = {w.column: w for w in mapping_ignored_warnings(mapping, headers=job.headers, samples=samples)}
    preview = import_job_preview(job, limit=8)
    return render(
        request,
        "parties/imports/mapping.html",
        {
            "job": job,
            "form": form,
            "kind": kind,
            "error": error,
            "columns": form.columns_for_template(samples, warnings, confirmed),
            "warnings": list(warnings.values()),
            "unconfirmed": unconfirmed,
            **_dry_run_context(job),
            "new_source_date_order": DateOrder(job.new_source["date_order"]).label
            if job.new_source.get("date_order") in DateOrder.values
            else "",
            # cells in header order, looked up once per cell: the page is linear in the columns
            "preview": [
                (row.line, [row.values.get(h, "") for h in job.headers] if row.values else [], row.error)
                for row in preview
            ],
        },
    )


def _dry_run_context(job: ImportJob) -> dict:
    from parties.models.imports import DryRunStatus

    report = job.dry_run_report or {}
    progress = import_job_dry_run_progress(job)
    rows_read = progress.get("rows_read", 0) if job.dry_run_status == DryRunStatus.RUNNING else 0
    total = report.get("rows_total") or job.rows_total or 0
    return {
        "dry_run": report,
        "dry_run_active": job.dry_run_status in (DryRunStatus.QUEUED, DryRunStatus.RUNNING),
        "dry_run_abandoned": import_job_dry_run_abandoned(job),
        "dry_run_rows_read": rows_read,
        "dry_run_percent": min(99, int(100 * rows_read / total)) if total else 0,
        "dry_run_mapping_changed": bool(report.get("mapping")) and report.get("mapping") != job.mapping,
    }


@require_GET
def import_dry_run(request: HttpRequest, pk: int) -> HttpResponse:
    """The draft's preview: its progress while it runs (polled), then its report."""
    job = _job(request, pk, RUN)
    return render(request, "parties/imports/_dry_run.html", {"job": job, **_dry_run_context(job)})


def _detail_context(job: ImportJob) -> dict:
    return {"job": job, "progress": import_job_progress(job)}


@require_GET
def import_detail(request: HttpRequest, pk: int) -> HttpResponse:
    job = _job(request, pk, VIEW, ImportJob.objects.select_related("source_system", "created_by"))
    if job.status == ImportStatus.DRAFT and _may(request.user, job, RUN):
        return redirect("parties:import_mapping", pk=job.pk)
    return render(
        request,
        "parties/imports/detail.html",
        {
            **_detail_context(job),
            "may_control": _may(request.user, job, CONTROL),
            "rejections": job.rejections.all()[:100],
            "issues": job.quality_issues.select_related("source_record")[:100],
        },
    )


@require_GET
def import_progress(request: HttpRequest, pk: int) -> HttpResponse:
    job = _job(request, pk, VIEW)
    response = render(request, "parties/imports/_progress.html", _detail_context(job))
    if job.is_finished and request.GET.get("polling"):
        response["HX-Refresh"] = "true"  # once: the finished page shows the full report
    return response


@require_GET
def import_report_csv(request: HttpRequest, pk: int) -> StreamingHttpResponse:
    job = _job(request, pk, VIEW)
    response = StreamingHttpResponse(
        csv_stream(["line", "column", "value", "reason", "outcome"], import_report_rows(job=job)),
        content_type="text/csv; charset=utf-8",
    )
    response["Content-Disposition"] = f'attachment; filename="import-{job.pk}-report.csv"'
    return response


@require_POST
def import_cancel(request: HttpRequest, pk: int) -> HttpResponse:
    job = _job(request, pk, CONTROL)
    try:
        job = import_job_cancel(job=job)
        messages.info(request, f"Import #{job.pk}: {job.get_status_display().lower()}.")
    except ImportJobError as exc:
        messages.error(request, str(exc))
    return redirect(job)


@require_POST
def import_retry(request: HttpRequest, pk: int) -> HttpResponse:
    job = _job(request, pk, CONTROL)
    try:
        import_job_retry(job=job)
        messages.success(
            request, f"Import #{job.pk} queued again; it continues after line {job.cursor_line}."
        )
    except ImportJobError as exc:
        messages.error(request, str(exc))
    return redirect(job)
