"""``manage.py dashboard_refresh [--if-older-than SECONDS]`` recomputes the dashboard's
aggregated figures now (what the Celery beat task does every few minutes)."""

from __future__ import annotations

from datetime import timedelta

from django.core.management.base import BaseCommand, CommandParser
from django.utils import timezone

from c360.dashboard.selectors import snapshot_latest
from c360.dashboard.services import dashboard_refresh


class Command(BaseCommand):
    help = "Recompute the data-quality dashboard's aggregated figures."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--if-older-than",
            type=int,
            default=None,
            metavar="SECONDS",
            help="Only when there are no figures yet or they are older than this.",
        )

    def handle(self, *args, **options) -> None:
        age = options["if_older_than"]
        latest = snapshot_latest()
        if age is not None and latest and latest.computed_at >= timezone.now() - timedelta(seconds=age):
            self.stdout.write(f"Dashboard figures are recent ({latest.computed_at:%Y-%m-%d %H:%M}); kept.")
            return
        snapshot = dashboard_refresh()
        self.stdout.write(
            f"Dashboard figures refreshed in {snapshot.duration_ms / 1000:.1f}s "
            f"({snapshot.parties_active:,} active parties)."
        )
