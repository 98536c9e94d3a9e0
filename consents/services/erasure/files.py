"""Erasure in stored import files (a step of ``erase.party_erase``; nothing else calls it).

Every stored file is looked at — finished jobs, and drafts (uploaded, mapping not started)
and queued ones too — with the import readers, row by row. A row is the erased customer's
when:

- its source key (the mapped ``source_key`` column, in the job's source system or the one the
  row's ``source_system`` column names) is one of the customer's source records, or the row is
  the line a record of theirs was last imported from; or
- it holds a value that identifies them — no other customer has it, and it is long enough to:
  their email address (as a whole address: ``schulz.77@example.org`` is not in
  ``anna.schulz.77@example.org``), their valid phone number written any way (by its national
  number with at most a trunk or country prefix), an identifier of five characters or more,
  or (customer files) their family name, given name and birth date together — unless the
  row's source key belongs to another customer's record, which makes it that customer's row.

A short or unreadable value ("ZQ-BADPHONE-77", read as "77"), a name alone, a city or a birth
date never makes a row the customer's. A file with only their rows is removed (a draft or
queued job loses its file and is cancelled); a file that mixes customers is rewritten without
their rows, which become empty lines — every other byte stays, so line numbers in reports and a
retried job's cursor still hold. An XLSX file is rewritten with the values of its first sheet
(the one imports read). The file's original name is redacted where it names the customer.

When: the files are read (``files_plan``) before the erasure locks anything, and only changed
after it commits: a rolled-back erasure leaves every file as it was. ``files_state`` is what the
erasure compares under its locks to know that the files it read are still the ones the jobs
point at. What is to be done to each file is written in the erasure's transaction as a
``PendingFileErasure`` row (``files_pending_record``: the file's storage name and line numbers,
never a value), so it commits with the erasure; after commit ``files_apply`` does each row and
deletes it in one short transaction that holds the row and its job's row, reading the file as it
is then: two erasures rewriting the same file one after the other both keep their lines emptied.
A row left pending (the process died after the commit, the storage failed) is retried by
``files_pending_apply`` (beat, every minute; ``manage.py erasure_files``); doing a row twice is
harmless.

Files are reached through the storage API (``job.file.storage``), so they may live in object
storage: a file system storage is read in place; any other is copied to a temporary file first.
"""

from __future__ import annotations

import csv
import logging
import os
import re
import shutil
import tempfile
import uuid
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import phonenumbers
from django.core.files import File
from django.db import transaction
from django.db.models import F, Q
from django.db.models.fields.files import FieldFile
from django.utils import timezone

from consents.models import PendingFileErasure
from consents.services.erasure.base import ERASED
from consents.services.erasure.values import long_enough, shared_values
from parties.models import (
    ContactPointEmail,
    ContactPointPhone,
    ImportJob,
    ImportRejection,
    ImportStatus,
    Party,
    PartyIdentification,
    SourceRecord,
    SourceSystem,
)
from parties.services import standardize as std
from parties.services.imports.jobs import job_file_info
from parties.services.imports.mapping import mapping_apply
from parties.services.imports.readers import FileInfo, file_verify, rows_iter
from parties.services.records import row_standardize

logger = logging.getLogger(__name__)

REMOVED_NOTE = "The file held only a customer erased on request and was removed."
_PHONE_LIKE = re.compile(r"[\d\s+().\-/]{7,40}")
_NOT_DIGITS = re.compile(r"\D+")
_SEPARATOR = "\x1f"  # joins a row's cells for a first, fast look


def _alternation(values: Iterable[str]) -> str:
    return "|".join(re.escape(v) for v in sorted(set(values), key=len, reverse=True))


def email_pattern(values: Iterable[str]) -> re.Pattern | None:
    """Whole email addresses: no address character may continue them on either side."""
    body = _alternation(v for v in values if v)
    if not body:
        return None
    return re.compile(rf"(?<![\w.@+\-])(?:{body})(?![\w@+\-]|\.\w)", re.IGNORECASE)


def name_pattern(values: Iterable[str]) -> re.Pattern | None:
    """Values in a file name: letters and digits may not continue them ("_" and "-" separate)."""
    body = _alternation(v for v in values if v)
    if not body:
        return None
    return re.compile(rf"(?<![^\W_])(?:{body})(?![^\W_])", re.IGNORECASE)


