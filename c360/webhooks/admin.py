"""Admin for webhooks: subscribers and their deliveries are read here; they are registered,
changed and deleted on the Webhooks page (``/webhooks/``) or the API, through the services
that validate and record each change. Pause and resume are admin actions calling the same
services. The secret is never shown in the admin."""

from __future__ import annotations

from django.contrib import admin, messages
from django.urls import reverse
from django.utils.html import format_html

from c360.kernel.admin_readonly import ReadOnlyAdmin
from c360.webhooks.models import Delivery, Subscriber
from c360.webhooks.services.subscribers import subscriber_pause, subscriber_resume


@admin.register(Subscriber)
class SubscriberAdmin(ReadOnlyAdmin):
    list_display = ["name", "url", "types", "status", "failing_since", "resume_at", "page"]
    list_filter = ["status"]
    search_fields = ["name", "url"]
    exclude = ["secret", "lease_owner", "lease_until"]
    actions = ["pause_selected", "resume_selected"]

    @admin.display(description="event types")
    def types(self, obj: Subscriber) -> str:
        return ", ".join(obj.event_types) or "all"

    @admin.display(description="manage")
    def page(self, obj: Subscriber) -> str:
        return format_html(
            '<a href="{}">page and delivery log</a>', reverse("webhooks:detail", args=[obj.pk])
        )

    def has_manage_permission(self, request) -> bool:
        return request.user.has_perm("webhooks.manage_webhooks")

    @admin.action(description="Pause the selected subscribers", permissions=["manage"])
    def pause_selected(self, request, queryset) -> None:
        for pk in queryset.values_list("pk", flat=True):
            subscriber_pause(subscriber_id=pk, actor=request.user)
        self.message_user(request, f"{queryset.count()} paused.", messages.SUCCESS)

    @admin.action(description="Resume the selected subscribers", permissions=["manage"])
    def resume_selected(self, request, queryset) -> None:
        for pk in queryset.values_list("pk", flat=True):
            subscriber_resume(subscriber_id=pk, actor=request.user)
        self.message_user(request, f"{queryset.count()} resumed.", messages.SUCCESS)


@admin.register(Delivery)
class DeliveryAdmin(ReadOnlyAdmin):
    list_display = [
        "sequence",
        "subscriber",
        "event_type",
        "party_id",
        "status",
        "attempts",
        "response_code",
        "last_attempt_at",
        "delivered_at",
    ]
    list_filter = ["status", "event_type", "subscriber"]
    search_fields = ["=sequence", "=party_id"]
    list_select_related = ["subscriber"]
    raw_id_fields = ["event"]
    show_full_result_count = False
