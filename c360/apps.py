from django.apps import AppConfig


class C360Config(AppConfig):
    """The project's own app: what no single domain app owns (API clients and their tokens,
    the data-quality dashboard)."""

    name = "c360"
    verbose_name = "C360 Steward"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # api_schema registers the schema's token scheme; login_lockout logs sign-in lockouts.
        from c360 import api_schema, login_lockout  # noqa: F401
        from c360.dashboard.services import parties_changed_dashboard_hook
        from parties.extensions import parties_changed_register

        parties_changed_register(parties_changed_dashboard_hook)