@dataclass
class Person:
    """What identifies the erased customer in a file (see the module's docstring)."""

    party_ids: list[int]
    keys: set[tuple[int, str]] = field(default_factory=set)  # (source system, source key)
    lines: set[tuple[int, int]] = field(default_factory=set)  # (job, line) a record came from
    emails: set[str] = field(default_factory=set)
    phones: set[tuple[str, str]] = field(default_factory=set)  # (country code, national number)
    identifiers: set[str] = field(default_factory=set)
    people: set[tuple[str, str, str]] = field(default_factory=set)  # family, given, birth date
    family_names: set[str] = field(default_factory=set)
    name_words: set[str] = field(default_factory=set)  # for the names of files that held them
    full_names: set[str] = field(default_factory=set)  # for the names of any file

    def __post_init__(self) -> None:
        self.emails_re = email_pattern(self.emails)
        self.phone_numbers = {nsn for _, nsn in self.phones}
        self.own_names_re = name_pattern(
            self.name_words
            | self.full_names
            | self.emails
            | self.identifiers
            | {k for _, k in self.keys if long_enough(k)}
        )
        self.any_names_re = name_pattern(self.full_names | self.emails | self.identifiers)

    def phone_in(self, cell: str) -> bool:
        if not self.phones or not _PHONE_LIKE.fullmatch(cell.strip()):
            return False
        digits = _NOT_DIGITS.sub("", cell)
        for code, nsn in self.phones:
            if digits.endswith(nsn) and digits[: len(digits) - len(nsn)] in (
                "",
                "0",
                code,
                "00" + code,
                "0" + code,
            ):
                return True
        return False

    def values_in(self, cells: Sequence[str]) -> bool:
        """Whether the cells hold an email, phone number or identifier of the customer."""
        joined = _SEPARATOR.join(cells)
        lowered = joined.lower()
        if self.emails_re and any(e in lowered for e in self.emails) and self.emails_re.search(joined):
            return True
        if self.phone_numbers:
            digits = _NOT_DIGITS.sub("", joined)
            if any(nsn in digits for nsn in self.phone_numbers) and any(self.phone_in(c) for c in cells):
                return True
        if self.identifiers:
            compact = std.identifier_normalize(joined)
            if any(i in compact for i in self.identifiers) and any(
                std.identifier_normalize(c) in self.identifiers for c in cells if len(c) < 200
            ):
                return True
        return False


def person_of(party_ids: Sequence[int]) -> Person:
    """Collect what identifies the customer, before erasure empties their rows."""
    ids = list(party_ids)
    keys, lines, people, names = set(), set(), set(), set()
    for system, key, job, line, standardized in SourceRecord.objects.filter(party_id__in=ids).values_list(
        "source_system_id", "source_key", "last_import_job_id", "import_line", "standardized"
    ):
        keys.add((system, std.collapse(key)))
        if job and line:
            lines.add((job, line))
        attributes = (standardized or {}).get("attributes") or {}
        people.add(
            (
                attributes.get("family_name", ""),
                attributes.get("given_name", ""),
                attributes.get("birth_date", ""),
            )
        )
        names.add((attributes.get("given_name", ""), attributes.get("family_name", "")))
    for family, given, birth in Party.objects.filter(pk__in=ids).values_list(
        "family_name", "given_name", "birth_date"
    ):
        people.add((family, given, birth.isoformat() if birth else ""))
    people = {(f.casefold(), g.casefold(), b) for f, g, b in people if f and g and b}
    emails: set[str] = set()
    shared = shared_values(ContactPointEmail, ids)
    for raw, normalized in (
        ContactPointEmail.objects.filter(party_id__in=ids)
        .exclude(normalized__in=shared)
        .values_list("raw_value", "normalized")
    ):
        emails.update(v.strip().lower() for v in (raw, normalized) if len(v.strip()) >= 6)
    phones = set()
    shared = shared_values(ContactPointPhone, ids)
    for normalized in ContactPointPhone.objects.filter(party_id__in=ids).values_list("normalized", flat=True):
        if not normalized.startswith("+") or normalized in shared:
            continue  # unreadable: its digits ("77") identify no one
        try:
            number = phonenumbers.parse(normalized)
        except phonenumbers.NumberParseException:
            continue
        nsn = phonenumbers.national_significant_number(number)
        if len(nsn) >= 7:
            phones.add((str(number.country_code), nsn))
    shared = shared_values(PartyIdentification, ids)
    identifiers = {
        v
        for v in PartyIdentification.objects.filter(party_id__in=ids).values_list("normalized", flat=True)
        if long_enough(v) and v not in shared
    }
    words: set[str] = set()
    full: set[str] = set()
    for given, family, display in Party.objects.filter(pk__in=ids).values_list(
        "given_name", "family_name", "display_name"
    ):
        names.add((given, family))
        if " " in display.strip():
            full.add(display.strip())
    for given, family in names:
        words.update(w for w in (given, family) if len(w) >= 3)
        if given and family:  # a file name may write them in either order
            full.update((f"{given} {family}", f"{family} {given}", f"{family}, {given}"))
    full = {re.sub(r"\s+", " ", n) for n in full}
    return Person(
        party_ids=ids,
        keys=keys,
        lines=lines,
        emails=emails,
        phones=phones,
        identifiers=identifiers,
        people=people,
        family_names={f for f, _, _ in people},
        name_words=words,
        full_names=full,
    )


