from django.apps import AppConfig


class PartiesConfig(AppConfig):
    name = "parties"
    verbose_name = "Customer 360 parties"

    def ready(self) -> None:
        from parties.extensions import import_kind_register
        from parties.services.imports.engagement_rows import ENGAGEMENTS_KIND
        from parties.services.imports.membership_rows import MEMBERSHIPS_KIND
        from parties.services.imports.party_rows import PARTIES_KIND

        import_kind_register(PARTIES_KIND)
        import_kind_register(ENGAGEMENTS_KIND)
        import_kind_register(MEMBERSHIPS_KIND)

        from parties.extensions import erasure_participant_register
        from parties.services.imports.dry_run import ERASURE_PARTICIPANT as PREVIEWS

        erasure_participant_register(PREVIEWS)  # the previews' reports of imports (dry runs)
