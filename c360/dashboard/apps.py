from django.apps import AppConfig


class DashboardConfig(AppConfig):
    """The data-quality dashboard: sits above the domain apps (DESIGN.md, layers), reads all of
    them, and no app imports it. Its tables keep the names they had in the ``c360`` app."""

    name = "c360.dashboard"
    label = "dashboard"
    verbose_name = "Data-quality dashboard"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from c360.dashboard.services import parties_changed_dashboard_hook
        from parties.extensions import parties_changed_register

        parties_changed_register(parties_changed_dashboard_hook)
