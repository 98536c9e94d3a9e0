"""Administrators set the review and auto-merge thresholds, seeing what each would produce, and
switch the standard blocking rules on and off, seeing what each found in the latest run."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from c360.kernel.setting_changes import setting_changes_list
from matching.forms import BlockingRulesForm, ThresholdsForm
from matching.models import MatchSettings
from matching.rules import RULES_BY_CODE
from matching.selectors import threshold_chart
from matching.services.blocking import blocking_rules_overview, match_settings_rules_set
from matching.services.thresholds import THRESHOLDS_SETTING, match_settings_set


@permission_required("matching.view_matchsettings", raise_exception=True)
def thresholds(request: HttpRequest) -> HttpResponse:
    current = MatchSettings.current()
    form = ThresholdsForm(instance=current)
    rules_form = BlockingRulesForm(initial={"rules_on": current.rules_enabled()})
    if request.method == "POST":
        rules = request.POST.get("action") == "rules"
        if not request.user.has_perm("matching.change_matchsettings"):
            what = "blocking rules" if rules else "thresholds"
            messages.error(request, f"Only administrators may change the {what}.")
            return redirect("matching:thresholds")
        if rules:
            rules_form = BlockingRulesForm(request.POST)
            if rules_form.is_valid():
                try:
                    saved = match_settings_rules_set(codes_off=rules_form.codes_off(), user=request.user)
                except ValidationError as exc:
                    rules_form.add_error("rules_on", exc)
                else:
                    _rules_saved_messages(request, saved)
                    return redirect(f"{request.path}#blocking-rules")
        else:
            form = ThresholdsForm(request.POST, instance=current)
            if form.is_valid():
                try:
                    match_settings_set(
                        review_threshold=form.cleaned_data["review_threshold"],
                        auto_merge_threshold=form.cleaned_data["auto_merge_threshold"],
                        user=request.user,
                    )
                except ValidationError as exc:
                    form.add_error(None, exc)
                else:
                    messages.success(request, "Thresholds saved; the next match run uses them.")
                    return redirect("matching:thresholds")
    can_change = request.user.has_perm("matching.change_matchsettings")
    # Those who may not change the thresholds read them: no fields they could edit in vain.
    return render(
        request,
        "matching/thresholds.html",
        {
            "form": form if can_change else None,
            "current": current,
            "chart": threshold_chart(current),
            "rules_form": rules_form,
            "rules": blocking_rules_overview(),
            "can_change": can_change,
            "changes": setting_changes_list(setting=THRESHOLDS_SETTING),
        },
    )


def _rules_saved_messages(request: HttpRequest, saved: MatchSettings) -> None:
    off = [RULES_BY_CODE[code] for code in saved.rules_off]
    if off:
        names = "; ".join(_lower_first(rule.label) for rule in off)
        messages.success(
            request,
            f"Blocking rules saved: {len(off)} switched off ({names}). "
            "They apply from the next match run; a full run rewrites every "
            "party's keys.",
        )
    else:
        messages.success(
            request,
            "Blocking rules saved: every standard rule is on. They apply "
            "from the next match run; a full run rewrites every party's keys.",
        )
    strong = [_lower_first(rule.label) for rule in off if rule.strong]
    if strong:
        messages.warning(
            request,
            f"Strong rule switched off ({'; '.join(strong)}): two customers "
            "sharing such a value are now compared only when another rule "
            "brings them together.",
        )


def _lower_first(text: str) -> str:
    return text[:1].lower() + text[1:]
