"""``manage.py export_matches FILE``: one row per source record with its cluster."""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError, CommandParser

from matching.services.evaluation import export_write


class Command(BaseCommand):
    help = "Write source,source_key,party_id,cluster_id,score for every source record."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", type=Path)

    def handle(self, *args, **options) -> None:
        try:
            with options["file"].open("w", newline="", encoding="utf-8") as handle:
                count = export_write(handle)
        except OSError as exc:
            raise CommandError(f"{options['file']}: cannot be written: {exc}") from exc
        self.stdout.write(self.style.SUCCESS(f"Wrote {count} records to {options['file']}."))
