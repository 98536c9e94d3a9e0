from django.apps import AppConfig


class MatchingConfig(AppConfig):
    name = "matching"
    verbose_name = "Matching and the steward queue"

    def ready(self) -> None:
        from matching.services.runs import parties_changed_rematch
        from parties.extensions import parties_changed_register

        parties_changed_register(parties_changed_rematch)
