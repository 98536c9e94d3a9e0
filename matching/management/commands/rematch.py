"""``manage.py rematch [--full] [--sync]``: match every active party with the active model."""

from __future__ import annotations

import time

from django.core.management.base import BaseCommand, CommandError, CommandParser

from matching.models import MatchRun, RunStatus
from matching.services.runs import match_run_execute, parties_changed_since_last_run
from matching.tasks import match_run_task


class Command(BaseCommand):
    help = "Run the matcher over all active parties and refresh the pending suggestions."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--full", action="store_true",
                            help="Match everything; without it only parties changed since the "
                                 "last run (everything, the first time).")
        parser.add_argument("--sync", action="store_true", help="Run in this process.")
        parser.add_argument("--threshold", type=float, default=0.5,
                            help="Review threshold: clusters scoring below it are not suggested.")

    def handle(self, *args, **options) -> None:
        if not 0 < options["threshold"] < 1:
            raise CommandError(f"--threshold {options['threshold']} must be between 0 and 1.")
        party_ids = None if options["full"] else parties_changed_since_last_run()
        run = MatchRun.objects.create(full=party_ids is None, party_ids=party_ids or [],
                                      threshold=options["threshold"])
        if options["sync"]:
            run = match_run_execute(run_id=run.pk)
        else:
            match_run_task.delay(run.pk)
            while run.status in (RunStatus.QUEUED, RunStatus.RUNNING):
                time.sleep(1)
                run.refresh_from_db()
        self.stdout.write(
            f"{run} ({'full' if run.full else 'incremental'}): {run.parties_blocked} parties, "
            f"{run.block_keys} block keys, "
            f"{run.candidate_pairs} candidate pairs, {run.pairs_kept} kept, "
            f"{run.clusters} suggestions")
        if run.status != RunStatus.SUCCEEDED:
            raise CommandError(f"{run} failed: {run.error}")
