"""The preference page: a party's consents (channels × purposes) and privacy preferences,
changed by marketing staff with a capture source, every change in the ledger."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from c360.text import sentence, validation_text
from consents.forms import ErasureForm, PreferencesForm
from consents.models import Channel, ConsentStatus
from consents.selectors import consent_grid, party_or_404
from consents.services.ledger import Actor, consent_set, preferences_set
from parties.models import SourceRecord


@require_GET
@permission_required("consents.view_contactpointtypeconsent", raise_exception=True)
def preferences(request: HttpRequest, pk: int) -> HttpResponse:
    party = party_or_404(pk)
    if party.is_merged:
        messages.info(request, f"Party {pk} was merged into party {party.merged_into_id}; "
                               "showing the survivor.")
        return redirect("consents:preferences", pk=party.merged_into_id)
    grid = consent_grid(party_id=pk)
    return render(request, "consents/preferences.html", {
        "party": party, "grid": grid, "form": PreferencesForm(instance=grid.preferences),
        "can_change": request.user.has_perm("consents.change_contactpointtypeconsent"),
        "statuses": ConsentStatus})


@require_POST
@permission_required("consents.change_contactpointtypeconsent", raise_exception=True)
def consent_change(request: HttpRequest, pk: int) -> HttpResponse:
    party = party_or_404(pk)
    try:
        channel, purpose, status = request.POST.get("set", "").split("|")
    except ValueError:
        messages.error(request, "Choose a channel, a purpose and a state.")
        return redirect("consents:preferences", pk=pk)
    try:
        consent_set(party_id=party.pk, channel=channel, purpose=purpose, status=status,
                    capture_source=request.POST.get("capture_source", ""),
                    evidence=request.POST.get("evidence", "")[:2000], actor=Actor.of_user(request.user))
    except ValidationError as exc:
        messages.error(request, f"Not changed — {validation_text(exc)}.")
    else:
        messages.success(request, f"{Channel(channel).label} · {purpose.replace('_', ' ')}: "
                                  f"{ConsentStatus(status).label.lower()} (recorded in the ledger).")
    return redirect("consents:preferences", pk=pk)


@require_POST
@permission_required("consents.change_privacypreference", raise_exception=True)
def preferences_change(request: HttpRequest, pk: int) -> HttpResponse:
    party = party_or_404(pk)
    form = PreferencesForm(request.POST)
    if not form.is_valid():
        problems = "; ".join(f"{form[f].label if f in form.fields else f}: {' '.join(e).rstrip('.')}"
                             for f, e in form.errors.items())
        messages.error(request, f"Not changed — {problems}.")
        return redirect("consents:preferences", pk=pk)
    data = dict(form.cleaned_data)
    source = data.pop("capture_source")
    try:
        preferences_set(party_id=party.pk, changes=data, actor=Actor.of_user(request.user),
                        capture_source=source)
    except ValidationError as exc:
        messages.error(request, sentence(f"not changed — {validation_text(exc)}"))
    else:
        messages.success(request, "Preferences saved (recorded in the ledger).")
    return redirect("consents:preferences", pk=pk)


def _eligibility_form(data):
    from consents.forms import EligibilityForm

    return EligibilityForm(data or None)


@require_GET
@permission_required("consents.view_contactpointtypeconsent", raise_exception=True)
def eligibility(request: HttpRequest) -> HttpResponse:
    from consents.services.eligibility import eligibility_explain, eligible_points, suppressed_points

    form = _eligibility_form(request.GET if "channel" in request.GET else None)
    context = {"form": form}
    if form.is_bound and form.is_valid():
        channel, purpose, on = (form.cleaned_data[k] for k in ("channel", "purpose", "on"))
        context.update(
            eligible=eligible_points(channel=channel, purpose=purpose, on=on).count(),
            suppressed=suppressed_points(channel=channel, purpose=purpose, on=on).count(),
            query=request.GET.urlencode())
        lookup = form.cleaned_data.get("lookup")
        if lookup:
            context["explained"] = [
                (point, eligibility_explain(point, channel=channel, purpose=purpose, on=on))
                for point in form.points_for(lookup)]
            if not context["explained"]:
                from consents.services.erasure import tombstone_erased_on

                context["erased_on"] = tombstone_erased_on(channel=channel, value=lookup)
    return render(request, "consents/eligibility.html", context)


@require_GET
@permission_required("consents.view_contactpointtypeconsent", raise_exception=True)
def eligibility_csv(request: HttpRequest, which: str) -> HttpResponse:
    from django.http import StreamingHttpResponse

    from consents.services.eligibility import eligible_points, suppression_reason, suppression_rows
    from parties.services.csv_export import csv_stream

    form = _eligibility_form(request.GET)
    if not form.is_valid():
        return HttpResponse("Choose a channel, a purpose and a date: " + "; ".join(
            f"{k}: {' '.join(v)}" for k, v in form.errors.items()), status=400, content_type="text/plain")
    channel, purpose, on = (form.cleaned_data[k] for k in ("channel", "purpose", "on"))
    if which == "eligible":
        rows = ((p.party_id, p.party.display_name, channel, p.normalized, p.consent or "none")
                for p in eligible_points(channel=channel, purpose=purpose, on=on).select_related("party")
                .iterator(chunk_size=2000))
        header = ["party_id", "name", "channel", "contact_point", "consent"]
    else:
        rows = ((p.party_id, channel, p.normalized, p.consent or "none",
                 suppression_reason(p, channel=channel, purpose=purpose))
                for p in suppression_rows(channel=channel, purpose=purpose, on=on).iterator(chunk_size=2000))
        header = ["party_id", "channel", "contact_point", "consent", "reason"]
    response = StreamingHttpResponse(csv_stream(header, rows), content_type="text/csv; charset=utf-8")
    name = f"{which}-{channel}-{purpose.code}-{on:%Y-%m-%d}.csv"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


@require_GET
@permission_required("consents.handle_privacy_request", raise_exception=True)
def access_export(request: HttpRequest, pk: int) -> HttpResponse:
    """The subject access export of a party, as a JSON download; recorded in its history."""
    from consents.services.privacy import subject_access_export_recorded

    party = party_or_404(pk)
    text = subject_access_export_recorded(party_id=party.pk, actor=request.user, via="downloaded")
    response = HttpResponse(text, content_type="application/json; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="subject-access-party-{party.pk}.json"'
    return response


@permission_required("consents.erase_party", raise_exception=True)
def erase(request: HttpRequest, pk: int) -> HttpResponse:
    """Erase a customer's personal data (right to be forgotten), after a confirmation that
    says what will go and what stays."""
    from consents.services.erasure import ErasureRefused, erasure_summary, party_erase
    from consents.services.privacy import party_and_merged_ids

    party = party_or_404(pk)
    if party.merged_into_id:
        messages.info(request, f"Party {pk} was merged into party {party.merged_into_id}: erasing the "
                               "customer means erasing the survivor with every party merged into it.")
        return redirect("consents:erase", pk=party.merged_into_id)
    if party.erased_at:
        messages.info(request, f"Party {pk} was already erased on {party.erased_at:%Y-%m-%d}.")
        return redirect("parties:detail", pk=party.pk)
    form = ErasureForm(request.POST or None, party_id=party.pk)
    if request.method == "POST" and form.is_valid():
        try:
            result = party_erase(party_id=party.pk, actor=request.user,
                                 reason=form.cleaned_data["request_reference"])
        except ErasureRefused as exc:
            messages.error(request, sentence(validation_text(exc)))
        else:
            messages.success(request, erasure_summary(result))
        return redirect("parties:detail", pk=party.pk)
    ids = party_and_merged_ids(party.pk)
    return render(request, "consents/erase.html", {
        "party": party, "form": form, "merged_ids": ids[1:],
        "records": SourceRecord.objects.filter(party_id__in=ids).count(),
    })
