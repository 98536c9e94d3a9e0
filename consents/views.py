"""The preference page: a party's consents (channels × purposes) and privacy preferences,
changed by marketing staff with a capture source, every change in the ledger."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from c360.kernel.params import BadParameter, parse_text
from c360.kernel.text import sentence, validation_text
from consents.forms import ErasureForm, PreferencesForm
from consents.models import Channel, ConsentStatus
from consents.selectors import consent_grid, party_or_404
from consents.services.ledger import Actor, ConsentChange, consent_set_many, preferences_set
from parties.models import SourceRecord


@require_GET
@permission_required("consents.view_contactpointtypeconsent", raise_exception=True)
def preferences(request: HttpRequest, pk: int) -> HttpResponse:
    party = party_or_404(pk)
    if party.is_merged:
        messages.info(
            request, f"Party {pk} was merged into party {party.merged_into_id}; showing the survivor."
        )
        return redirect("consents:preferences", pk=party.merged_into_id)
    grid = consent_grid(party_id=pk)
    return render(
        request,
        "consents/preferences.html",
        {
            "party": party,
            "grid": grid,
            "form": PreferencesForm(instance=grid.preferences),
            # an erased customer's consents cannot change (the service refuses): no buttons to press
            "can_change": (
                request.user.has_perm("consents.change_contactpointtypeconsent") and not party.erased_at
            ),
            "statuses": ConsentStatus,
        },
    )


@require_POST
@permission_required("consents.change_contactpointtypeconsent", raise_exception=True)
def consent_change(request: HttpRequest, pk: int) -> HttpResponse:
    """The grid's changes: one "channel|purpose|state" per cell whose select was changed
    (``change``), or one button's (``set``), all under the one capture source and evidence."""
    party = party_or_404(pk)
    try:  # a NUL or overlong text is refused too
        wanted = [
            parse_text(value, name="change", max_length=200)
            for value in [*request.POST.getlist("change"), request.POST.get("set", "")]
            if value
        ]
        changes = [ConsentChange(*value.split("|")) for value in wanted]
    except (TypeError, BadParameter):
        messages.error(request, "Choose a channel, a purpose and a state.")
        return redirect("consents:preferences", pk=pk)
    if not changes:
        messages.error(request, "Nothing changed — choose a new state in at least one cell of the grid.")
        return redirect("consents:preferences", pk=pk)
    try:
        rows = consent_set_many(
            party_id=party.pk,
            changes=changes,
            capture_source=parse_text(
                request.POST.get("capture_source"), name="capture source", max_length=200
            ),
            evidence=parse_text(request.POST.get("evidence"), name="evidence", max_length=2000),
            actor=Actor.of_user(request.user),
        )
    except ValidationError as exc:
        messages.error(request, f"Not changed — {validation_text(exc)}.")
        return redirect("consents:preferences", pk=pk)
    except BadParameter as exc:
        messages.error(request, f"Not changed — {exc}")
        return redirect("consents:preferences", pk=pk)
    done = "; ".join(
        f"{Channel(c.channel).label} · {c.purpose.replace('_', ' ')}: {ConsentStatus(c.status).label.lower()}"
        for c in changes
    )
    count = f"{len(changes)} changes, " if len(changes) > 1 else ""
    target = rows[0].party_id
    messages.success(request, f"{done}{_followed(pk, target)} ({count}recorded in the ledger).")
    return redirect("consents:preferences", pk=target)


def _followed(asked: int, target: int) -> str:
    """What a success message adds when a change asked of a merged party went to its survivor."""
    if asked == target:
        return ""
    return f" on party {target} (party {asked} was merged into party {target})"


@require_POST
@permission_required("consents.change_privacypreference", raise_exception=True)
def preferences_change(request: HttpRequest, pk: int) -> HttpResponse:
    party = party_or_404(pk)
    form = PreferencesForm(request.POST)
    if not form.is_valid():
        problems = "; ".join(
            f"{form[f].label if f in form.fields else f}: {' '.join(e).rstrip('.')}"
            for f, e in form.errors.items()
        )
        messages.error(request, f"Not changed — {problems}.")
        return redirect("consents:preferences", pk=pk)
    data = dict(form.cleaned_data)
    source = data.pop("capture_source")
    try:
        row = preferences_set(
            party_id=party.pk, changes=data, actor=Actor.of_user(request.user), capture_source=source
        )
    except ValidationError as exc:
        messages.error(request, sentence(f"not changed — {validation_text(exc)}"))
        return redirect("consents:preferences", pk=pk)
    messages.success(request, f"Preferences saved{_followed(pk, row.party_id)} (recorded in the ledger).")
    return redirect("consents:preferences", pk=row.party_id)


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
            query=request.GET.urlencode(),
        )
        lookup = form.cleaned_data.get("lookup")
        if lookup:
            context["explained"] = [
                (point, eligibility_explain(point, channel=channel, purpose=purpose, on=on))
                for point in form.points_for(lookup)
            ]
            if not context["explained"]:
                from consents.services.erasure import tombstone_erased_on

                context["erased_on"] = tombstone_erased_on(channel=channel, value=lookup)
    return render(request, "consents/eligibility.html", context)


