from django.apps import AppConfig


class MatchingConfig(AppConfig):
    name = "matching"
    verbose_name = "Matching and the steward queue"

    def ready(self) -> None:
        from matching.services.decisions import decisions_lapse
        from matching.services.party_merges import PARTICIPANT
        from matching.services.runs import parties_changed_rematch
        from parties.extensions import merge_participant_register, parties_changed_register

        # Order matters: a changed party's old rejections lapse before it is re-matched.
        parties_changed_register(decisions_lapse)
        parties_changed_register(parties_changed_rematch)
        merge_participant_register(PARTICIPANT)

        from matching.services.erasure import PARTICIPANT as ERASURE_PARTICIPANT
        from parties.extensions import erasure_participant_register

        erasure_participant_register(ERASURE_PARTICIPANT)

        from matching.services.import_preview import import_preview_assess
        from parties.extensions import import_preview_assessor_register

        import_preview_assessor_register(import_preview_assess)

        from matching.services.entry import possible_duplicates
        from parties.extensions import duplicate_check_register

        duplicate_check_register(possible_duplicates)
