"""The steward's training page: judge the pairs the active learner asks about, then train."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from c360.kernel.params import BadParameter, parse_id
from c360.kernel.text import sentence
from matching.fields import FIELDS, source_record_record
from matching.models import Label, MatcherModel, TrainingPair
from matching.services.quality import second_reviews_waiting
from matching.services.training import (
    MIN_DISTINCT_LABELS,
    MIN_MATCH_LABELS,
    TooFewLabels,
    label_counts,
    labels_check,
    matcher_activate,
    training_pair_answer,
    training_pair_next,
    training_pairs_refresh_request,
    training_pairs_waiting,
    training_queue_top_up,
    training_refresh_pending,
)
from matching.tasks import train_task


def _display(standardized: dict) -> dict[str, str]:
    """The values as the steward knows them (original case); comparison uses the matcher's."""
    attributes = standardized.get("attributes") or {}
    address = standardized.get("address") or {}
    identifier = standardized.get("identifier") or {}
    return {
        "given_name": attributes.get("given_name", ""),
        "family_name": attributes.get("family_name", ""),
        "organization_name": attributes.get("organization_name", ""),
        "birth_date": attributes.get("birth_date", ""),
        "emails": ", ".join(standardized.get("emails") or []),
        "phones": ", ".join(standardized.get("phones") or []),
        "address_line1": address.get("line1", ""),
        "city": address.get("city", ""),
        "postal_code": address.get("postal_code", ""),
        "country": address.get("country", ""),
        "identifiers": f"{identifier.get('type', '').replace('_', ' ')} {identifier.get('raw', '')}"
        if identifier
        else "",
    }


def _comparison(pair: TrainingPair) -> list[dict]:
    a = source_record_record(pair.record_a.standardized)
    b = source_record_record(pair.record_b.standardized)
    show_a, show_b = _display(pair.record_a.standardized), _display(pair.record_b.standardized)
    return [
        {
            "field": f.replace("_", " "),
            "a": show_a[f],
            "b": show_b[f],
            "same": a[f] == b[f] and a[f] is not None,
            "missing": a[f] is None or b[f] is None,
        }
        for f in FIELDS
    ]


@require_GET
@permission_required("matching.add_traininglabel", raise_exception=True)
def training_page(request: HttpRequest) -> HttpResponse:
    pair = training_pair_next()  # from the precomputed queue: nothing is computed here
    training_queue_top_up()  # a worker refills it before it runs dry
    matches, distincts = label_counts()
    context = {
        "pair": pair,
        "rows": _comparison(pair) if pair else [],
        "matches": matches,
        "distincts": distincts,
        "min_match": MIN_MATCH_LABELS,
        "min_distinct": MIN_DISTINCT_LABELS,
        "can_train": matches >= MIN_MATCH_LABELS and distincts >= MIN_DISTINCT_LABELS,
        "model": MatcherModel.objects.filter(is_active=True).first(),
        "waiting": pair is None and training_refresh_pending(),
        "pending": training_pairs_waiting(),
        "models": MatcherModel.objects.select_related("trained_by")[:10],
        "second_reviews": (
            second_reviews_waiting(user=request.user)
            if request.user.has_perm("matching.change_matchsuggestion")
            else 0
        ),
    }
    template = "matching/_training_pair.html" if request.htmx else "matching/training.html"
    response = render(request, template, context)
    if request.htmx and pair is not None:
        response["HX-Refresh"] = "true"  # a pair arrived: show the full page with its buttons
    return response


@require_POST
@permission_required("matching.add_traininglabel", raise_exception=True)
def training_answer(request: HttpRequest) -> HttpResponse:
    label = request.POST.get("label", "")
    if label not in Label.values:
        messages.error(request, f"Unknown answer {label!r}.")
        return redirect("matching:training")
    try:
        pair_id = parse_id(request.POST.get("pair"), name="pair", required=True)
        training_pair_answer(pair_id=pair_id, label=label, user=request.user)
    except (BadParameter, TrainingPair.DoesNotExist):
        messages.error(request, "That pair is no longer waiting for an answer.")
        return redirect("matching:training")
    training_queue_top_up()
    return redirect("matching:training")


@require_POST
@permission_required("matching.add_traininglabel", raise_exception=True)
def training_refresh(request: HttpRequest) -> HttpResponse:
    if training_pairs_refresh_request():
        messages.info(request, "Looking for the pairs the matcher is least sure about…")
    else:
        messages.info(
            request,
            "Already looking for the pairs the matcher is least sure about; "
            "they appear here when a worker has found them.",
        )
    return redirect("matching:training")


@require_POST
@permission_required("matching.add_matchermodel", raise_exception=True)
def training_train(request: HttpRequest) -> HttpResponse:
    try:
        labels_check()
    except TooFewLabels as exc:
        messages.error(request, sentence(exc))
        return redirect("matching:training")
    user_id = request.user.pk
    transaction.on_commit(lambda: train_task.delay(user_id))
    messages.success(request, "Training started on a worker; the new model becomes active when it is done.")
    return redirect("matching:training")


@require_POST
@permission_required("matching.change_matchermodel", raise_exception=True)
def model_activate(request: HttpRequest, pk: int) -> HttpResponse:
    """Roll back (or forward) to a stored model version; the next run uses it."""
    try:
        model = matcher_activate(model_id=pk)
    except MatcherModel.DoesNotExist:
        messages.error(request, f"There is no model v{pk}.")
    else:
        messages.success(request, f"{model} is active again; the next match run uses it.")
    return redirect("matching:training")