@require_GET
@permission_required("consents.view_contactpointtypeconsent", raise_exception=True)
def eligibility_csv(request: HttpRequest, which: str) -> HttpResponse:
    from django.http import StreamingHttpResponse

    from consents.services.eligibility import (
        ELIGIBLE_CSV_HEADER,
        eligible_csv_rows,
        suppression_reason,
        suppression_rows,
    )
    from parties.services.csv_export import csv_stream

    form = _eligibility_form(request.GET)
    if not form.is_valid():
        return HttpResponse(
            "Choose a channel, a purpose and a date: "
            + "; ".join(f"{k}: {' '.join(v)}" for k, v in form.errors.items()),
            status=400,
            content_type="text/plain",
        )
    channel, purpose, on = (form.cleaned_data[k] for k in ("channel", "purpose", "on"))
    if which == "eligible":
        rows = eligible_csv_rows(channel=channel, purpose=purpose, on=on)
        header = ELIGIBLE_CSV_HEADER
    else:
        rows = (
            (
                p.party_id,
                channel,
                p.normalized,
                p.consent or "none",
                suppression_reason(p, channel=channel, purpose=purpose),
            )
            for p in suppression_rows(channel=channel, purpose=purpose, on=on).iterator(chunk_size=2000)
        )
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
    from consents.services.erasure import ErasureRefused, erasure_summary, files_pending_count, party_erase
    from parties.selectors import party_and_merged_ids

    party = party_or_404(pk)
    if party.merged_into_id:
        messages.info(
            request,
            f"Party {pk} was merged into party {party.merged_into_id}: erasing the "
            "customer means erasing the survivor with every party merged into it.",
        )
        return redirect("consents:erase", pk=party.merged_into_id)
    if party.erased_at:
        messages.info(request, f"Party {pk} was already erased on {party.erased_at:%Y-%m-%d}.")
        return redirect("parties:detail", pk=party.pk)
    form = ErasureForm(request.POST or None, party_id=party.pk)
    if request.method == "POST" and form.is_valid():
        try:
            result = party_erase(
                party_id=party.pk, actor=request.user, reason=form.cleaned_data["request_reference"]
            )
        except ErasureRefused as exc:
            messages.error(request, sentence(validation_text(exc)))
        else:
            messages.success(request, erasure_summary(result))
        return redirect("parties:detail", pk=party.pk)
    if pending := files_pending_count():
        messages.warning(
            request,
            f"Earlier erasures have {pending} stored import file{'s' if pending != 1 else ''} "
            "still to change (retried every minute; see Pending file erasures in the admin).",
        )
    ids = party_and_merged_ids(party.pk)
    return render(
        request,
        "consents/erase.html",
        {
            "party": party,
            "form": form,
            "merged_ids": ids[1:],
            "records": SourceRecord.objects.filter(party_id__in=ids).count(),
        },
    )


# Segments: saved filters over parties, with live counts and an eligibility-checked export.

SEGMENT_PAGE_SIZE = 50


def _segment_or_404(pk: int):
    from django.shortcuts import get_object_or_404

    from consents.models import Segment

    return get_object_or_404(
        Segment.objects.select_related("source_system", "consent_purpose", "created_by", "updated_by"), pk=pk
    )


@require_GET
@permission_required("consents.view_segment", raise_exception=True)
def segment_list(request: HttpRequest) -> HttpResponse:
    from consents.models import Segment

    segments = Segment.objects.select_related("source_system", "consent_purpose", "updated_by")
    return render(request, "consents/segment_list.html", {"segments": segments})


@require_GET
@permission_required("consents.view_segment", raise_exception=True)
def segment_count_view(request: HttpRequest, pk: int) -> HttpResponse:
    """One segment's member count, for the list (loaded after the page, one row at a time)."""
    from consents.services.segments import segment_count

    segment = _segment_or_404(pk)
    return render(
        request, "consents/_segment_count.html", {"segment": segment, "count": segment_count(segment)}
    )


def _preview(form) -> dict:
    from consents.services.segments import segment_count

    if form.filter_errors:
        return {"preview_errors": form.filter_errors}
    return {"preview_count": segment_count(form.instance)}


@require_GET
@permission_required("consents.view_segment", raise_exception=True)
def segment_preview(request: HttpRequest) -> HttpResponse:
    """How many customers the filters being edited match (the form's live count)."""
    from consents.forms import SegmentForm

    form = SegmentForm(request.GET)
    form.is_valid()
    return render(request, "consents/_segment_preview.html", _preview(form))


def _segment_changes(segment) -> list:
    """The segment's history, newest first (none for a segment not saved yet)."""
    from c360.kernel.setting_changes import setting_changes_list
    from consents.services.segments import SEGMENT_SETTING

    return setting_changes_list(setting=SEGMENT_SETTING, object_id=segment.pk) if segment else []


