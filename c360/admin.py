"""The admin's user and group pages, with what only a superuser may do (``c360.users``):
grant superuser or staff status, group memberships and permissions, change groups, or change
an account that can do more than the one changing it."""

from __future__ import annotations

from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.contrib.auth.admin import GroupAdmin, UserAdmin
from django.contrib.auth.models import Group, User

from c360.accounts.admin import sign_out_everywhere
from c360.accounts.admin_otp import SecondFactorUserAdminMixin
from c360.kernel.admin_readonly import ReadOnlyAdmin
from c360.kernel.models import SettingChange
from c360.users import PRIVILEGE_FIELDS, group_change_refusal, user_change_check, user_change_refusal

admin.site.unregister(User)
admin.site.unregister(Group)


@admin.register(User)
class GuardedUserAdmin(SecondFactorUserAdminMixin, UserAdmin):
    actions = [sign_out_everywhere]

    def get_readonly_fields(self, request, obj=None):
        fields = list(super().get_readonly_fields(request, obj))
        if obj is not None and not request.user.is_superuser:
            # Shown, not editable: a field that is not in the form cannot be posted either.
            fields += [name for name in PRIVILEGE_FIELDS if name not in fields]
        return fields

    def has_change_permission(self, request, obj=None) -> bool:
        if not super().has_change_permission(request, obj):
            return False
        return obj is None or user_change_refusal(actor=request.user, user=obj) is None

    def has_delete_permission(self, request, obj=None) -> bool:
        if not super().has_delete_permission(request, obj):
            return False
        return obj is None or user_change_refusal(actor=request.user, user=obj) is None

    def change_view(self, request, object_id, form_url="", extra_context=None):
        if request.method == "GET":
            user = self.get_object(request, unquote(object_id))
            refusal = user and user_change_refusal(actor=request.user, user=user)
            if refusal:
                self.message_user(request, refusal, messages.WARNING)
        return super().change_view(request, object_id, form_url, extra_context)

    def save_model(self, request, obj, form, change) -> None:
        # The form of a non-superuser has none of the privilege fields; this is the last word
        # should a form ever carry one (the check raises PermissionDenied: a 403, nothing saved).
        user_change_check(actor=request.user, fields=form.changed_data)
        super().save_model(request, obj, form, change)

    def save_related(self, request, form, formsets, change) -> None:
        user_change_check(actor=request.user, fields=form.changed_data)  # groups, user_permissions
        super().save_related(request, form, formsets, change)


@admin.register(Group)
class GuardedGroupAdmin(GroupAdmin):
    def has_add_permission(self, request) -> bool:
        return group_change_refusal(actor=request.user) is None and super().has_add_permission(request)

    def has_change_permission(self, request, obj=None) -> bool:
        return group_change_refusal(actor=request.user) is None and super().has_change_permission(
            request, obj
        )

    def has_delete_permission(self, request, obj=None) -> bool:
        return group_change_refusal(actor=request.user) is None and super().has_delete_permission(
            request, obj
        )


@admin.register(SettingChange)
class SettingChangeAdmin(ReadOnlyAdmin):
    """The settings history (``c360.kernel.setting_changes``): readable, never editable or deletable."""

    list_display = ["changed_at", "setting", "object_id", "label", "old", "new", "changed_by_label"]
    list_filter = ["setting"]
    search_fields = ["=object_id", "field", "changed_by_label"]
    show_full_result_count = False
