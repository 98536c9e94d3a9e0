"""The authentication audit and the sessions in the admin: read, never written (kept like the
rest of the audit trail); and the user list's action "Sign out everywhere"."""

from __future__ import annotations

from django.contrib import admin, messages
from django.utils.html import format_html

from c360.accounts.models import AuthEvent, UserSession
from c360.accounts.services import user_sessions_end
from c360.kernel.admin_readonly import ReadOnlyAdmin
from c360.users import user_change_refusal


@admin.register(AuthEvent)
class AuthEventAdmin(ReadOnlyAdmin):
    list_display = ["at", "kind", "username", "actor_label", "method", "client_address", "detail"]
    list_filter = ["kind", "method"]
    search_fields = ["=username", "=client_address"]
    date_hierarchy = "at"
    show_full_result_count = False


@admin.register(UserSession)
class UserSessionAdmin(ReadOnlyAdmin):
    list_display = ["user", "started_at", "last_seen_at", "method", "client_address", "user_agent"]
    list_select_related = ["user"]
    search_fields = ["=user__username", "=client_address"]
    exclude = ["session_key"]  # a key would let whoever reads it use the session


@admin.action(description="Sign out everywhere (end all their sessions)")
def sign_out_everywhere(modeladmin, request, queryset) -> None:
    """For the user list (c360.admin): ends every session of each chosen user, recorded with the
    administrator as actor. Only for who may end sessions, and only accounts they may change."""
    if not request.user.has_perm("accounts.delete_usersession"):
        modeladmin.message_user(request, "Your role may not end other people's sessions.", messages.ERROR)
        return
    for user in queryset:
        refusal = user_change_refusal(actor=request.user, user=user)
        if refusal:
            modeladmin.message_user(request, refusal, messages.WARNING)
            continue
        n = user_sessions_end(user=user, actor=request.user, request=request)
        modeladmin.message_user(
            request,
            format_html(
                "Signed out everywhere: {} ({} session{} ended).",
                user.get_username(),
                n,
                "" if n == 1 else "s",
            ),
            messages.SUCCESS,
        )
