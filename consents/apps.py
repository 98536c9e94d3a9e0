from django.apps import AppConfig


class ConsentsConfig(AppConfig):
    name = "consents"
    verbose_name = "Consents and privacy"

    def ready(self) -> None:
        from consents.services.merge_policy import PARTICIPANT
        from parties.extensions import merge_participant_register

        merge_participant_register(PARTICIPANT)
