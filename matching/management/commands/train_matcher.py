"""``manage.py train_matcher [--sync]``: train the matcher from every stored label."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError, CommandParser

from c360.kernel.text import sentence
from matching.services.training import TooFewLabels, labels_check, matcher_train
from matching.tasks import train_task


class Command(BaseCommand):
    help = "Train the matcher from all stored labels; the new model becomes the active one."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--sync", action="store_true", help="Train in this process instead of on a Celery worker."
        )

    def handle(self, *args, **options) -> None:
        try:
            matches, distincts = labels_check()
            self.stdout.write(f"Training from {matches} 'match' and {distincts} 'distinct' labels…")
            if options["sync"]:
                model = matcher_train()
            else:
                from matching.models import MatcherModel

                model = MatcherModel.objects.get(pk=train_task.delay().get(timeout=3600))
        except TooFewLabels as exc:
            raise CommandError(sentence(exc)) from exc
        phases = ", ".join(
            f"{name.replace('_', ' ')} {seconds:.1f}s" for name, seconds in model.phase_seconds.items()
        )
        self.stdout.write(
            self.style.SUCCESS(
                f"Trained {model} in {model.training_seconds:.1f}s{f' ({phases})' if phases else ''}; "
                "it is now the active model."
            )
        )
        for note in model.notes:
            self.stdout.write(self.style.WARNING(note["text"]))
