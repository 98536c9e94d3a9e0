"""The preference page: a party's consents (channels × purposes) and privacy preferences,
changed by marketing staff with a capture source, every change in the ledger."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from c360.text import sentence
from consents.forms import PreferencesForm
from consents.models import Channel, ConsentStatus
from consents.selectors import consent_grid
from consents.services.ledger import Actor, consent_set, preferences_set
from parties.models import Party


def _party(pk: int) -> Party:
    party = Party.objects.filter(pk=pk).first()
    if party is None:
        raise Http404(f"No party with id {pk}.")
    return party


def _errors(exc: ValidationError) -> str:
    if hasattr(exc, "error_dict"):
        return "; ".join(f"{field.replace('_', ' ')}: {' '.join(msgs)}"
                         for field, msgs in exc.message_dict.items())
    return " ".join(exc.messages)


@require_GET
@permission_required("consents.view_contactpointtypeconsent", raise_exception=True)
def preferences(request: HttpRequest, pk: int) -> HttpResponse:
    party = _party(pk)
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
    party = _party(pk)
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
        messages.error(request, f"Not changed — {_errors(exc)}.")
    else:
        messages.success(request, f"{Channel(channel).label} · {purpose.replace('_', ' ')}: "
                                  f"{ConsentStatus(status).label.lower()} (recorded in the ledger).")
    return redirect("consents:preferences", pk=pk)


@require_POST
@permission_required("consents.change_privacypreference", raise_exception=True)
def preferences_change(request: HttpRequest, pk: int) -> HttpResponse:
    party = _party(pk)
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
        messages.error(request, sentence(f"not changed — {_errors(exc)}"))
    else:
        messages.success(request, "Preferences saved (recorded in the ledger).")
    return redirect("consents:preferences", pk=pk)
