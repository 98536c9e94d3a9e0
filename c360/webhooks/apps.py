from django.apps import AppConfig


class WebhooksConfig(AppConfig):
    """Subscribers of the change events, and the signed HTTP deliveries to them."""

    name = "c360.webhooks"
    label = "webhooks"
    verbose_name = "Webhooks"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # after every commit that wrote change events, the dispatcher is sent
        from c360.webhooks.services.dispatch import dispatch_soon
        from parties.extensions import change_events_committed_register

        change_events_committed_register(dispatch_soon)