@dataclass
class FilePlan:
    """What the erasure does with one stored file."""

    job: ImportJob
    name: str  # the stored file's name, as the job named it when it was read
    lines: set[int] = field(default_factory=set)  # the customer's data lines
    others: int = 0  # data rows of other customers
    header: bool = False  # the header line itself holds their values
    unreadable: bool = False
    encoding: str = ""  # the text encoding the rows were read in

    @property
    def remove(self) -> bool:
        return self.header or self.unreadable or (bool(self.lines) and not self.others)

    @property
    def rewrite(self) -> bool:
        return bool(self.lines) and not self.remove


class _Rows:
    """Decides, row by row, whether a row of one job's file is the customer's."""

    def __init__(self, job: ImportJob, person: Person, systems: dict[str, int]) -> None:
        self.job, self.person, self.systems = job, person, systems
        self.mapping = job.mapping if isinstance(job.mapping, dict) else {}
        # the columns each check needs, so a row is not mapped whole unless it may be theirs
        self.key_mapping = {t: c for t, c in self.mapping.items() if t in ("source_key", "source_system")}
        self.name_mapping = {
            t: c for t, c in self.mapping.items() if t in ("family_name", "given_name", "full_name")
        }
        self.source = job.source_or_pending()

    def _key(self, mapped: dict[str, str]) -> tuple[int, str] | None:
        key = std.collapse(mapped.get("source_key", ""))
        if not key:
            return None
        name = std.collapse(mapped.get("source_system", ""))
        system = self.systems.get(name.casefold()) if name else self.job.source_system_id
        return (system, key) if system else None

    def _same_person(self, values: dict[str, str]) -> bool:
        """Customer files: family name, given name and birth date of the customer, together."""
        if self.job.kind != "parties" or not self.person.people or not self.name_mapping:
            return False
        names = mapping_apply(self.name_mapping, values)
        if "family_name" in names:  # cheap checks first: most rows differ in their names
            family = std.name_clean(names.get("family_name", "")).casefold()
            given = std.name_clean(names.get("given_name", "")).casefold()
            if not any(f == family and g == given for f, g, _ in self.person.people):
                return False
        elif not any(f in names.get("full_name", "").casefold() for f in self.person.family_names):
            return False
        attributes = row_standardize(mapping_apply(self.mapping, values), source=self.source).attributes
        return (
            attributes.get("family_name", "").casefold(),
            attributes.get("given_name", "").casefold(),
            attributes.get("birth_date", ""),
        ) in self.person.people

    def is_person(self, line: int, values: dict[str, str]) -> bool:
        if (self.job.pk, line) in self.person.lines:
            return True
        key = self._key(mapping_apply(self.key_mapping, values)) if self.key_mapping else None
        if key in self.person.keys:
            return True
        if not (self.person.values_in(list(values.values())) or self._same_person(values)):
            return False
        # the row holds their values, but a row keyed to another customer's record is that
        # customer's (a shared family address, say): it stays
        return (
            key is None
            or not SourceRecord.objects.filter(source_system_id=key[0], source_key=key[1])
            .exclude(party_id__in=self.person.party_ids)
            .exists()
        )


