"""The Celery app. Settings come from Django's settings under the CELERY_ namespace."""

import os

from celery import Celery
from celery.signals import worker_ready

from c360.env import env_int

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "c360.settings.local")

app = Celery("c360")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

# Periodic tasks, run by one beat process (`celery -A c360 beat`, or a worker started with -B
# as `make run` does). The dashboard's figures that need full scans are refreshed this often.
app.conf.beat_schedule = {
    "dashboard-refresh": {
        "task": "c360.dashboard_refresh",
        "schedule": float(env_int("C360_DASHBOARD_REFRESH_SECONDS", 600, minimum=10)),
    },
    # Jobs whose worker died are sent again (c360.kernel.durable); also done when a worker starts.
    "tasks-recover": {
        "task": "c360.tasks_recover",
        "schedule": float(env_int("C360_TASK_RECOVER_SECONDS", 60, minimum=5)),
    },
    # Known-answer checks take their answers from the queue's decisions, and a wrong "not a
    # match" on a known match is lifted before the next run skips the pair (matching.services.quality)
    "quality-checks-sync": {"task": "matching.quality_checks_sync", "schedule": 120.0},
    # Stored import files an erasure could not change after its commit (the process died, the
    # storage failed) are changed (consents.services.erasure.files)
    "erasure-files-retry": {"task": "consents.erasure_files_retry", "schedule": 60.0},
    # Webhook retries that fall due, and events a dead process left (c360.webhooks.services.dispatch)
    "webhooks-dispatch": {
        "task": "webhooks.dispatch",
        "schedule": float(env_int("C360_WEBHOOK_DISPATCH_SECONDS", 5, minimum=1)),
    },
}


@worker_ready.connect
def _recover_abandoned_jobs(sender=None, **kwargs) -> None:
    """A worker that starts (often because another one died) sends the jobs of dead workers
    again at once, instead of leaving them to the next beat."""
    from django.db import connections

    from c360.kernel.durable import tasks_recover

    try:
        tasks_recover(app)
    except Exception:  # a broken recovery must not keep the worker from starting
        import logging

        logging.getLogger(__name__).exception("recovering abandoned jobs failed")
    finally:
        connections.close_all()
