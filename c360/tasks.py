"""Celery tasks of the project app: thin callers of services."""

from celery import shared_task


@shared_task(name="c360.dashboard_refresh")
def dashboard_refresh_task() -> int:
    """Recompute the dashboard's aggregated figures (beat runs it every few minutes)."""
    from django.core.cache import cache

    from c360.dashboard.services import REFRESH_NOW_KEY, REFRESH_SOON_KEY, dashboard_refresh

    cache.delete_many([REFRESH_SOON_KEY, REFRESH_NOW_KEY])  # changes from now on need their own
    return dashboard_refresh().duration_ms


@shared_task(name="c360.tasks_recover")
def tasks_recover_task() -> int:
    """Send again the jobs whose worker died (beat runs it every minute; see c360.durable)."""
    from c360.durable import tasks_recover

    return len(tasks_recover())
