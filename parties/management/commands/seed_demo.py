"""``manage.py seed_demo``: realistic, messy, multi-source demo customers (see README)."""

from __future__ import annotations

import time
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError, CommandParser

from parties.models import SourceRecord
from parties.services.demo import demo_seed


def _rate(value: str) -> float:
    try:
        rate = float(value)
    except ValueError as exc:
        raise CommandError(f"--duplicate-rate {value!r} is not a number between 0 and 1.") from exc
    if not 0 <= rate <= 1:
        raise CommandError(f"--duplicate-rate {rate} must be between 0 and 1.")
    return rate


class Command(BaseCommand):
    help = (
        "Create realistic multi-source customer data (typos, nicknames, format variants, "
        "moved addresses, organizations). Deterministic for a given --seed."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--parties", type=int, required=True, help="Number of distinct real-world customers to generate."
        )
        parser.add_argument(
            "--sources", type=int, default=3, help="How many source systems they are spread over (1-9)."
        )
        parser.add_argument(
            "--duplicate-rate",
            type=str,
            default="0.3",
            help="Share of customers that appear in more than one record (0-1).",
        )
        parser.add_argument("--seed", type=int, default=0, help="Random seed.")
        parser.add_argument(
            "--truth",
            type=Path,
            default=None,
            help="Write source,source_key,entity_id of the true duplicates here.",
        )
        parser.add_argument(
            "--if-empty",
            action="store_true",
            help="Do nothing when the database already holds source records.",
        )

    def handle(self, *args, **options) -> None:
        if options["parties"] < 0:
            raise CommandError(f"--parties {options['parties']} must be 0 or more.")
        rate = _rate(options["duplicate_rate"])
        if options["if_empty"] and SourceRecord.objects.exists():
            self.stdout.write("Demo data already present; nothing to do (--if-empty).")
            return
        started = time.monotonic()
        try:
            result = demo_seed(
                parties=options["parties"],
                sources=options["sources"],
                duplicate_rate=rate,
                seed=options["seed"],
                truth_path=options["truth"],
            )
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        elapsed = time.monotonic() - started
        self.stdout.write(
            self.style.SUCCESS(
                f"Seeded {result.records_created} source records ({options['parties']} customers) "
                f"in {result.sources} source systems in {elapsed:.1f}s; "
                f"{result.engagements} engagements, {result.memberships} memberships, "
                f"{result.relationships} relationships; {result.records_skipped} already present."
            )
        )
        if options["truth"]:
            self.stdout.write(f"Truth file: {options['truth']} ({result.truth_rows} rows).")
