"""Django admin for the Customer 360 model. Raw payloads are read-only: they are evidence of
what the source delivered and must never be edited."""

from __future__ import annotations

from django.contrib import admin
from django.db import models

from c360.kernel.admin_readonly import ReadOnlyAdmin
from parties import models as m


class ContactPointInline(admin.TabularInline):
    extra = 0
    show_change_link = True
    readonly_fields = ["raw_value", "first_seen_at", "last_seen_at"]
    exclude = ["other_source_records", "source_record"]


class EmailInline(ContactPointInline):
    model = m.ContactPointEmail
    fields = [
        "raw_value",
        "normalized",
        "usage",
        "is_primary",
        "validity",
        "is_active",
        "first_seen_at",
        "last_seen_at",
    ]


class PhoneInline(ContactPointInline):
    model = m.ContactPointPhone
    fields = [
        "raw_value",
        "normalized",
        "phone_type",
        "usage",
        "is_primary",
        "validity",
        "is_active",
        "last_seen_at",
    ]


class AddressInline(ContactPointInline):
    model = m.ContactPointAddress
    fields = [
        "line1",
        "line2",
        "postal_code",
        "city",
        "region",
        "country",
        "usage",
        "is_primary",
        "validity",
        "is_active",
    ]


class IdentificationInline(admin.TabularInline):
    model = m.PartyIdentification
    extra = 0
    fields = ["identifier_type", "issuer", "value", "normalized", "valid_from", "valid_to"]
    readonly_fields = ["normalized"]


class SourceRecordInline(admin.TabularInline):
    model = m.SourceRecord
    extra = 0
    can_delete = False
    show_change_link = True
    fields = ["source_system", "source_key", "source_updated_at", "last_seen_at"]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(m.Party)
class PartyAdmin(admin.ModelAdmin):
    list_display = ["id", "display_name", "kind", "status", "birth_date", "merged_into", "updated_at"]
    list_filter = ["kind", "status", "gender"]
    search_fields = [
        "display_name",
        "organization_name",
        "=emails__normalized",
        "=phones__normalized",
        "=source_records__source_key",
    ]
    # Status and merged_into change only through the merge service (audited, reversible).
    readonly_fields = ["status", "display_name", "merged_into", "merged_at", "created_at", "updated_at"]
    list_select_related = ["merged_into"]
    actions = ["merge_selected"]
    show_full_result_count = False
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}
    fieldsets = [
        (None, {"fields": ["kind", "status", "display_name", "merged_into", "merged_at"]}),
        (
            "Individual",
            {
                "fields": [
                    ("salutation", "given_name", "middle_name", "family_name", "name_suffix"),
                    ("birth_date", "gender"),
                    ("marital_status", "income_band", "education_level"),
                    ("occupation", "household_size", "preferred_language"),
                ]
            },
        ),
        (
            "Organization",
            {"fields": [("organization_name", "registration_id"), ("industry", "employee_count", "website")]},
        ),
        ("Audit", {"fields": ["created_at", "updated_at"]}),
    ]
    inlines = [EmailInline, PhoneInline, AddressInline, IdentificationInline, SourceRecordInline]

    def save_model(self, request, obj, form, change) -> None:
        obj.display_name = obj.compute_display_name()
        super().save_model(request, obj, form, change)

    @admin.action(
        description="Merge the selected parties (audited; undo from the party's history)",
        permissions=["merge"],
    )
    def merge_selected(self, request, queryset) -> None:
        from django.contrib import messages

        from parties.services.merge import MergeRefused, party_merge

        try:
            event = party_merge(
                party_ids=list(queryset.values_list("pk", flat=True)),
                actor=request.user,
                reason="merged in the admin",
            )
        except MergeRefused as exc:
            self.message_user(request, f"Not merged: {exc}.", messages.ERROR)
        else:
            self.message_user(
                request,
                f"Merged {len(event.changes['absorbed'])} parties into party "
                f"{event.party_id} (event #{event.pk}).",
                messages.SUCCESS,
            )

    def has_merge_permission(self, request) -> bool:
        return request.user.has_perm("parties.merge_party")


