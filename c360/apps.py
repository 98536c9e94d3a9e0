from django.apps import AppConfig


class C360Config(AppConfig):
    """The project's own app: what no single domain app owns (API clients and their tokens,
    the kernel's task leases and settings history). The dashboard is its own app."""

    name = "c360"
    verbose_name = "C360 Steward"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # api_schema registers the schema's token scheme; login_lockout logs sign-in lockouts.
        from c360 import api_schema, login_lockout  # noqa: F401
