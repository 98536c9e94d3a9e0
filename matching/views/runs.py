"""Match runs: start one, follow its progress phase by phase."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_POST

from c360.kernel.text import sentence
from matching.models import MatchRun
from matching.selectors import run_partner_caps, run_progress
from matching.services.blocking import rules_measured_run
from matching.services.runs import FullRunUnderway, NoModel, match_run_full_start


@require_POST
@permission_required("matching.add_matchrun", raise_exception=True)
def match_run_start(request: HttpRequest) -> HttpResponse:
    try:
        run = match_run_full_start()
    except NoModel as exc:
        messages.error(request, sentence(exc))
        return redirect("matching:suggestions")
    except FullRunUnderway as exc:
        messages.info(request, sentence(exc))
        return redirect("matching:suggestions")
    messages.success(request, f"{run} started.")
    return redirect("matching:run_detail", pk=run.pk)


@require_GET
@permission_required("matching.view_matchrun", raise_exception=True)
def run_list(request: HttpRequest) -> HttpResponse:
    runs = MatchRun.objects.select_related("model")[:50]
    return render(request, "matching/run_list.html", {"runs": runs})


@require_GET
@permission_required("matching.view_matchrun", raise_exception=True)
def run_detail(request: HttpRequest, pk: int) -> HttpResponse:
    run = get_object_or_404(MatchRun.objects.select_related("model"), pk=pk)
    context = {
        "run": run,
        "progress": run_progress(run),
        "rules_run": rules_measured_run(run),
        "chunks": run.chunks.order_by("phase", "index")[:200],
        "partner_caps": run_partner_caps(run) if run.chunks_over_budget else None,
    }
    if request.htmx:
        return render(request, "matching/_run_progress.html", context)
    return render(request, "matching/run_detail.html", context)
