"""Celery tasks of the project app: thin callers of services."""

from celery import shared_task


@shared_task(name="c360.tasks_recover")
def tasks_recover_task() -> int:
    """Send again the jobs whose worker died (beat runs it every minute; see c360.kernel.durable)."""
    from c360.kernel.durable import tasks_recover

    return len(tasks_recover())