@admin.register(m.PartyEvent)
class PartyEventAdmin(ReadOnlyAdmin):
    """The audit trail: readable, never editable or deletable, here or anywhere."""

    list_display = ["id", "kind", "party", "actor_label", "suggestion_id", "score", "created_at"]
    list_filter = ["kind"]
    search_fields = ["=party__id", "actor_label"]
    list_select_related = ["party"]
    show_full_result_count = False


@admin.register(m.SurvivorshipRule)
class SurvivorshipRuleAdmin(admin.ModelAdmin):
    list_display = ["attribute", "rule", "updated_by", "updated_at"]
    readonly_fields = ["updated_by", "updated_at"]

    def save_model(self, request, obj, form, change) -> None:
        from parties.services.survivorship import survivorship_rules_save

        rules = dict(m.SurvivorshipRule.objects.values_list("attribute", "rule")) | {obj.attribute: obj.rule}
        survivorship_rules_save(rules=rules, user=request.user)

    def delete_model(self, request, obj) -> None:
        from parties.services.survivorship import survivorship_rules_save

        rules = dict(m.SurvivorshipRule.objects.values_list("attribute", "rule")) | {
            obj.attribute: m.Rule.TRUST_RANK
        }
        survivorship_rules_save(rules=rules, user=request.user)


@admin.register(m.GoldenOverride)
class GoldenOverrideAdmin(ReadOnlyAdmin):
    """Overrides are set and removed on the party page (validated and audited); here they can
    only be read."""

    list_display = ["party", "attribute", "value", "created_by", "created_at"]
    raw_id_fields = ["party"]
    list_select_related = ["party", "created_by"]


@admin.register(m.SourceSystem)
class SourceSystemAdmin(admin.ModelAdmin):
    list_display = [
        "name",
        "kind",
        "data_category",
        "trust_rank",
        "default_region",
        "date_order",
        "is_active",
    ]
    list_filter = ["kind", "data_category", "is_active"]
    search_fields = ["name"]
    list_editable = ["trust_rank", "is_active"]

    def save_model(self, request, obj, form, change) -> None:
        """Through the service, so the change is checked and recorded in the settings history
        (the list's editable columns come here too)."""
        from parties.services.sources import SOURCE_SYSTEM_FIELDS, source_system_create, source_system_update

        values = {name: form.cleaned_data[name] for name in form.changed_data if name in SOURCE_SYSTEM_FIELDS}
        if change:
            saved = source_system_update(source_id=obj.pk, values=values, user=request.user)
        else:
            saved = source_system_create(
                values={name: getattr(obj, name) for name in SOURCE_SYSTEM_FIELDS}, user=request.user
            )
        obj.pk = saved.pk
        if "column_mappings" in form.changed_data:
            m.SourceSystem.objects.filter(pk=saved.pk).update(column_mappings=obj.column_mappings)


@admin.register(m.SourceRecord)
class SourceRecordAdmin(admin.ModelAdmin):
    list_display = ["source_key", "source_system", "party", "source_updated_at", "last_seen_at"]
    list_filter = ["source_system"]
    search_fields = ["=source_key", "party__display_name"]
    list_select_related = ["source_system", "party"]
    raw_id_fields = ["party"]
    readonly_fields = [
        "source_system",
        "source_key",
        "raw_payload",
        "standardized",
        "content_hash",
        "source_updated_at",
        "first_seen_at",
        "last_seen_at",
        "created_at",
        "updated_at",
    ]
    show_full_result_count = False


class _ContactPointAdmin(admin.ModelAdmin):
    list_filter = ["validity", "is_primary", "is_active"]
    raw_id_fields = ["party"]
    readonly_fields = [
        "raw_value",
        "source_record",
        "first_seen_at",
        "last_seen_at",
        "created_at",
        "updated_at",
    ]
    exclude = ["other_source_records"]
    list_select_related = ["party"]
    show_full_result_count = False


@admin.register(m.ContactPointEmail)
class ContactPointEmailAdmin(_ContactPointAdmin):
    list_display = ["normalized", "party", "usage", "is_primary", "validity", "is_active"]
    search_fields = ["normalized", "raw_value"]


@admin.register(m.ContactPointPhone)
class ContactPointPhoneAdmin(_ContactPointAdmin):
    list_display = ["normalized", "raw_value", "party", "phone_type", "is_primary", "validity"]
    list_filter = [*_ContactPointAdmin.list_filter, "phone_type", "country"]
    search_fields = ["normalized", "raw_value"]


