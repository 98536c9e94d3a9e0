from django.apps import AppConfig


class C360Config(AppConfig):
    """The project's own app: what no single domain app owns (API clients and their tokens,
    the data-quality dashboard)."""

    name = "c360"
    verbose_name = "C360 Steward"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from c360 import api_schema  # noqa: F401  (registers the schema's token scheme)
        from c360.dashboard.services import parties_changed_dashboard_hook
        from parties.extensions import parties_changed_register

        parties_changed_register(parties_changed_dashboard_hook)
