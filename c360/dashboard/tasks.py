"""The dashboard's Celery task: a thin caller of its service."""

from celery import shared_task


@shared_task(name="c360.dashboard_refresh")  # the name beat schedules and queued messages carry
def dashboard_refresh_task() -> int:
    """Recompute the dashboard's aggregated figures (beat runs it every few minutes)."""
    from django.core.cache import cache

    from c360.dashboard.services import REFRESH_NOW_KEY, REFRESH_SOON_KEY, dashboard_refresh

    cache.delete_many([REFRESH_SOON_KEY, REFRESH_NOW_KEY])  # changes from now on need their own
    return dashboard_refresh().duration_ms
