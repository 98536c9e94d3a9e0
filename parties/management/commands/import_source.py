"""``manage.py import_source FILE --source NAME``: import a source file from the shell."""

from __future__ import annotations

import json
import time
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError, CommandParser

from parties.extensions import import_kinds
from parties.models import ImportJob, ImportStatus, SourceSystem
from parties.services.imports.jobs import ImportJobError, import_job_run
from parties.services.imports.mapping import MappingError
from parties.services.imports.readers import ImportFileError
from parties.services.imports.submit import ImportKindError, import_submit


class Command(BaseCommand):
    help = (
        "Import a CSV, XLSX or JSON Lines file from a source system. Creates the source "
        "system if needed. Exits non-zero when the job fails."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", type=Path)
        parser.add_argument("--source", required=True, help="Source system name.")
        parser.add_argument(
            "--kind", default="parties", help=f"File kind: {', '.join(k.name for k in import_kinds())}."
        )
        parser.add_argument(
            "--mapping", type=Path, help='JSON file {"target field": "column" or ["col", "col"]}.'
        )
        parser.add_argument(
            "--save-mapping",
            action="store_true",
            help="Remember the mapping on the source system for its next file.",
        )
        parser.add_argument(
            "--sync", action="store_true", help="Run in this process instead of on a Celery worker."
        )
        parser.add_argument(
            "--region", default="US", help="Phone region for a new source system (ISO alpha-2)."
        )
        parser.add_argument(
            "--date-order",
            default="YMD",
            choices=["YMD", "DMY", "MDY"],
            help="Date order for a new source system.",
        )

    def handle(self, *args, **options) -> None:
        path: Path = options["file"]
        if not path.is_file():
            raise CommandError(f"{path}: no such file.")
        mapping = self._mapping(options["mapping"])
        # the source system by its name, or registered with it when the import starts
        source = SourceSystem.objects.filter(name=options["source"]).first()
        new_source = (
            None
            if source is not None
            else {
                "name": options["source"],
                "default_region": options["region"].upper(),
                "date_order": options["date_order"],
            }
        )
        try:
            with path.open("rb") as stream:
                job = import_submit(
                    stream=stream,
                    original_name=path.name,
                    kind=options["kind"],
                    source=source,
                    new_source=new_source,
                    start=True,
                    mapping=mapping,
                    mapping_partial=True,
                    save_mapping=options["save_mapping"],
                    enqueue=not options["sync"],
                )
        except ImportKindError as exc:
            raise CommandError(f"--kind {exc} ({', '.join(k.name for k in import_kinds())}).") from exc
        except ImportFileError as exc:
            raise CommandError(str(exc)) from exc
        except ImportJobError as exc:  # the source system named
            raise CommandError(f"--source {options['source']!r}: {exc}.") from exc
        except MappingError as exc:
            raise CommandError(f"{path.name}: {exc}") from exc
        source = job.source_system
        if new_source is not None:
            self.stdout.write(f"Created source system {source.name!r}.")
        columns = ", ".join(f"{target}←{'+'.join(cols)}" for target, cols in job.mapping.items())
        self.stdout.write(f"Import #{job.pk}: {path.name} → {source.name} (columns: {columns})")
        job = import_job_run(job_id=job.pk) if options["sync"] else self._wait(job)
        self._report(job)

    def _mapping(self, path: Path | None) -> dict | None:
        if path is None:
            return None
        try:
            mapping = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError) as exc:
            raise CommandError(f"--mapping {path}: cannot be read: {exc}") from exc
        except json.JSONDecodeError as exc:
            raise CommandError(
                f"--mapping {path}: not valid JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}"
            ) from exc
        if not isinstance(mapping, dict):
            raise CommandError(f"--mapping {path}: must be a JSON object of target field → column(s).")
        return mapping

    def _wait(self, job: ImportJob) -> ImportJob:
        self.stdout.write("Queued for a Celery worker; waiting (Ctrl-C stops waiting, not the job)…")
        last = -1
        while not job.is_finished:
            time.sleep(1)
            job.refresh_from_db()
            if job.rows_read != last:
                last = job.rows_read
                self.stdout.write(f"  {job.rows_read:,} rows read ({job.get_status_display()})")
        return job

    def _report(self, job: ImportJob) -> None:
        self.stdout.write(
            f"rows read {job.rows_read}, created {job.rows_created}, updated {job.rows_updated}, "
            f"unchanged {job.rows_unchanged}, rejected {job.rows_rejected}; "
            f"data-quality issues {job.issues_count}"
        )
        for rejection in job.rejections.all()[:20]:
            self.stdout.write(f"  line {rejection.line}: {rejection.reason}")
        if job.rows_rejected > 20:
            self.stdout.write(f"  … {job.rows_rejected - 20} more in the error report")
        if job.status != ImportStatus.SUCCEEDED:
            raise CommandError(f"Import #{job.pk} {job.get_status_display().lower()}: {job.error}")
        self.stdout.write(self.style.SUCCESS(f"Import #{job.pk} succeeded."))
