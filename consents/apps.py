from django.apps import AppConfig


class ConsentsConfig(AppConfig):
    name = "consents"
    verbose_name = "Consents and privacy"

    def ready(self) -> None:
        from django.urls import reverse

        from consents.services.merge_policy import PARTICIPANT
        from parties.extensions import merge_participant_register, party_links_register

        merge_participant_register(PARTICIPANT)

        from consents.services.erasure import tombstones_guard_hook
        from parties.extensions import parties_changed_register

        parties_changed_register(tombstones_guard_hook)

        from consents.services.consent_import import CONSENTS_KIND
        from parties.extensions import import_kind_register

        import_kind_register(CONSENTS_KIND)

        def links(user, party) -> list[tuple[str, str]]:
            links = []
            if user.has_perm("consents.view_contactpointtypeconsent"):
                links.append(("Consents and preferences", reverse("consents:preferences", args=[party.pk])))
            if user.has_perm("consents.handle_privacy_request"):
                links.append(
                    ("Subject access export (JSON)", reverse("consents:access_export", args=[party.pk]))
                )
            if user.has_perm("consents.erase_party") and not party.erased_at:
                links.append(("Erase (right to be forgotten)", reverse("consents:erase", args=[party.pk])))
            return links

        party_links_register(links)

        from consents.party_section import consent_section
        from parties.extensions import party_sections_register

        party_sections_register(consent_section)

        from consents.party_api import PARTY_API_PART
        from parties.extensions import party_api_part_register

        party_api_part_register(PARTY_API_PART)

        from consents.timeline import LEDGER
        from parties.extensions import timeline_source_register

        timeline_source_register(LEDGER)