@admin.register(m.ContactPointAddress)
class ContactPointAddressAdmin(_ContactPointAdmin):
    list_display = ["line1", "postal_code", "city", "country", "party", "usage", "is_primary"]
    list_filter = [*_ContactPointAdmin.list_filter, "usage", "country"]
    search_fields = ["line1", "postal_code", "city"]


@admin.register(m.ContactPointSocial)
class ContactPointSocialAdmin(_ContactPointAdmin):
    list_display = ["network", "normalized", "party", "is_active"]
    search_fields = ["normalized"]


@admin.register(m.PartyIdentification)
class PartyIdentificationAdmin(admin.ModelAdmin):
    list_display = ["identifier_type", "value", "issuer", "party"]
    list_filter = ["identifier_type", "issuer"]
    search_fields = ["normalized", "value"]
    raw_id_fields = ["party", "source_record"]
    list_select_related = ["party"]


@admin.register(m.PartyRelationship)
class PartyRelationshipAdmin(admin.ModelAdmin):
    list_display = ["from_party", "kind", "to_party", "role", "started_on", "ended_on"]
    list_filter = ["kind"]
    search_fields = ["from_party__display_name", "to_party__display_name"]
    raw_id_fields = ["from_party", "to_party", "source_record"]
    list_select_related = ["from_party", "to_party"]


@admin.register(m.Engagement)
class EngagementAdmin(admin.ModelAdmin):
    list_display = [
        "occurred_at",
        "engagement_type",
        "channel",
        "party",
        "amount",
        "currency",
        "nps_score",
        "source_system",
    ]
    list_filter = ["engagement_type", "channel", "source_system"]
    search_fields = ["=external_id", "party__display_name"]
    raw_id_fields = ["party", "source_record"]
    date_hierarchy = "occurred_at"
    list_select_related = ["party", "source_system"]
    show_full_result_count = False


@admin.register(m.Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ["program_name", "tier", "status", "party", "started_on", "ends_on", "points_balance"]
    list_filter = ["program_type", "program_name", "tier", "status"]
    search_fields = ["=member_number", "party__display_name"]
    raw_id_fields = ["party", "source_record"]
    list_select_related = ["party"]


class ImportRejectionInline(admin.TabularInline):
    model = m.ImportRejection
    extra = 0
    can_delete = False
    fields = ["line", "column", "value", "reason"]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(m.ImportJob)
class ImportJobAdmin(admin.ModelAdmin):
    list_display = [
        "id",
        "original_name",
        "source_system",
        "kind",
        "status",
        "rows_read",
        "rows_created",
        "rows_updated",
        "rows_rejected",
        "created_at",
    ]
    list_filter = ["status", "kind", "source_system"]
    search_fields = ["original_name"]
    readonly_fields = [f.name for f in m.ImportJob._meta.fields if f.name not in {"status"}]
    inlines = [ImportRejectionInline]


@admin.register(m.ImportRejection)
class ImportRejectionAdmin(admin.ModelAdmin):
    list_display = ["job", "line", "column", "reason"]
    list_filter = ["job__source_system"]
    search_fields = ["reason", "value"]
    raw_id_fields = ["job"]


@admin.register(m.DataQualityIssue)
class DataQualityIssueAdmin(admin.ModelAdmin):
    list_display = ["source_record", "field", "value", "reason", "job", "line", "created_at"]
    list_filter = ["field"]
    search_fields = ["value", "reason"]
    raw_id_fields = ["source_record", "job"]
    list_select_related = ["source_record"]
    show_full_result_count = False


@admin.register(m.ChangeEvent)
class ChangeEventAdmin(ReadOnlyAdmin):
    """The outbox: read here, written only by the services (parties/services/outbox.py)."""

    list_display = ["sequence", "type", "party_id", "actor", "occurred_at"]
    list_filter = ["type"]
    search_fields = ["=party_id", "=sequence"]
    ordering = ["-id"]
    show_full_result_count = False


@admin.register(m.ChangeEventParty)
class ChangeEventPartyAdmin(ReadOnlyAdmin):
    list_display = ["event", "party_id"]
    search_fields = ["=party_id"]


@admin.register(m.ChangeEventSequence)
class ChangeEventSequenceAdmin(ReadOnlyAdmin):
    list_display = ["pk", "last"]
