"""Celery tasks of the parties app: thin callers of services, taking ids."""

from celery import shared_task

from c360.kernel.durable import DurableTask
from parties.services.golden import party_golden_refresh


@shared_task(name="parties.golden_refresh")
def golden_refresh(party_id: int) -> str:
    party = party_golden_refresh(party_id=party_id)
    return party.display_name


@shared_task(name="parties.import_job_run", bind=True, base=DurableTask, acks_late=True)
def import_job_run_task(self, job_id: int) -> str:
    """Sent again if its worker dies (``DurableTask``): it then takes over the job and
    continues after the last committed batch."""
    from parties.services.imports.jobs import import_job_run

    return import_job_run(job_id=job_id, resume=self.resumed).status


@shared_task(name="parties.golden_refresh_all", base=DurableTask, acks_late=True)
def golden_refresh_all_task(after_id: int = 0) -> int | None:
    """One batch, then the next as a new task: a crash loses at most one batch."""
    from parties.services.survivorship import golden_refresh_batch

    last = golden_refresh_batch(after_id=after_id)
    if last is not None:
        golden_refresh_all_task.delay(last)
    return last


@shared_task(name="parties.import_job_dry_run", bind=True, base=DurableTask, acks_late=True)
def import_job_dry_run_task(self, job_id: int) -> str:
    """A draft's preview. Sent again if its worker dies (``DurableTask``): it then takes the
    preview over (its claim knows the dead process) and runs it from the start."""
    from parties.services.imports.dry_run import import_job_dry_run

    return import_job_dry_run(job_id=job_id).dry_run_status
