"""Celery tasks of the parties app: thin callers of services, taking ids."""

from celery import shared_task

from parties.services.golden import party_golden_refresh


@shared_task(name="parties.golden_refresh")
def golden_refresh(party_id: int) -> str:
    party = party_golden_refresh(party_id=party_id)
    return party.display_name
