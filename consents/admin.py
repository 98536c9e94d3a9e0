"""Admin for consents: purposes are edited here; consents are read here and changed on the
preference page (validated, with a capture source, in the ledger); the ledger is read-only."""

from __future__ import annotations

from django.contrib import admin

from c360.kernel.admin_readonly import ReadOnlyAdmin
from consents import models as m


@admin.register(m.DataUsePurpose)
class DataUsePurposeAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "legal_basis", "requires_opt_in", "is_active"]
    readonly_fields = ["code"]

    def get_readonly_fields(self, request, obj=None):
        return self.readonly_fields if obj else []


class _ReadOnly(ReadOnlyAdmin):
    raw_id_fields = ["party"]
    show_full_result_count = False


@admin.register(m.ContactPointTypeConsent)
class ContactPointTypeConsentAdmin(_ReadOnly):
    list_display = ["party", "channel", "purpose", "status", "captured_at", "capture_source"]
    list_filter = ["channel", "purpose", "status"]
    search_fields = ["=party__id"]


@admin.register(m.ContactPointConsent)
class ContactPointConsentAdmin(_ReadOnly):
    list_display = ["party", "point_kind", "point_id", "purpose", "status", "captured_at"]
    list_filter = ["point_kind", "purpose", "status"]
    search_fields = ["=party__id"]


@admin.register(m.PrivacyPreference)
class PrivacyPreferenceAdmin(_ReadOnly):
    list_display = [
        "party",
        "do_not_process",
        "do_not_profile",
        "do_not_track",
        "do_not_solicit",
        "contact_frequency",
    ]
    search_fields = ["=party__id"]


@admin.register(m.ConsentEvent)
class ConsentEventAdmin(_ReadOnly):
    list_display = ["id", "party", "key", "actor_kind", "actor_label", "capture_source", "occurred_at"]
    list_filter = ["scope", "actor_kind"]
    search_fields = ["=party__id", "key"]


@admin.register(m.PendingFileErasure)
class PendingFileErasureAdmin(ReadOnlyAdmin):
    """Stored import files an erasure has still to change (retried every minute; only the retry
    removes a row). Holds no value of the person: a file's storage name and line numbers."""

    list_display = [
        "id",
        "job",
        "remove",
        "erasure_event_id",
        "created_at",
        "attempts",
        "last_error",
        "last_tried_at",
    ]
    raw_id_fields = ["job"]
