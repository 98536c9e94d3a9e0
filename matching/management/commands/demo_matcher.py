"""``manage.py demo_matcher --truth FILE``: give the demo a trained matcher and a merge queue.

Takes 30 known duplicates and 30 known non-duplicates from ``seed_demo``'s truth file as
labels (as an organization's list of known duplicates would be), trains, and runs a full
match, so a fresh demo opens with suggestions to review. Demo only: real matchers are
trained by stewards on the training page.
"""

from __future__ import annotations

import csv
from collections import defaultdict
from pathlib import Path

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError, CommandParser

from matching.models import MatcherModel


class Command(BaseCommand):
    help = "Train the matcher from the demo's truth file and run a full match (demo only)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--truth", type=Path, required=True, help="seed_demo's --truth file.")
        parser.add_argument("--if-untrained", action="store_true",
                            help="Do nothing when a model exists already.")

    def handle(self, *args, **options) -> None:
        if options["if_untrained"] and MatcherModel.objects.exists():
            self.stdout.write("A matcher is trained already; nothing to do.")
            return
        truth: Path = options["truth"]
        if not truth.exists():
            if options["if_untrained"]:
                self.stdout.write(f"{truth} is missing: the matcher stays untrained.")
                return
            raise CommandError(f"{truth}: no such file (write it with seed_demo --truth).")
        groups = defaultdict(list)
        with truth.open(newline="") as handle:
            for row in csv.DictReader(handle):
                groups[row["entity_id"]].append((row["source"], row["source_key"]))
        pairs = [g[:2] for g in groups.values() if len(g) > 1][:30]
        singles = [g[0] for g in groups.values() if len(g) == 1][:60]
        labels = truth.with_name("demo-labels.csv")
        with labels.open("w", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(["source_a", "key_a", "source_b", "key_b", "label"])
            writer.writerows([*a, *b, "match"] for a, b in pairs)
            writer.writerows([*first, *second, "distinct"]
                             for first, second in zip(singles[::2], singles[1::2], strict=False))
        call_command("import_labels", str(labels), stdout=self.stdout)
        call_command("train_matcher", "--sync", stdout=self.stdout)
        call_command("rematch", "--full", "--sync", stdout=self.stdout)