def _local_path(file: FieldFile) -> Path | None:
    """Where the stored file is on this machine's file system, if it is there (a storage's
    ``path`` may also be missing, or name a place that holds nothing: an in-memory storage)."""
    try:
        local = Path(file.storage.path(str(file.name)))
    except NotImplementedError:
        return None
    return local if local.is_file() else None


@contextmanager
def stored_copy(file: FieldFile) -> Iterator[Path]:
    """A local path to read a stored file by: the file itself on a file system storage, else a
    temporary copy of it (object storage), removed afterwards."""
    name = str(file.name)
    if (local := _local_path(file)) is not None:
        yield local
        return
    with tempfile.TemporaryDirectory(prefix="c360-erasure-") as folder:
        copy = Path(folder) / Path(name).name
        with file.storage.open(name, "rb") as source, copy.open("wb") as target:
            shutil.copyfileobj(source, target)
        yield copy


def _scan(plan: FilePlan, path: Path, rows: _Rows, info: FileInfo) -> None:
    plan.lines, plan.others = set(), 0
    for row in rows_iter(path, info):
        if rows.is_person(row.line, row.values):
            plan.lines.add(row.line)
        else:
            plan.others += 1


def _plan(job: ImportJob, person: Person, systems: dict[str, int]) -> FilePlan | None:
    """What to do with the job's file, or None when it holds nothing of the customer's."""
    name = str(job.file.name)
    if not job.file.storage.exists(name):
        return None
    plan = FilePlan(job=job, name=name, encoding=job.encoding)
    plan.header = person.values_in([str(h) for h in job.headers or []])
    rows = _Rows(job, person, systems)
    info = job_file_info(job)
    with stored_copy(job.file) as path:
        try:
            try:
                _scan(plan, path, rows, info)
            except UnicodeDecodeError:
                # a draft's encoding is guessed from the file's head; settle it as an import would
                info = file_verify(path, info, original_name=job.original_name)
                plan.encoding = info.encoding
                _scan(plan, path, rows, info)
        except Exception:  # noqa: BLE001 — any reader failure: the file is judged by a plain search
            logger.warning(
                "import #%s: file could not be read row by row for an erasure", job.pk, exc_info=True
            )
            plan.unreadable = True
            plan.lines, plan.others = set(), 0
            return plan if _mentions(path, person, job) else None  # removed whole
    return plan if plan.lines or plan.header else None


def _mentions(path: Path, person: Person, job: ImportJob) -> bool:
    """A file the readers cannot read: whether its text mentions the customer at all."""
    data = path.read_bytes()
    if data.startswith(b"PK"):  # a workbook that cannot be opened: judged by its job
        return any(j == job.pk for j, _ in person.lines)
    text = data.decode("utf-8", errors="replace")
    return person.values_in(text.splitlines()) or any(j == job.pk for j, _ in person.lines)


def files_state() -> dict[str, Any]:
    """What the plans depend on besides the customer: every job with a stored file, with what
    decides how its rows are read and what the erasure writes to its row (its name; its status:
    a draft is cancelled, a running job is not), and the source systems' names. Taken before
    the files are read and again under the erasure's locks; if it differs, the plans may be
    stale."""
    jobs = ImportJob.objects.exclude(file="").order_by("pk")
    return {
        "jobs": list(
            jobs.values_list(
                "pk",
                "file",
                "file_size",
                "original_name",
                "status",
                "kind",
                "file_format",
                "encoding",
                "delimiter",
                "headers",
                "mapping",
                "source_system_id",
                "new_source",
            )
        ),
        "systems": sorted(SourceSystem.objects.values_list("pk", "name")),
    }


def files_plan(person: Person) -> list[FilePlan]:
    """Every stored file that holds the customer's rows, and what to do with it. Reads the
    files: call it before taking locks."""
    systems = {name.casefold(): pk for pk, name in SourceSystem.objects.values_list("pk", "name")}
    plans = []
    for job in ImportJob.objects.exclude(file="").select_related("source_system").order_by("pk"):
        if (plan := _plan(job, person, systems)) is not None:
            plans.append(plan)
    return plans


