"""Erasure and its stored import files (issue 19 item 9): the files are read before the erasure
locks anything and changed only after it commits. A rolled-back erasure leaves every file byte
as it was; a committed one leaves no value of the person in any file and every other customer's
row as it was; a file changed between the read and the locks is read again; and the erasure
refuses to run inside a caller's transaction.

These tests commit for real (``transaction=True``): the test case's own transaction would hide
both the commit and the durability check."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from django.core.management import call_command
from django.db import transaction

from consents.services.erasure import erase as erase_module
from consents.services.erasure import party_erase
from parties import extensions
from parties.extensions import ErasureParticipant, erasure_participant_register
from parties.models import ImportJob, Party, PartyEvent, SourceRecord, SourceSystem
from parties.services.imports.jobs import import_file_store, import_job_create
from parties.services.merge import party_merge
from tests.consents.test_erasure import HEADER, file_hits
from tests.factories import SourceSystemFactory

pytestmark = pytest.mark.django_db(transaction=True)

QUIRIN = "QX-1,Quirin,Xanthopoulos,02.02.1980,quirin.xanthopoulos@example.org,+49 171 5550123,,,,,,\n"
ANNA = "QX-2,Anna,Schulz,07.07.1977,anna.schulz.77@example.org,030 7777777,Hauptstraße 77,Berlin,10115,DE,,\n"
BERND = "QX-3,Bernd,Meier,,bernd.meier@example.org,+49 30 1234567,,Berlin,,DE,,\n"
QUIRIN_VALUES = ["Quirin", "Xanthopoulos", "5550123", "QX-1,"]
ANNA_VALUES = ["Anna", "Schulz", "anna.schulz.77", "7777777"]


def _import(tmp_path: Path, name: str, text: str) -> ImportJob:
    path = tmp_path / name
    path.write_bytes(text.encode())
    call_command("import_source", str(path), source="Zeta CRM", kind="parties", sync=True, verbosity=0)
    return ImportJob.objects.latest("pk")


def _stored(job: ImportJob) -> Path:
    job.refresh_from_db()
    return Path(job.file.path)


def _party(key: str) -> int:
    return SourceRecord.objects.get(source_key=key).party_id


@pytest.fixture
def files(tmp_path, settings):
    """Quirin and Anna in one file, Quirin alone in another (his two records merged)."""
    settings.MEDIA_ROOT = tmp_path / "media"
    SourceSystemFactory(name="Zeta CRM", default_region="DE", date_order="DMY")
    mixed = _import(tmp_path, "crm.csv", HEADER + QUIRIN + ANNA)
    own = _import(tmp_path, "own.csv", HEADER + QUIRIN.replace("QX-1", "QX-9"))
    party_merge(party_ids=[_party("QX-1"), _party("QX-9")], survivor_id=_party("QX-1"), actor=None)
    return mixed, own


def _draft(name: str, text: str) -> ImportJob:
    """A file uploaded and waiting for its mapping, as the upload page leaves it."""
    stored = import_file_store(stream=io.BytesIO(text.encode()), original_name=name)
    return import_job_create(
        source=SourceSystem.objects.get(name="Zeta CRM"),
        kind="parties",
        stored_name=stored,
        original_name=name,
    )


def _fail_in_a_participant(monkeypatch) -> None:
    """An erasure participant that fails: it runs in the erasure's transaction, after the
    files were planned and the party's rows emptied."""

    def erase(ctx):
        raise RuntimeError("the erasure failed")

    monkeypatch.setattr(extensions, "_erasure_participants", dict(extensions._erasure_participants))
    erasure_participant_register(ErasureParticipant(name="failing", erase=erase))


def _fail_at_the_last_step(monkeypatch) -> None:
    """The erasure's last write (the counts of its audit entry) fails: before, the files had
    already been removed and rewritten by then."""

    def fail(*args, **kwargs):
        raise RuntimeError("the erasure failed")

    monkeypatch.setattr(erase_module, "erasure_event_counts", fail)


@pytest.mark.parametrize("fail", [_fail_in_a_participant, _fail_at_the_last_step])
def test_a_rolled_back_erasure_leaves_every_file_byte_as_it_was(files, monkeypatch, fail):
    # Given Quirin in a file of his own and in a file he shares with Anna
    mixed, own = files
    mixed_bytes, own_bytes = _stored(mixed).read_bytes(), _stored(own).read_bytes()
    fail(monkeypatch)

    # When his erasure fails after the files were planned
    with pytest.raises(RuntimeError, match="the erasure failed"):
        party_erase(party_id=_party("QX-1"), reason="PRIV-1")

    # Then both files are there, byte for byte, and the jobs still name them
    assert _stored(mixed).read_bytes() == mixed_bytes
    assert _stored(own).read_bytes() == own_bytes
    assert mixed.file.name and own.file.name
    assert not Party.objects.filter(erased_at__isnull=False).exists()
    assert not PartyEvent.objects.filter(kind="erasure").exists()


