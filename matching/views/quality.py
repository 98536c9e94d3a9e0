"""Steward quality: the administrators' page (seed known-answer pairs, sample decisions for a
blind second review, each steward's agreement) and the stewards' second-review page."""

from __future__ import annotations

import io

from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from c360.kernel.params import BadParameter, parse_id
from c360.kernel.text import sentence
from matching.fields import FIELDS
from matching.models import Label
from matching.services.quality import (
    QualityError,
    known_answers_seed_from_decisions,
    known_answers_seed_from_truth,
    quality_checks_sync,
    quality_counts,
    second_review_answer,
    second_review_next,
    second_reviews_sample,
    second_reviews_waiting,
    steward_agreement,
    stewards,
)

MAX_SEED = 500
# People-facing names of the matcher's fields (its values are folded: lower case, no accents)
FIELD_LABELS = {
    "given_name": "Given name",
    "family_name": "Family name",
    "organization_name": "Organization",
    "birth_date": "Birth date",
    "emails": "Emails",
    "phones": "Phones",
    "address_line1": "Street",
    "city": "City",
    "postal_code": "Postal code",
    "country": "Country",
    "identifiers": "Identifiers",
}


def _count(request: HttpRequest) -> int:
    """The number of pairs asked for (1 to MAX_SEED), or BadParameter naming the field (the
    digits 0-9 only: "²" is a digit to ``str.isdigit`` but no number to ``int``)."""
    return parse_id(request.POST.get("count"), name="count", required=True, maximum=MAX_SEED)


@require_GET
@permission_required("matching.change_matchsettings", raise_exception=True)
def quality_page(request: HttpRequest) -> HttpResponse:
    quality_checks_sync()  # answers given in the queue since the last look
    return render(
        request,
        "matching/quality.html",
        {
            "rows": steward_agreement(),
            "counts": quality_counts(),
            "stewards": stewards(),
            "max_seed": MAX_SEED,
        },
    )


@require_POST
@permission_required("matching.change_matchsettings", raise_exception=True)
def quality_seed(request: HttpRequest) -> HttpResponse:
    try:
        count = _count(request)
        if request.POST.get("source") == "truth":
            upload = request.FILES.get("truth")
            if upload is None:
                raise QualityError("truth file: choose a CSV file (source,source_key,entity_id)")
            try:
                text = upload.read().decode("utf-8-sig")
            except UnicodeDecodeError:
                raise QualityError("truth file: it is not UTF-8 text") from None
            made = known_answers_seed_from_truth(handle=io.StringIO(text), count=count, user=request.user)
        else:
            made = known_answers_seed_from_decisions(count=count, user=request.user)
    except (BadParameter, QualityError) as exc:
        messages.error(request, f"Nothing seeded — {str(exc).rstrip('.')}.")
    else:
        messages.success(
            request,
            f"Seeded {made} known-answer pair{'s' if made != 1 else ''} into the "
            "merge queue; they look like any other suggestion to the stewards.",
        )
    return redirect("matching:quality")


@require_POST
@permission_required("matching.change_matchsettings", raise_exception=True)
def quality_sample(request: HttpRequest) -> HttpResponse:
    try:
        count = _count(request)
        steward = parse_id(request.POST.get("steward") or None, name="steward")
        made = second_reviews_sample(count=count, user=request.user, steward_id=steward)
    except (BadParameter, QualityError) as exc:
        messages.error(request, f"Nothing sampled — {str(exc).rstrip('.')}.")
    else:
        messages.success(
            request,
            f"{made} decided suggestion{'s wait' if made != 1 else ' waits'} for a "
            "blind second review by another steward.",
        )
    return redirect("matching:quality")


def _evidence_rows(evidence: dict) -> tuple[list[str], list[dict]]:
    """The stored evidence as the second reviewer sees it: party ids and one row per field."""
    parties = sorted(
        {pid for name in FIELDS for pid in (evidence.get(name) or {}).get("values", {})}, key=int
    )
    rows = []
    for name in FIELDS:
        item = evidence.get(name) or {}
        values = item.get("values") or {}
        shown = [", ".join(v) if isinstance(v, list) else (v or "") for v in (values.get(p) for p in parties)]
        if name == "country":
            shown = [v.upper() for v in shown]
        if any(shown):
            rows.append(
                {
                    "field": FIELD_LABELS.get(name, name),
                    "values": shown,
                    "agreement": item.get("agreement", ""),
                }
            )
    return parties, rows


@require_GET
@permission_required("matching.change_matchsuggestion", raise_exception=True)
def second_review(request: HttpRequest) -> HttpResponse:
    check = second_review_next(user=request.user)
    parties, rows = _evidence_rows(check.suggestion.evidence) if check else ([], [])
    return render(
        request,
        "matching/second_review.html",
        {
            "check": check,
            "parties": parties,
            "rows": rows,
            "waiting": second_reviews_waiting(user=request.user),
        },
    )


@require_POST
@permission_required("matching.change_matchsuggestion", raise_exception=True)
def second_review_decide(request: HttpRequest) -> HttpResponse:
    try:
        check_id = parse_id(request.POST.get("check"), name="check", required=True)
        check = second_review_answer(
            check_id=check_id, user=request.user, answer=request.POST.get("answer", "")
        )
    except (BadParameter, QualityError) as exc:
        messages.error(request, sentence(exc))
    else:
        said = "the same customer" if check.answer == Label.MATCH else "different customers"
        messages.success(request, f"Recorded: {said}. Thank you — the next one is below.")
    return redirect("matching:second_review")
