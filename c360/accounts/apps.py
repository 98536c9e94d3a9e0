from django.apps import AppConfig


class AccountsConfig(AppConfig):
    """Sign-in, second factor, sessions and their audit trail."""

    name = "c360.accounts"
    label = "accounts"
    verbose_name = "Sign-in and sessions"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # the receivers of Django's, axes' and our own sign-in signals write the audit
        from c360.accounts import receivers  # noqa: F401

        # the second factor's devices are changed through c360.accounts.otp only (audited)
        from c360.accounts.admin_otp import device_admins_unregister

        device_admins_unregister()
