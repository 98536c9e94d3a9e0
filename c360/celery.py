"""The Celery app. Settings come from Django's settings under the CELERY_ namespace."""

import os

from celery import Celery

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
}