def _segment_form_page(request: HttpRequest, segment=None) -> HttpResponse:
    from consents.forms import SegmentForm
    from consents.services.segments import segment_create, segment_update

    form = SegmentForm(request.POST or None, instance=segment)
    context = {"form": form, "segment": segment, "changes": _segment_changes(segment)}
    if request.method == "POST" and form.is_valid() and "preview" not in request.POST:
        data = form.cleaned_data
        try:
            if segment is None:
                saved = segment_create(
                    name=data["name"],
                    description=data["description"],
                    filters=form.filters(),
                    user=request.user,
                )
            else:
                saved = segment_update(
                    segment=segment,
                    name=data["name"],
                    description=data["description"],
                    filters=form.filters(),
                    user=request.user,
                )
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, f"Segment “{saved.name}” saved.")
            return redirect(saved)
    elif request.method == "POST":
        form.is_valid()
        context.update(_preview(form))
    elif segment is not None:
        context.update(_preview(form))
    return render(request, "consents/segment_form.html", context)


@permission_required("consents.add_segment", raise_exception=True)
def segment_create_view(request: HttpRequest) -> HttpResponse:
    return _segment_form_page(request)


@permission_required("consents.change_segment", raise_exception=True)
def segment_edit(request: HttpRequest, pk: int) -> HttpResponse:
    return _segment_form_page(request, _segment_or_404(pk))


@permission_required("consents.delete_segment", raise_exception=True)
def segment_delete_view(request: HttpRequest, pk: int) -> HttpResponse:
    from consents.services.segments import segment_delete

    segment = _segment_or_404(pk)
    if request.method == "POST":
        segment_delete(segment=segment, user=request.user)
        messages.success(request, f"Segment “{segment.name}” deleted.")
        return redirect("consents:segment_list")
    return render(request, "consents/segment_delete.html", {"segment": segment})


@require_GET
@permission_required("consents.view_segment", raise_exception=True)
def segment_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """The segment: its filters, its members page by page, and the export of those eligible."""
    from django.core.paginator import Paginator

    from consents.forms import SegmentExportForm
    from consents.selectors import segment_member_rows
    from consents.services.segments import LTV, segment_eligible_count, segment_members

    segment = _segment_or_404(pk)
    paginator = Paginator(segment_members(segment).only("pk", "display_name", "kind"), SEGMENT_PAGE_SIZE)
    page = paginator.get_page(request.GET.get("page"))
    # Unless chosen, the export offers the channel and purpose the segment filters on.
    initial = {"channel": segment.consent_channel or None, "purpose": segment.consent_purpose}
    export = SegmentExportForm(
        request.GET if "channel" in request.GET else None, initial={k: v for k, v in initial.items() if v}
    )
    context = {
        "segment": segment,
        "page_obj": page,
        "paginator": paginator,
        "rows": segment_member_rows(list(page.object_list)),
        "export": export,
        "ltv_definition": LTV,
        "can_export": request.user.has_perm("consents.export_segment"),
        "changes": _segment_changes(segment),
    }
    if context["can_export"] and export.is_bound and export.is_valid():
        channel, purpose, on = (export.cleaned_data[k] for k in ("channel", "purpose", "on"))
        context["eligible"] = segment_eligible_count(segment=segment, channel=channel, purpose=purpose, on=on)
        context["export_query"] = f"channel={channel}&purpose={purpose.code}&on={on:%Y-%m-%d}"
        context["export_channel"] = {
            "email": "email addresses",
            "sms": "mobile numbers",
            "phone": "phone numbers",
            "mail": "postal addresses",
        }[channel]
    return render(request, "consents/segment_detail.html", context)


@require_GET
@permission_required("consents.export_segment", raise_exception=True)
def segment_export(request: HttpRequest, pk: int) -> HttpResponse:
    """The segment's members eligible for a channel and purpose on a date, as CSV: the
    eligibility download narrowed to the segment."""
    from django.http import StreamingHttpResponse
    from django.utils.text import slugify

    from consents.forms import SegmentExportForm
    from consents.services.segments import segment_export_csv

    segment = _segment_or_404(pk)
    form = SegmentExportForm(request.GET)
    if not form.is_valid():
        return HttpResponse(
            "Choose a channel, a purpose and a date: "
            + "; ".join(f"{k}: {' '.join(v)}" for k, v in form.errors.items()),
            status=400,
            content_type="text/plain",
        )
    channel, purpose, on = (form.cleaned_data[k] for k in ("channel", "purpose", "on"))
    lines = segment_export_csv(segment=segment, channel=channel, purpose=purpose, on=on)
    response = StreamingHttpResponse(lines, content_type="text/csv; charset=utf-8")
    name = f"segment-{slugify(segment.name) or segment.pk}-{channel}-{purpose.code}-{on:%Y-%m-%d}.csv"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response
