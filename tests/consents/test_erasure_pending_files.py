"""Erasure's file step survives a crash (issue 19, the files' must-fix): what the erasure has
still to do to the stored import files is written as pending rows in its own transaction, so a
process that dies after the commit (or a storage that fails) leaves rows, not a silent gap; the
retry (beat's task, ``manage.py erasure_files``) does them; doing a row twice, or two retries at
once, is harmless; a rolled-back erasure leaves no row.

Real commits (``transaction=True``): the after-commit step is the point."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection, connections
from django.urls import reverse

from consents.models import PendingFileErasure
from consents.services.erasure import erase as erase_module
from consents.services.erasure import erasure_summary, files_pending_apply, party_erase
from consents.services.erasure import files as files_module
from consents.tasks import erasure_files_retry_task
from tests.consents.test_erasure import file_hits
from tests.consents.test_erasure_commit import (
    ANNA_VALUES,
    QUIRIN_VALUES,
    _fail_at_the_last_step,
    _party,
    _stored,
    files,  # noqa: F401 — the fixture
)

pytestmark = pytest.mark.django_db(transaction=True)


def _process_dies_after_commit(monkeypatch) -> None:
    """The erasure commits, then its after-commit file step never runs (the process died)."""
    monkeypatch.setattr(erase_module, "files_apply", lambda pending: 0)


def test_an_erasure_whose_process_dies_after_commit_leaves_pending_rows_the_retry_does(
    files,  # noqa: F811
    settings,
    monkeypatch,
):
    # Given Quirin in a file of his own and in a file he shares with Anna
    mixed, own = files
    media = Path(settings.MEDIA_ROOT)
    before = _stored(mixed).read_bytes().splitlines(keepends=True)
    own_path = _stored(own)
    _process_dies_after_commit(monkeypatch)

    # When he is erased and the process dies right after the commit
    result = party_erase(party_id=_party("QX-1"), reason="PRIV-1")

    # Then the database says erased, the files still hold him, and what is left to do is pending,
    # without any of his values
    rows = list(PendingFileErasure.objects.order_by("job_id"))
    assert [(r.job_id, r.remove, r.lines) for r in rows] == [(mixed.pk, False, [2]), (own.pk, True, [])]
    assert all(r.erasure_event_id == result.event_id for r in rows)
    assert sorted(file_hits(media, QUIRIN_VALUES)) == sorted([str(_stored(mixed)), str(own_path)])
    stored_row = str(list(PendingFileErasure.objects.values()))
    assert not [v for v in QUIRIN_VALUES if v.lower() in stored_row.lower()]
    assert result.files_pending == 2 and "Still to change (the file step failed): 2 stored import files" in (
        erasure_summary(result)
    )

    # When the retry runs (beat's task, every minute)
    from c360.celery import app

    assert app.conf.beat_schedule["erasure-files-retry"]["task"] == erasure_files_retry_task.name
    assert erasure_files_retry_task.apply().get() == 0

    # Then no file holds his values, Anna's row is byte for byte at its line, nothing is pending
    assert file_hits(media, QUIRIN_VALUES) == []
    assert not own_path.exists()
    after = _stored(mixed).read_bytes().splitlines(keepends=True)
    assert after[0] == before[0] and after[1].strip() == b"" and after[2:] == before[2:]
    mixed.refresh_from_db()
    assert mixed.file_size == len(b"".join(after))
    assert file_hits(media, ANNA_VALUES) == [str(_stored(mixed))]
    assert not PendingFileErasure.objects.exists()


def test_a_storage_failing_in_the_file_step_leaves_the_row_pending_with_its_failure(
    files,  # noqa: F811
    settings,
    monkeypatch,
):
    # Given Quirin's files, and a storage that fails when his shared file is rewritten
    mixed, own = files
    own_path = _stored(own)

    def fail(file, plan):
        raise OSError("the storage failed")

    monkeypatch.setattr(files_module, "_swap", fail)

    # When he is erased
    result = party_erase(party_id=_party("QX-1"), reason="PRIV-1")

    # Then his own file went, the shared one is pending with how it failed, and the summary says so
    assert not own_path.exists()
    row = PendingFileErasure.objects.get()
    assert (row.job_id, row.attempts, row.last_error) == (mixed.pk, 1, "OSError")
    assert result.files_pending == 1 and "failed): 1 stored import file," in erasure_summary(result)
    with pytest.raises(CommandError, match="1 stored import files still hold"):
        call_command("erasure_files", verbosity=0)
    assert PendingFileErasure.objects.get().attempts == 2

    # When the storage works again and the retry runs (the command)
    monkeypatch.undo()
    call_command("erasure_files", verbosity=0)

    # Then nothing of his is left and nothing is pending
    assert file_hits(Path(settings.MEDIA_ROOT), QUIRIN_VALUES) == []
    assert not PendingFileErasure.objects.exists()


def test_a_crash_after_the_file_swap_leaves_the_row_pending_and_doing_it_again_is_harmless(
    files,  # noqa: F811
    settings,
    monkeypatch,
):
    # Given Quirin erased, his process dead after the commit
    mixed, _ = files
    _process_dies_after_commit(monkeypatch)
    party_erase(party_id=_party("QX-1"), reason="PRIV-1")

    # When the retry's swap of the shared file succeeds but its transaction fails before the row
    # is deleted (a crash between the file swap and the commit)
    swap = files_module._swap

    def swap_then_crash(file, plan):
        swap(file, plan)
        raise RuntimeError("crashed after the swap")

    monkeypatch.setattr(files_module, "_swap", swap_then_crash)
    files_pending_apply()

    # Then the file is already clean and its row still pending
    assert file_hits(Path(settings.MEDIA_ROOT), QUIRIN_VALUES) == []
    assert PendingFileErasure.objects.get().job_id == mixed.pk
    clean = _stored(mixed).read_bytes()

    # When it is done again
    monkeypatch.setattr(files_module, "_swap", swap)
    assert files_pending_apply() == (1, 0)

    # Then the file is byte for byte as the first swap left it, and nothing is pending
    assert _stored(mixed).read_bytes() == clean
    mixed.refresh_from_db()
    assert mixed.file_size == len(clean)
    assert not PendingFileErasure.objects.exists()


def test_the_retry_run_twice_is_harmless(files, settings, monkeypatch):  # noqa: F811
    mixed, _ = files
    _process_dies_after_commit(monkeypatch)
    party_erase(party_id=_party("QX-1"), reason="PRIV-1")

    assert files_pending_apply() == (2, 0)
    clean = _stored(mixed).read_bytes()
    assert files_pending_apply() == (0, 0)

    assert _stored(mixed).read_bytes() == clean
    assert file_hits(Path(settings.MEDIA_ROOT), QUIRIN_VALUES) == []
    assert file_hits(Path(settings.MEDIA_ROOT), ANNA_VALUES) == [str(_stored(mixed))]


@pytest.mark.skipif(connection.vendor != "postgresql", reason="concurrent transactions need PostgreSQL")
def test_two_retries_at_once_do_each_file_once(files, settings, monkeypatch):  # noqa: F811
    # Given Quirin erased, his process dead after the commit
    mixed, _ = files
    before = _stored(mixed).read_bytes().splitlines(keepends=True)
    _process_dies_after_commit(monkeypatch)
    party_erase(party_id=_party("QX-1"), reason="PRIV-1")

    # When two retries run at the same time (two beats, or beat and the command)
    swaps = []
    swap = files_module._swap

    def counted(file, plan):
        swaps.append(plan.job.pk)
        return swap(file, plan)

    monkeypatch.setattr(files_module, "_swap", counted)
    results, errors = [], []
    barrier = threading.Barrier(2)

    def run():
        try:
            barrier.wait()
            results.append(files_pending_apply())
        except Exception as exc:  # noqa: BLE001 — reported by the assertion below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)

    # Then each row was done once, by one of them, and the file is clean with Anna's row intact
    assert errors == []
    assert sum(done for done, _ in results) == 2 and all(pending == 0 for _, pending in results)
    assert swaps == [mixed.pk]
    after = _stored(mixed).read_bytes().splitlines(keepends=True)
    assert after[0] == before[0] and after[1].strip() == b"" and after[2:] == before[2:]
    assert file_hits(Path(settings.MEDIA_ROOT), QUIRIN_VALUES) == []
    assert not PendingFileErasure.objects.exists()


def test_a_rolled_back_erasure_leaves_no_pending_row(files, monkeypatch):  # noqa: F811
    _fail_at_the_last_step(monkeypatch)  # after the pending rows were written

    with pytest.raises(RuntimeError, match="the erasure failed"):
        party_erase(party_id=_party("QX-1"), reason="PRIV-1")

    assert not PendingFileErasure.objects.exists()
    assert files_pending_apply() == (0, 0)


def test_pending_files_show_on_the_erase_page_and_to_an_administrator_in_the_admin(
    files,  # noqa: F811
    monkeypatch,
    role_groups,
    role_client,
):
    # Given Quirin erased with his shared file pending (the storage failed)
    mixed, _ = files

    def fail(file, plan):
        raise OSError("the storage failed")

    monkeypatch.setattr(files_module, "_swap", fail)
    party_erase(party_id=_party("QX-1"), reason="PRIV-1")

    # When an administrator opens the next erasure's page, and the admin's list
    page = role_client("administrator").get(reverse("consents:erase", args=[_party("QX-2")]))
    listing = role_client("administrator").get(reverse("admin:consents_pendingfileerasure_changelist"))

    # Then both say a file is still to change; the list names its job, and no value of Quirin's
    assert b"Earlier erasures have 1 stored import file still to change" in page.content
    assert listing.status_code == 200 and f"Import #{mixed.pk} ".encode() in listing.content
    assert b"OSError" in listing.content
    assert not [v for v in QUIRIN_VALUES if v.encode() in listing.content]
    # (a marketer has no admin)
    assert (
        role_client("marketing").get(reverse("admin:consents_pendingfileerasure_changelist")).status_code
        == 302
    )
