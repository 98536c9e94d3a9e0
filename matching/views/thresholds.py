"""Administrators set the review and auto-merge thresholds, seeing what each would produce."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from matching.forms import ThresholdsForm
from matching.models import MatchSettings
from matching.selectors import threshold_chart


@permission_required("matching.view_matchsettings", raise_exception=True)
def thresholds(request: HttpRequest) -> HttpResponse:
    current = MatchSettings.current()
    if request.method == "POST":
        if not request.user.has_perm("matching.change_matchsettings"):
            messages.error(request, "Only administrators may change the thresholds.")
            return redirect("matching:thresholds")
        form = ThresholdsForm(request.POST, instance=current)
        if form.is_valid():
            saved = form.save(commit=False)
            saved.updated_by = request.user
            saved.save()
            messages.success(request, "Thresholds saved; the next match run uses them.")
            return redirect("matching:thresholds")
    else:
        form = ThresholdsForm(instance=current)
    return render(request, "matching/thresholds.html",
                  {"form": form, "current": current, "chart": threshold_chart(current),
                   "can_change": request.user.has_perm("matching.change_matchsettings")})
