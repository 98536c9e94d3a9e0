"""A party's history (the audit trail) with unmerge, splitting a party, steward overrides of
golden values, and the survivorship rules page. Thin: parse, call a service, render."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from c360.kernel.params import BadParameter, parse_id, parse_ids, parse_text
from c360.kernel.setting_changes import setting_changes_list
from c360.kernel.text import sentence, validation_text
from parties.forms import SurvivorshipRulesForm
from parties.models import Party, PartyEvent
from parties.selectors import party_history
from parties.services.merge import MergeRefused, party_split, party_unmerge
from parties.services.overrides import golden_override_remove, golden_override_set
from parties.services.survivorship import SURVIVORSHIP_SETTING, survivorship_rules_save


def _party_or_404(pk: int) -> Party:
    party = Party.objects.filter(pk=pk).first()
    if party is None:
        raise Http404(f"No party with id {pk}.")
    return party


@require_GET
@permission_required("parties.view_partyevent", raise_exception=True)
def history(request: HttpRequest, pk: int) -> HttpResponse:
    party = _party_or_404(pk)
    return render(
        request, "parties/party_history.html", {"party": party, "events": party_history(party_id=pk)}
    )


@require_POST
@permission_required("parties.merge_party", raise_exception=True)
def unmerge(request: HttpRequest, pk: int, event_id: int) -> HttpResponse:
    if not PartyEvent.objects.filter(pk=event_id, parties=pk).exists():
        raise Http404(f"Party {pk} has no event #{event_id}.")
    answers = request.POST.getlist("why")
    why = answers[0] if len(answers) == 1 else ""  # both buttons' answers at once is no answer
    if why not in UNMERGE_CHOICES:
        messages.error(
            request,
            f'Merge #{event_id} not undone — choose "These are different customers" or "Undo for now".',
        )
        return redirect("parties:history", pk=pk)
    try:
        event = party_unmerge(
            event_id=event_id,
            actor=request.user,
            different_customers=why == "different",
            reason=parse_text(request.POST.get("reason"), name="reason", max_length=500),
        )
    except (MergeRefused, BadParameter) as exc:
        messages.error(request, sentence(exc))
    else:
        restored = ", ".join(f"#{p}" for p in event.after)
        messages.success(
            request,
            f"Merge #{event_id} undone: parties {restored} are back as they were, " + UNMERGE_CHOICES[why],
        )
    return redirect("parties:history", pk=pk)


UNMERGE_CHOICES = {  # the form's "why" → what the steward is told happened
    "different": "and they are recorded as not a match: they will not be suggested together again "
    "unless their data changes.",
    "undo": "and nothing is recorded about them: the next match run may suggest them together again.",
}


@require_POST
@permission_required("parties.merge_party", raise_exception=True)
def split(request: HttpRequest, pk: int) -> HttpResponse:
    try:
        record_ids = parse_ids(request.POST.getlist("records"), name="records")
        event = party_split(
            party_id=pk,
            record_ids=record_ids,
            actor=request.user,
            reason=parse_text(request.POST.get("reason"), name="reason", max_length=500),
        )
    except (MergeRefused, BadParameter) as exc:
        messages.error(request, sentence(exc))
        return redirect("parties:detail", pk=pk)
    new = event.changes["new_party"]
    messages.success(
        request,
        f"Split {len(record_ids)} source record{'s' if len(record_ids) != 1 else ''} "
        f"into the new party #{new}.",
    )
    return redirect("parties:detail", pk=new)


@require_POST
@permission_required("parties.add_goldenoverride", raise_exception=True)
def override(request: HttpRequest, pk: int) -> HttpResponse:
    try:
        attribute = parse_text(request.POST.get("attribute"), name="attribute", max_length=64)
        if request.POST.get("remove"):
            golden_override_remove(party_id=pk, attribute=attribute, actor=request.user)
            messages.success(
                request,
                f"Override of {attribute.replace('_', ' ')} removed; the survivorship rule decides again.",
            )
        else:
            golden_override_set(
                party_id=pk,
                attribute=attribute,
                actor=request.user,
                value=parse_text(request.POST.get("value"), name="value", strip=False),
                reason=parse_text(request.POST.get("reason"), name="reason"),
            )
            messages.success(
                request,
                f"{attribute.replace('_', ' ').capitalize()} is now pinned until the override is removed.",
            )
    except ValidationError as exc:
        messages.error(request, f"Override not saved — {validation_text(exc)}.")
    except BadParameter as exc:
        messages.error(request, f"Override not saved — {exc}")
    except Party.DoesNotExist as exc:
        raise Http404(f"No party with id {pk}.") from exc
    except MergeRefused as exc:
        raise Http404(str(exc)) from exc
    return redirect("parties:detail", pk=pk)


@require_http_methods(["GET", "POST"])
@permission_required("parties.view_survivorshiprule", raise_exception=True)
def survivorship(request: HttpRequest) -> HttpResponse:
    can_change = request.user.has_perm("parties.change_survivorshiprule")
    form = SurvivorshipRulesForm(request.POST if request.method == "POST" else None)
    if request.method == "POST":
        if not can_change:
            return HttpResponse("Only administrators may change survivorship rules.", status=403)
        if form.is_valid():
            changed = survivorship_rules_save(rules=form.cleaned_data, user=request.user)
            messages.success(
                request,
                f"Saved. {changed} rule{'s' if changed != 1 else ''} changed; "
                "golden records are being recomputed in the background.",
            )
            return redirect(reverse("parties:survivorship"))
    return render(
        request,
        "parties/survivorship.html",
        {
            "form": form,
            "can_change": can_change,
            "changes": setting_changes_list(setting=SURVIVORSHIP_SETTING),
        },
    )


@require_POST
def contact_point(request: HttpRequest, pk: int) -> HttpResponse:
    """Add, correct, verify or deactivate a contact point of the party (email or phone)."""
    from parties.services import contact_points as cp

    action, kind = request.POST.get("action", ""), request.POST.get("kind", "")
    needed = "add" if action == "add" else "change"
    if not request.user.has_perm(f"parties.{needed}_contactpoint{kind if kind in cp.MODELS else 'email'}"):
        return HttpResponse("Your role may not edit contact points.", status=403)
    try:
        point_id = parse_id(request.POST.get("point"), name="point")
        value = parse_text(request.POST.get("value"), name="value", max_length=1000)
        region = parse_text(request.POST.get("region"), name="region", max_length=10)
        if action == "add":
            point = cp.contact_point_add(
                party_id=pk,
                kind=kind,
                value=value,
                usage=parse_text(request.POST.get("usage"), name="usage", max_length=20) or "home",
                region=region,
                actor=request.user,
            )
            done = f"added {point.normalized}"
        elif action in ("correct", "verify", "deactivate") and point_id is not None:
            model = cp._model(kind)
            if not model.objects.filter(pk=point_id, party_id=pk).exists():
                raise Http404(f"Party {pk} has no {kind} #{point_id}.")
            if action == "correct":
                point = cp.contact_point_correct(
                    kind=kind, point_id=point_id, actor=request.user, value=value, region=region
                )
                done = f"corrected to {point.normalized}"
            elif action == "verify":
                point = cp.contact_point_verify(kind=kind, point_id=point_id, actor=request.user)
                done = f"{point.normalized} marked verified"
            else:
                point = cp.contact_point_deactivate(
                    kind=kind,
                    point_id=point_id,
                    actor=request.user,
                    reason=parse_text(request.POST.get("reason"), name="reason", max_length=300),
                )
                done = f"{point.normalized} deactivated (kept, no longer used)"
        else:
            messages.error(request, "Choose add, correct, verify or deactivate, and a contact point.")
            return redirect("parties:detail", pk=pk)
    except ValidationError as exc:
        messages.error(request, f"Contact point not changed — {validation_text(exc)}.")
    except BadParameter as exc:
        messages.error(request, f"Contact point not changed — {exc}")
    except MergeRefused as exc:
        raise Http404(str(exc)) from exc
    else:
        messages.success(request, sentence(f"{kind} {done}"))
    return redirect("parties:detail", pk=pk)
