"""Pages of the parties app. Thin: parse the request, call a selector or service, render."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.contrib.auth.mixins import PermissionRequiredMixin
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse_lazy
from django.views.decorators.http import require_GET
from django.views.generic import CreateView, ListView, UpdateView
from django_filters.views import FilterView

from c360.kernel.setting_changes import setting_changes_list
from parties.extensions import party_links, party_sections
from parties.filters import PartyFilter
from parties.forms import SourceSystemForm
from parties.models import Party, SourceSystem
from parties.selectors import party_detail, party_list, party_merge_history, party_resolve
from parties.selectors_engagement import engagement_totals
from parties.selectors_timeline import party_timeline
from parties.services.golden import golden_explain
from parties.services.sources import SOURCE_SYSTEM_SETTING, source_system_create, source_system_update


class PartyListView(PermissionRequiredMixin, FilterView):
    permission_required = "parties.view_party"
    raise_exception = True
    filterset_class = PartyFilter
    template_name = "parties/party_list.html"
    paginate_by = 50

    def get_queryset(self):
        return party_list().prefetch_related("emails", "addresses").order_by("display_name", "pk")


@require_GET
@permission_required("parties.view_party", raise_exception=True)
def party_detail_view(request: HttpRequest, pk: int) -> HttpResponse:
    try:
        party = party_detail(pk=pk)
    except Party.DoesNotExist as exc:
        raise Http404(f"No party with id {pk}.") from exc
    if party.is_merged:
        survivor = party_resolve(pk=pk)
        messages.info(request, f"Party {pk} was merged into party {survivor.pk}; showing the survivor.")
        return redirect(survivor)
    totals = engagement_totals(party_id=party.pk)
    entries = party_timeline(
        user=request.user,
        party=party,
        type_values=request.GET.getlist("type"),
        page=request.GET.get("page", 1),
        engagement_counts={value: n for value, _, n in totals.by_type},
    )
    timeline = {
        "party": party,
        "timeline": entries.page,
        "chips": entries.chips,
        "timeline_total": entries.total,
        "types": entries.types,
        "unknown_types": entries.unknown_types,
        "totals": totals,
    }
    if request.htmx and request.htmx.target == "timeline":
        return render(request, "parties/_timeline.html", timeline)
    sections = party_sections(request.user, party)
    _badges_attach(party, sections)
    return render(
        request,
        "parties/party_detail.html",
        {
            **timeline,
            "sections_html": [
                render_to_string(section.template, {**section.context, "party": party}, request)
                for section in sections
            ],
            "merge_history": party_merge_history(party_id=party.pk),
            "can_view_raw": request.user.has_perm("parties.view_sourcerecord"),
            "golden": list(golden_explain(party_id=party.pk).values()),
            "links": party_links(request.user, party),
            "can_edit": party.status == "active"
            and request.user.has_perm("parties.change_contactpointemail"),
            "can_add_contact": request.user.has_perm("parties.add_contactpointemail"),
        },
    )


def _badges_attach(party: Party, sections) -> None:
    """Put the badges other apps give contact points (consents) on the prefetched rows."""
    for kind, points in (
        ("email", party.emails.all()),
        ("phone", party.phones.all()),
        ("address", party.addresses.all()),
    ):
        for point in points:
            point.badges = [
                badge for section in sections for badge in section.badges.get((kind, point.pk), ())
            ]


class SourceSystemListView(PermissionRequiredMixin, ListView):
    permission_required = "parties.view_sourcesystem"
    raise_exception = True
    template_name = "parties/source_list.html"

    def get_queryset(self):
        from django.db.models import Count, Max

        return SourceSystem.objects.annotate(
            record_count=Count("records"), last_seen=Max("records__last_seen_at")
        ).order_by("trust_rank", "name")


class _SourceSystemFormMixin(PermissionRequiredMixin):
    raise_exception = True
    model = SourceSystem
    form_class = SourceSystemForm
    template_name = "parties/source_form.html"
    success_url = reverse_lazy("parties:sources")
    done = "saved"

    def form_valid(self, form):
        # The service saves (and records the change in the history), not the ModelForm.
        values = {name: form.cleaned_data[name] for name in form.Meta.fields}
        try:
            self.object = self.save(values)
        except ValidationError as exc:
            form.add_error(None, exc)
            return self.form_invalid(form)
        messages.success(self.request, f"Source system “{self.object.name}” {self.done}.")
        return redirect(self.get_success_url())


class SourceSystemCreateView(_SourceSystemFormMixin, CreateView):
    permission_required = "parties.add_sourcesystem"
    done = "registered"

    def save(self, values) -> SourceSystem:
        return source_system_create(values=values, user=self.request.user)


class SourceSystemUpdateView(_SourceSystemFormMixin, UpdateView):
    permission_required = "parties.change_sourcesystem"

    def save(self, values) -> SourceSystem:
        return source_system_update(source_id=self.object.pk, values=values, user=self.request.user)

    def get_context_data(self, **kwargs):
        return super().get_context_data(
            **kwargs, changes=setting_changes_list(setting=SOURCE_SYSTEM_SETTING, object_id=self.object.pk)
        )
