"""``manage.py demo_matcher --truth FILE``: give the demo a trained matcher and a merge queue.

Takes 30 known duplicates and 30 known non-duplicates from ``seed_demo``'s truth file as
labels (as an organization's list of known duplicates would be), trains, and runs a full
match, so a fresh demo opens with suggestions to review. Then the demo's steward and
administrator decide a few of the most likely suggestions the way the truth file says (merge
or "not a match"), through the same services as the queue, so the dashboard's activity and
throughput charts have something to show. Demo only: real matchers are trained by stewards on
the training page.
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
        parser.add_argument(
            "--if-untrained", action="store_true", help="Do nothing when a model exists already."
        )
        parser.add_argument(
            "--decide",
            type=int,
            default=30,
            metavar="N",
            help="Suggestions the demo steward and administrator decide (default 30).",
        )

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
        entity_of: dict[tuple[str, str], str] = {}
        with truth.open(newline="") as handle:
            for row in csv.DictReader(handle):
                groups[row["entity_id"]].append((row["source"], row["source_key"]))
                entity_of[(row["source"], row["source_key"])] = row["entity_id"]
        pairs = [g[:2] for g in groups.values() if len(g) > 1][:30]
        singles = [g[0] for g in groups.values() if len(g) == 1][:60]
        labels = truth.with_name("demo-labels.csv")
        with labels.open("w", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(["source_a", "key_a", "source_b", "key_b", "label"])
            writer.writerows([*a, *b, "match"] for a, b in pairs)
            writer.writerows(
                [*first, *second, "distinct"]
                for first, second in zip(singles[::2], singles[1::2], strict=False)
            )
        call_command("import_labels", str(labels), stdout=self.stdout)
        call_command("train_matcher", "--sync", stdout=self.stdout)
        call_command("rematch", "--full", "--sync", stdout=self.stdout)
        self._decide(options["decide"], entity_of)

    def _decide(self, count: int, entity_of: dict[tuple[str, str], str]) -> None:
        """Pending suggestions decided as the truth file says: two thirds by the demo steward,
        the rest by the administrator."""
        from django.contrib.auth import get_user_model

        from matching.models import MatchSuggestion, SuggestionStatus
        from matching.services.decisions import suggestion_reject
        from matching.services.review import suggestion_merge
        from parties.models import SourceRecord

        deciders = list(
            get_user_model().objects.filter(username__in=["steward", "admin"]).order_by("-username")
        )
        if not deciders or count <= 0:
            return
        merged = rejected = 0
        # The likeliest and the least likely suggestions, as a steward clearing the easy ends of
        # the queue would: mostly merges, some "not a match".
        pending = MatchSuggestion.objects.filter(status=SuggestionStatus.PENDING).values_list("pk", flat=True)
        likeliest = list(pending.order_by("-score", "pk")[: count - count // 3])
        least = list(pending.exclude(pk__in=likeliest).order_by("score", "pk")[: count // 3])
        for i, suggestion_id in enumerate(likeliest + least):
            user = deciders[0] if i % 3 or len(deciders) == 1 else deciders[1]
            members = MatchSuggestion.objects.get(pk=suggestion_id).members.values_list("party_id", flat=True)
            records = SourceRecord.objects.filter(party_id__in=list(members)).values_list(
                "party_id", "source_system__name", "source_key"
            )
            entities = {entity_of.get((source, key)) for _, source, key in records}
            try:
                if len(entities) == 1 and None not in entities:
                    suggestion_merge(suggestion_id=suggestion_id, user=user)
                    merged += 1
                else:
                    suggestion_reject(suggestion_id=suggestion_id, user=user)
                    rejected += 1
            except ValueError as exc:  # already handled, stale, refused or closed: left to a person
                self.stdout.write(f"  suggestion #{suggestion_id} left pending: {exc}")
        self.stdout.write(
            f"Demo decisions: {merged} merged, {rejected} not a match "
            f"(by {', '.join(u.username for u in deciders)})."
        )
