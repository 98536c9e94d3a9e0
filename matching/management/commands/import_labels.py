"""``manage.py import_labels FILE``: known duplicates (and non-duplicates) as training labels."""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError, CommandParser

from matching.services.training import LabelFileError, labels_import


class Command(BaseCommand):
    help = "Load a CSV source_a,key_a,source_b,key_b,label (label: match or distinct)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", type=Path)

    def handle(self, *args, **options) -> None:
        path: Path = options["file"]
        try:
            with path.open(encoding="utf-8-sig", newline="") as handle:
                result = labels_import(handle=handle)
        except OSError as exc:
            raise CommandError(f"{path}: cannot be read: {exc}") from exc
        except UnicodeDecodeError as exc:
            raise CommandError(f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start}).") from exc
        except LabelFileError as exc:
            raise CommandError(f"{path.name}: {exc}") from exc
        self.stdout.write(
            self.style.SUCCESS(
                f"Stored {result.stored} labels ({result.match} match, {result.distinct} distinct)."
            )
        )
