"""The second factor in the admin: the user list says who has one; a superuser can reset it
(``otp_reset``, recorded with the actor). django-otp's own device pages are taken out of the
admin (``device_admins_unregister``, from the app's ``ready()``): editing or deleting a device
there would bypass the audit, and its pages show the secret."""

from __future__ import annotations

from django.contrib import admin, messages
from django.db.models import Exists, OuterRef
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice

from c360.accounts.otp import otp_reset


def device_admins_unregister() -> None:
    for model in (TOTPDevice, StaticDevice):
        if admin.site.is_registered(model):
            admin.site.unregister(model)


@admin.action(description="Reset second factor (the user enrols again)")
def second_factor_reset(modeladmin, request, queryset) -> None:
    if not request.user.is_superuser:  # the action is offered to superusers only; a forged POST too
        modeladmin.message_user(request, "Only a superuser may reset a second factor.", messages.ERROR)
        return
    done = [
        user.get_username() for user in queryset if otp_reset(request=request, user=user, actor=request.user)
    ]
    if done:
        modeladmin.message_user(request, f"Second factor reset for {', '.join(done)}.", messages.SUCCESS)
    else:
        modeladmin.message_user(request, "None of them had a second factor.", messages.WARNING)


class SecondFactorUserAdminMixin:
    """For the user admin: a "Second factor" column and the superuser's reset action."""

    def get_queryset(self, request):
        confirmed = TOTPDevice.objects.filter(user=OuterRef("pk"), confirmed=True)
        return super().get_queryset(request).annotate(has_second_factor=Exists(confirmed))

    @admin.display(boolean=True, description="Second factor", ordering="has_second_factor")
    def second_factor(self, obj) -> bool:
        return bool(getattr(obj, "has_second_factor", False))

    def get_list_display(self, request):
        return [*super().get_list_display(request), "second_factor"]

    def get_actions(self, request):
        actions = super().get_actions(request)
        if request.user.is_superuser:
            actions["second_factor_reset"] = self.get_action(second_factor_reset)
        return actions
