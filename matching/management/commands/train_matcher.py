"""``manage.py train_matcher [--sync]``: train the matcher from every stored label."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError, CommandParser

from matching.services.training import (
    MIN_DISTINCT_LABELS,
    MIN_MATCH_LABELS,
    TooFewLabels,
    label_counts,
    matcher_train,
)
from matching.tasks import train_task


class Command(BaseCommand):
    help = "Train the matcher from all stored labels; the new model becomes the active one."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--sync", action="store_true",
                            help="Train in this process instead of on a Celery worker.")

    def handle(self, *args, **options) -> None:
        matches, distincts = label_counts()
        if matches < MIN_MATCH_LABELS or distincts < MIN_DISTINCT_LABELS:
            raise CommandError(
                f"Training needs at least {MIN_MATCH_LABELS} 'match' and {MIN_DISTINCT_LABELS} "
                f"'distinct' labels; there are {matches} and {distincts}. Label more pairs or "
                "load a list of known duplicates with import_labels.")
        self.stdout.write(f"Training from {matches} 'match' and {distincts} 'distinct' labels…")
        try:
            if options["sync"]:
                model = matcher_train()
            else:
                from matching.models import MatcherModel

                model = MatcherModel.objects.get(pk=train_task.delay().get(timeout=3600))
        except TooFewLabels as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(self.style.SUCCESS(
            f"Trained {model} in {model.training_seconds:.1f}s; it is now the active model."))
