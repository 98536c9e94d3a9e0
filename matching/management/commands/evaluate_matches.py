"""``manage.py evaluate_matches TRUTH.csv``: how close the engine's clusters are to the truth."""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError, CommandParser

from matching.models import MatcherModel
from matching.services.evaluation import (
    TruthFileError,
    large_entities_compute,
    predicted_clusters,
    reliability_compute,
    reliability_lines,
    scores_compute,
    truth_read,
)


class Command(BaseCommand):
    help = "Pairwise precision/recall/F1 and B-cubed precision/recall against a truth file."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("truth", type=Path, help="CSV source,source_key,entity_id")
        parser.add_argument(
            "--no-reliability",
            action="store_true",
            help="skip the table of score bands (it scores every candidate pair again)",
        )

    def handle(self, *args, **options) -> None:
        try:
            with options["truth"].open(encoding="utf-8-sig", newline="") as handle:
                truth = truth_read(handle)
        except OSError as exc:
            raise CommandError(f"{options['truth']}: cannot be read: {exc}") from exc
        except TruthFileError as exc:
            raise CommandError(f"{options['truth'].name}: {exc}") from exc
        predicted = predicted_clusters()
        scores = scores_compute(predicted, truth)
        large = large_entities_compute(predicted, truth)
        model = MatcherModel.objects.filter(is_active=True).first()
        labels = f"{model.labels_match + model.labels_distinct}" if model else "no model trained yet"
        self.stdout.write(
            f"records {scores.records} (missing from the database: {scores.missing})\n"
            f"pairwise precision {scores.pairwise_precision:.4f} recall {scores.pairwise_recall:.4f} "
            f"F1 {scores.pairwise_f1:.4f}\n"
            f"B-cubed precision {scores.bcubed_precision:.4f} recall {scores.bcubed_recall:.4f}\n"
            f"labels the model was trained on: {labels}\n"
            f"people with {large.min_records}+ records: {large.entities}, kept in one cluster "
            f"{large.kept_whole}; pairwise recall among their records {large.pairwise_recall:.4f}, "
            f"precision of their clusters {large.pairwise_precision:.4f}"
        )
        if model is not None and not options["no_reliability"]:
            self.stdout.write("\n".join(reliability_lines(reliability_compute(truth))))