def rejections_erase(plans: Sequence[FilePlan], redact) -> int:
    """Rejected lines of the files that were the customer's rows: their values go."""
    condition = Q()
    for plan in plans:
        if plan.lines:
            condition |= Q(job_id=plan.job.pk, line__in=sorted(plan.lines))
    if not condition:
        return 0
    changed = 0
    for pk, reason in ImportRejection.objects.filter(condition).values_list("pk", "reason"):
        changed += ImportRejection.objects.filter(pk=pk).update(value=ERASED, reason=redact(reason)[:500])
    return changed


def _terminator(line: bytes) -> bytes:
    return line[len(line.rstrip(b"\r\n")) :]


def _csv_spans(path: Path, encoding: str, delimiter: str) -> dict[int, int]:
    """First line → last line of every CSV record (a quoted value may hold line breaks)."""
    spans: dict[int, int] = {}
    with path.open("r", encoding=encoding, newline="") as handle:
        reader = csv.reader(handle, delimiter=delimiter)
        while True:
            start = reader.line_num + 1
            try:
                next(reader)
            except StopIteration:
                return spans
            spans[start] = reader.line_num


def _rewrite_text(plan: FilePlan, source: Path, target: Path) -> None:
    job = plan.job
    spans = (
        _csv_spans(source, plan.encoding, job.delimiter)
        if job.file_format == "csv"
        else {line: line for line in plan.lines}
    )
    lines = source.read_bytes().splitlines(keepends=True)
    for start in plan.lines:
        for number in range(start, spans.get(start, start) + 1):
            if 0 < number <= len(lines):
                lines[number - 1] = _terminator(lines[number - 1])
    target.write_bytes(b"".join(lines))


def _rewrite_xlsx(plan: FilePlan, source: Path, target: Path) -> None:
    from openpyxl import Workbook, load_workbook

    book = load_workbook(source, read_only=True, data_only=True)
    try:
        sheet = book.worksheets[0]
        out = Workbook(write_only=True)
        written = out.create_sheet(sheet.title)
        for number, values in enumerate(sheet.iter_rows(min_row=1, values_only=True), start=1):
            written.append([] if number in plan.lines else list(values))
        out.save(target)
    finally:
        book.close()


def _file_name(name: str, pattern: re.Pattern | None) -> str:
    if pattern is None:
        return name
    readable = re.sub(r"[_.\-]+", " ", Path(name).stem)
    if pattern.search(name) or pattern.search(readable):
        return ERASED + Path(name).suffix.lower()[:10]
    return name


def files_record(plans: Sequence[FilePlan], person: Person) -> tuple[list[int], list[int]]:
    """The jobs' side of the plans, in the erasure's transaction: a removed file's job no
    longer names it (a draft or queued job is cancelled), and original names that name the
    customer are redacted. The files themselves change after commit (``files_apply``).
    Returns (removed, rewritten) job ids."""
    removed, rewritten = [], []
    now = timezone.now()
    for plan in plans:
        job = plan.job
        changes: dict = {"original_name": _file_name(job.original_name, person.own_names_re)}
        if plan.remove:
            changes["file"] = ""
            if plan.header:
                changes["headers"] = [ERASED if person.values_in([str(h)]) else h for h in job.headers or []]
                changes["mapping"] = {}
            if job.status in (ImportStatus.DRAFT, ImportStatus.QUEUED):
                changes.update(status=ImportStatus.CANCELLED, finished_at=now, error=REMOVED_NOTE)
            removed.append(job.pk)
        else:
            rewritten.append(job.pk)
        ImportJob.objects.filter(pk=job.pk).update(**changes)
    done = {p.job.pk for p in plans}
    if person.any_names_re is not None:
        for pk, name in ImportJob.objects.exclude(pk__in=done).values_list("pk", "original_name"):
            if (new := _file_name(name, person.any_names_re)) != name:
                ImportJob.objects.filter(pk=pk).update(original_name=new)
    return removed, rewritten


def _swap(file: FieldFile, plan: FilePlan) -> int:
    """Write the file without the planned lines under a temporary name, then put it in the
    file's place; returns the new size. On a file system the swap is one rename, so a reader
    sees the old file or the new one, never half of one."""
    storage, name, local = file.storage, str(file.name), _local_path(file)
    with stored_copy(file) as source:
        target = source.with_name(f"{source.name}.erasing-{uuid.uuid4().hex[:8]}")
        try:
            if plan.job.file_format == "xlsx":
                _rewrite_xlsx(plan, source, target)
            else:
                _rewrite_text(plan, source, target)
            size = target.stat().st_size
            if local is not None:
                os.replace(target, local)
            else:  # object storage: no rename; the new object replaces the old
                storage.delete(name)
                with target.open("rb") as handle:
                    saved = storage.save(name, File(handle))
                if saved != name:  # the storage chose another name: the job follows it
                    ImportJob.objects.filter(pk=plan.job.pk).update(file=saved)
        finally:
            target.unlink(missing_ok=True)
    return size


