"""``manage.py rematch [--full] [--sync]``: match new and changed parties (or all of them)."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError, CommandParser

from matching.models import MatchRun, RunStatus
from matching.services.runs import (
    RunBusy,
    match_run_execute,
    match_run_request,
    parties_changed_since_last_run,
    run_wait,
)


class Command(BaseCommand):
    help = (
        "Match parties changed since the last run (all of them with --full or the first "
        "time) and refresh the pending suggestions."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--full",
            action="store_true",
            help="Match everything; without it only parties changed since the "
            "last run (everything, the first time).",
        )
        parser.add_argument(
            "--sync", action="store_true", help="Do all the work in this process instead of on the workers."
        )
        parser.add_argument(
            "--threshold",
            type=float,
            default=None,
            help="Review threshold for this run (default: the administrators' "
            "setting): clusters scoring below it are not suggested.",
        )

    def handle(self, *args, **options) -> None:
        threshold = options["threshold"]
        if threshold is not None and not 0 < threshold < 1:
            raise CommandError(f"--threshold {threshold} must be between 0 and 1.")
        party_ids = None if options["full"] else parties_changed_since_last_run()
        run = match_run_request(party_ids=party_ids, threshold=threshold, queue=not options["sync"])
        if run is None:
            raise CommandError(
                "no trained model yet: train the matcher first "
                "(the training page, or manage.py train_matcher)."
            )
        if options["sync"]:
            try:
                run = match_run_execute(run_id=run.pk, inline=True)
            except RunBusy as exc:
                MatchRun.objects.filter(pk=run.pk).delete()
                raise CommandError(f"{exc}; try again when it has finished.") from exc
        else:
            self.stdout.write(f"{run} queued; waiting for the workers (Ctrl-C stops waiting, not the run)…")
            run = run_wait(run.pk)
        self.stdout.write(
            f"{run} ({'full' if run.full else 'incremental'}): {run.parties_blocked} parties "
            f"fingerprinted, {run.block_keys} block keys, {run.candidate_pairs} candidate pairs, "
            f"{run.pairs_scored} scored{_budget(run)}, {run.pairs_kept} kept, {run.clusters} suggestions; "
            "seconds per phase: "
            + ", ".join(
                f"{phase} {run.phase_seconds[phase]}"
                for phase in ("fingerprinting", "scoring", "clustering")
                if phase in run.phase_seconds
            )
        )
        if run.status != RunStatus.SUCCEEDED:
            raise CommandError(f"{run} failed: {run.error}")


def _budget(run) -> str:
    if not run.chunks_over_budget:
        return ""
    return (
        f" (pair budget {run.pair_budget} a party: {run.chunks_over_budget} chunks over it kept "
        f"{run.partner_cap}+ closest partners a party)"
    )