def test_a_committed_erasure_leaves_no_value_of_the_person_in_any_file_and_the_others_rows_as_they_were(
    files, settings
):
    # Given Quirin in a file of his own and in a file he shares with Anna
    mixed, own = files
    before = _stored(mixed).read_bytes().splitlines(keepends=True)
    own_path = _stored(own)

    # When he is erased (for real: committed)
    result = party_erase(party_id=_party("QX-1"), reason="PRIV-1")

    # Then his own file is gone, the shared one keeps Anna's row byte for byte at its line
    assert result.files_removed == [own.pk] and result.files_rewritten == [mixed.pk]
    own.refresh_from_db()
    assert not own_path.exists() and not own.file.name
    after = _stored(mixed).read_bytes().splitlines(keepends=True)
    assert after[0] == before[0] and after[1].strip() == b"" and after[2:] == before[2:]
    assert mixed.file_size == len(b"".join(after))
    assert file_hits(Path(settings.MEDIA_ROOT), QUIRIN_VALUES) == []
    assert file_hits(Path(settings.MEDIA_ROOT), ANNA_VALUES) == [str(_stored(mixed))]
    # and no temporary file is left beside it
    assert sorted(p.name for p in _stored(mixed).parent.iterdir()) == [_stored(mixed).name]


def test_a_file_uploaded_between_the_read_and_the_locks_is_read_too(files, settings, monkeypatch):
    # Given Quirin, and a file of his that arrives after the erasure read the stored files
    # but before it locked him (what an upload at that moment does)
    plan = erase_module.files_plan
    late: list[ImportJob] = []

    def files_plan_then_upload(person):
        plans = plan(person)
        if not late:
            late.append(_draft("late.csv", HEADER + QUIRIN.replace("QX-1", "QX-5") + BERND))
        return plans

    monkeypatch.setattr(erase_module, "files_plan", files_plan_then_upload)

    # When he is erased
    result = party_erase(party_id=_party("QX-1"), reason="PRIV-1")

    # Then the late file was read again under the locks' check, and lost his row too
    assert late[0].pk in result.files_rewritten
    assert file_hits(Path(settings.MEDIA_ROOT), QUIRIN_VALUES) == []
    assert b"QX-3,Bernd,Meier" in _stored(late[0]).read_bytes()


def test_two_customers_of_one_file_erased_at_once_both_leave_it(files, settings, monkeypatch):
    # Given Quirin and Anna in one file, and Anna's erasure committing (file rewritten) while
    # Quirin's had read the file without her row emptied yet
    mixed, _ = files
    plan = erase_module.files_plan
    calls = []

    def files_plan_then_anna_erased(person):
        plans = plan(person)
        if not calls:
            calls.append(person)
            party_erase(party_id=_party("QX-2"), reason="PRIV-2")
        return plans

    monkeypatch.setattr(erase_module, "files_plan", files_plan_then_anna_erased)

    # When Quirin's erasure goes on
    party_erase(party_id=_party("QX-1"), reason="PRIV-1")

    # Then neither is left in the file (it held only them, so it goes)
    assert file_hits(Path(settings.MEDIA_ROOT), QUIRIN_VALUES + ANNA_VALUES) == []
    assert Party.objects.filter(erased_at__isnull=False).count() == 3  # Quirin's two, Anna


def test_the_erasure_refuses_to_run_inside_a_callers_transaction(files):
    # Given Quirin's files
    mixed, own = files
    own_bytes = _stored(own).read_bytes()

    # When a caller erases him inside its own transaction
    with pytest.raises(RuntimeError, match="durable"), transaction.atomic():
        party_erase(party_id=_party("QX-1"), reason="PRIV-1")

    # Then nothing was erased
    assert not Party.objects.filter(erased_at__isnull=False).exists()
    assert _stored(own).read_bytes() == own_bytes


def test_files_in_a_storage_without_local_paths_are_read_and_rewritten_through_it(tmp_path, settings):
    # Given Quirin's files in a storage that has no local paths (as object storage)
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {"BACKEND": "django.core.files.storage.InMemoryStorage"},
    }
    settings.MEDIA_ROOT = tmp_path / "media"
    SourceSystemFactory(name="Zeta CRM", default_region="DE", date_order="DMY")
    mixed = _import(tmp_path, "crm.csv", HEADER + QUIRIN + ANNA)
    own = _import(tmp_path, "own.csv", HEADER + QUIRIN.replace("QX-1", "QX-9"))
    party_merge(party_ids=[_party("QX-1"), _party("QX-9")], survivor_id=_party("QX-1"), actor=None)
    storage, own_name = mixed.file.storage, own.file.name
    with storage.open(mixed.file.name, "rb") as handle:
        before = handle.read().splitlines(keepends=True)

    # When he is erased
    result = party_erase(party_id=_party("QX-1"), reason="PRIV-1")

    # Then his own file is gone from the storage and the shared one lost his row only
    assert result.files_removed == [own.pk] and result.files_rewritten == [mixed.pk]
    assert not storage.exists(own_name)
    mixed.refresh_from_db()
    with storage.open(mixed.file.name, "rb") as handle:
        after = handle.read().splitlines(keepends=True)
    assert after[0] == before[0] and after[1].strip() == b"" and after[2:] == before[2:]
    assert mixed.file_size == len(b"".join(after))
    assert not (tmp_path / "media").exists()  # nothing went through the file system's media