def files_pending_record(plans: Sequence[FilePlan], *, event_id: int) -> list[int]:
    """In the erasure's transaction: what is still to be done to each file, as rows committed
    with the erasure (or rolled back with it). No value of the person is kept: the file's
    storage name (a random name) and the numbers of the lines to empty. Returns the rows' ids,
    for ``files_apply`` after commit."""
    return [
        PendingFileErasure.objects.create(
            job_id=plan.job.pk,
            name=plan.name,
            remove=plan.remove,
            lines=[] if plan.remove else sorted(plan.lines),
            encoding=plan.encoding,
            erasure_event_id=event_id,
        ).pk
        for plan in plans
    ]


def _apply(pk: int) -> bool:
    """Do one pending row, in a short transaction: lock the row (a concurrent retry of the
    same row waits, then finds it gone), lock its job, change the file as it is now, delete
    the row. The file changes before the row goes: a crash in between leaves the row pending
    over a file already clean, and doing it again is harmless (a removed file is gone, emptied
    lines stay empty). Returns whether there was a row to do."""
    with transaction.atomic():
        row = PendingFileErasure.objects.select_for_update().filter(pk=pk).first()
        if row is None:
            return False  # done meanwhile (by the erasure's own step or another retry)
        job = ImportJob.objects.select_for_update().get(pk=row.job_id)  # PROTECT keeps the job
        storage = job.file.storage
        if row.remove:
            # the job no longer names the file; another job may (a name freed by a removal
            # that already happened could be taken by a new upload): that file is not touched
            if not ImportJob.objects.filter(file=row.name).exists() and storage.exists(row.name):
                storage.delete(row.name)
        elif job.file.name == row.name and storage.exists(row.name):
            plan = FilePlan(job=job, name=row.name, lines=set(row.lines), encoding=row.encoding)
            size = _swap(job.file, plan)
            ImportJob.objects.filter(pk=job.pk).update(file_size=size)
        # else: the job names another file now, or none (removed by a later erasure): nothing
        # of this one is left to change
        row.delete()
    return True


def _failed(pk: int, exc: Exception) -> None:
    """Keep the row pending, with how often and how it failed (the kind of error only: a
    message may quote the file)."""
    try:
        PendingFileErasure.objects.filter(pk=pk).update(
            attempts=F("attempts") + 1, last_error=type(exc).__name__[:200], last_tried_at=timezone.now()
        )
    except Exception:  # the database failing too: the row stays pending all the same
        logger.exception("pending file erasure #%s: its failure could not be recorded", pk)


def files_apply(pending: Sequence[int]) -> int:
    """Remove or rewrite the files of the pending rows given (after the erasure committed, and
    by the retry). Each row is done in a short transaction of its own that holds the row and its
    job's row, and reads the file as it is then, so a second erasure that rewrote the same file
    since it was read keeps its lines emptied too. A failure is logged and recorded on the row,
    which stays pending; the other files are still done. Returns how many rows were done."""
    done = 0
    for pk in pending:
        try:
            done += _apply(pk)
        except Exception as exc:
            logger.exception("pending file erasure #%s: the erased customer's rows are still in the file", pk)
            _failed(pk, exc)
    return done


def files_pending_apply() -> tuple[int, int]:
    """The retry (beat every minute, ``manage.py erasure_files``): do every pending row.
    Harmless when run twice or at the same time (see ``_apply``). Returns (done, still pending)."""
    done = files_apply(list(PendingFileErasure.objects.order_by("pk").values_list("pk", flat=True)))
    return done, PendingFileErasure.objects.count()


def files_pending_count(event_id: int | None = None) -> int:
    """How many files erasures have still to change (of one erasure, or of all)."""
    rows = PendingFileErasure.objects.all()
    if event_id is not None:
        rows = rows.filter(erasure_event_id=event_id)
    return rows.count()
