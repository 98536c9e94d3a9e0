"""An import's preview (dry run): the counts the real import then gives, nothing written."""

from __future__ import annotations

import io
import subprocess
import sys

import pytest
from django.apps import apps
from django.db import connection, transaction
from django.urls import reverse

from c360.kernel.durable import process_identity
from parties import extensions
from parties.models import ImportJob, ImportStatus, Party, SourceRecord, SourceSystem
from parties.models.imports import DryRunStatus
from parties.services.imports.dry_run import import_job_dry_run, import_job_dry_run_request
from parties.services.imports.jobs import (
    ImportJobError,
    import_file_store,
    import_job_create,
    import_job_run,
    import_job_start,
)

FIRST = (
    "source_key,given_name,family_name,email,phone\n"
    "k1,Ann,Lee,ann@example.com,+49 30 1234567\n"
    "k2,Bob,Ray,bob@example.com,\n"
    "k3,Cid,Moe,cid@example.com,\n"
)
# k1 unchanged, k2 changed, k4/k5 new, a row without key, k4 again in a later batch,
# a row naming nobody
SECOND = (
    "source_key,given_name,family_name,email,phone\n"
    "k1,Ann,Lee,ann@example.com,+49 30 1234567\n"
    "k2,Bob,Ray,bob.ray@example.com,\n"
    "k4,Dee,Fox,dee@example.com,\n"
    ",Eve,Kim,eve@example.com,\n"
    "k5,Fay,Lou,fay@example.com,\n"
    "k4,Dee,Fox,dee@example.com,\n"
    "k6,,,,\n"
)


def _draft(source, content: str, name: str = "customers.csv", **kwargs) -> ImportJob:
    stored = import_file_store(stream=io.BytesIO(content.encode()), original_name=name)
    return import_job_create(source=source, kind="parties", stored_name=stored, original_name=name, **kwargs)


def _table_counts() -> dict[str, int]:
    """Every table's row count: whatever an import might touch (the jobs' own table aside, whose
    preview report is the one thing a preview stores)."""
    return {
        model._meta.label: model._default_manager.count()
        for model in apps.get_models()
        if model._meta.managed and not model._meta.proxy
    }


def _preview(job: ImportJob, batch_size: int = 3, mapping: dict | None = None) -> dict:
    import_job_dry_run_request(job=job, mapping=mapping, enqueue=False)
    job = import_job_dry_run(job_id=job.pk, batch_size=batch_size)
    assert job.dry_run_status == DryRunStatus.SUCCEEDED, job.dry_run_report
    return job.dry_run_report


@pytest.mark.django_db
def test_a_preview_writes_nothing_and_counts_what_the_import_then_does(run_import, source, media):
    # given customers imported from a first file
    run_import(FIRST)
    job = _draft(source, SECOND)
    before = _table_counts()
    records = {r.source_key: (r.content_hash, r.last_seen_at) for r in SourceRecord.objects.all()}

    # when the second file is previewed, in batches of 3 (its repeated key lies in another batch)
    report = _preview(job)

    # then nothing was written, the job is still a draft with its file
    assert _table_counts() == before
    assert {r.source_key: (r.content_hash, r.last_seen_at) for r in SourceRecord.objects.all()} == records
    job.refresh_from_db()
    assert job.status == ImportStatus.DRAFT and job.rows_read == 0 and job.started_at is None
    assert job.file.storage.exists(job.file.name)
    assert job.rejections.count() == 0
    assert report["new_customers"] == 2
    assert report["matcher"] == {
        "assessed": False,
        "reason": "no trained matcher model yet: train the matcher first",
    }

    # and the real import of the same draft gives the preview's counts
    import_job_start(job=job, enqueue=False)
    done = import_job_run(job_id=job.pk, batch_size=3)
    assert done.status == ImportStatus.SUCCEEDED
    real = {
        "rows_read": done.rows_read,
        "created": done.rows_created,
        "updated": done.rows_updated,
        "unchanged": done.rows_unchanged,
        "rejected": done.rows_rejected,
        "issues": done.issues_count,
    }
    assert (
        {k: report[k] for k in real}
        == real
        == {
            "rows_read": 7,
            "created": 2,
            "updated": 1,
            "unchanged": 1,
            "rejected": 3,
            "issues": 0,
        }
    )
    assert report["rejections"] == [
        {"line": r.line, "column": r.column, "value": r.value, "reason": r.reason}
        for r in done.rejections.order_by("line", "id")
    ]


@pytest.mark.django_db
def test_rejected_rows_are_reported_with_line_column_and_reason(source, media):
    report = _preview(_draft(source, SECOND))
    by_line = {r["line"]: r for r in report["rejections"]}
    assert set(by_line) == {5, 7, 8}
    assert by_line[5]["column"] == "source_key" and "no source key" in by_line[5]["reason"]
    assert by_line[7]["value"] == "k4" and "already appeared at line 4" in by_line[7]["reason"]
    assert "nothing identifies a party" in by_line[8]["reason"]


@pytest.mark.django_db
def test_a_preview_uses_the_mapping_it_is_given_and_the_draft_keeps_it(source, media):
    job = _draft(source, "Kundennr,Vorname,Mail\n1,Ann,ann@example.com\n2,Bob,bob@example.com\n")
    mapping = {"source_key": ["Kundennr"], "given_name": ["Vorname"]}  # Mail ignored
    report = _preview(job, mapping=mapping)
    job.refresh_from_db()
    assert job.mapping == report["mapping"] == mapping
    assert report["created"] == 2 and Party.objects.count() == 0


@pytest.mark.django_db
def test_a_draft_naming_a_new_source_is_previewed_without_registering_it(media):
    job = _draft(None, FIRST, new_source={"name": "Shop DE", "default_region": "DE", "date_order": "DMY"})
    report = _preview(job)
    assert report["created"] == 3
    assert not SourceSystem.objects.filter(name="Shop DE").exists()
    job.refresh_from_db()
    assert job.source_system_id is None and job.status == ImportStatus.DRAFT


@pytest.mark.django_db
def test_only_a_draft_is_previewed_and_a_bad_mapping_changes_nothing(source, media):
    job = _draft(source, FIRST)
    with pytest.raises(Exception, match="source_key"):
        import_job_dry_run_request(job=job, mapping={"given_name": ["given_name"]}, enqueue=False)
    job.refresh_from_db()
    assert job.dry_run_status == "" and job.mapping["source_key"] == ["source_key"]
    import_job_start(job=job, enqueue=False)
    with pytest.raises(ImportJobError, match="only a job waiting for its mapping can be previewed"):
        import_job_dry_run_request(job=job, enqueue=False)


@pytest.mark.django_db
def test_a_preview_stops_when_its_draft_is_started_meanwhile(source, media, monkeypatch):
    job = _draft(source, SECOND)
    import_job_dry_run_request(job=job, enqueue=False)
    kind = extensions.import_kind_get("parties")
    calls = []

    def start_after_first_batch(**kwargs):
        calls.append(1)
        if len(calls) == 1:
            ImportJob.objects.filter(pk=job.pk).update(status=ImportStatus.QUEUED)
        return kind.handle_batch(**kwargs)

    monkeypatch.setitem(
        extensions._import_kinds,
        "parties",
        extensions.ImportKind(**{**kind.__dict__, "handle_batch": start_after_first_batch}),
    )
    done = import_job_dry_run(job_id=job.pk, batch_size=3)
    assert done.dry_run_status == DryRunStatus.FAILED and "stopped" in done.dry_run_report["error"]
    assert Party.objects.count() == 0


@pytest.mark.django_db(transaction=True)
def test_on_commit_callbacks_of_the_rolled_back_batches_never_run(source, media, monkeypatch):
    # A real commit here (transactional test): callbacks a batch registers would run at its end.
    kind = extensions.import_kind_get("parties")
    fired: list[str] = []

    def batch_with_callback(**kwargs):
        transaction.on_commit(lambda: fired.append("batch"))
        return kind.handle_batch(**kwargs)

    monkeypatch.setitem(
        extensions._import_kinds,
        "parties",
        extensions.ImportKind(**{**kind.__dict__, "handle_batch": batch_with_callback}),
    )
    monkeypatch.setattr(extensions, "_parties_changed_hooks", [lambda ids, reason: fired.append("changed")])
    job = _draft(source, SECOND)
    report = _preview(job)
    assert report["created"] == 4 and fired == []
    assert Party.objects.count() == 0 and SourceRecord.objects.count() == 0
    assert not connection.in_atomic_block and connection.run_on_commit == []


@pytest.mark.django_db
def test_a_preview_whose_worker_died_is_taken_over(source, media):
    job = _draft(source, FIRST)
    import_job_dry_run_request(job=job, enqueue=False)
    # a worker took it and died (a process of this machine that has ended)
    dead = subprocess.Popen([sys.executable, "-c", "pass"])  # noqa: S603
    owner = process_identity(dead.pid)
    dead.wait()
    ImportJob.objects.filter(pk=job.pk).update(
        dry_run_status=DryRunStatus.RUNNING, dry_run_owner=owner, dry_run_attempts=1
    )

    # the page offers to preview again; the task sent again takes it over and finishes it
    job.refresh_from_db()
    from parties.services.imports.dry_run import import_job_dry_run_abandoned

    assert import_job_dry_run_abandoned(job)
    done = import_job_dry_run(job_id=job.pk)
    assert done.dry_run_status == DryRunStatus.SUCCEEDED and done.dry_run_attempts == 2
    assert done.dry_run_report["created"] == 3 and Party.objects.count() == 0


@pytest.mark.django_db
def test_a_running_preview_of_a_live_worker_is_not_taken_over_nor_asked_again(source, media):
    job = _draft(source, FIRST)
    import_job_dry_run_request(job=job, enqueue=False)
    ImportJob.objects.filter(pk=job.pk).update(
        dry_run_status=DryRunStatus.RUNNING, dry_run_owner=process_identity(), dry_run_attempts=1
    )
    assert import_job_dry_run(job_id=job.pk).dry_run_status == DryRunStatus.RUNNING  # nothing done
    with pytest.raises(ImportJobError, match="is running"):
        import_job_dry_run_request(job=job, enqueue=False)


@pytest.mark.django_db
def test_a_preview_silent_for_too_long_is_taken_over(source, media):
    from datetime import timedelta

    from django.utils import timezone

    job = _draft(source, FIRST)
    import_job_dry_run_request(job=job, enqueue=False)
    ImportJob.objects.filter(pk=job.pk).update(
        dry_run_status=DryRunStatus.RUNNING,
        dry_run_owner="elsewhere:1:1",  # another machine's: judged by its last sign of life
        dry_run_attempts=1,
        dry_run_heartbeat_at=timezone.now() - timedelta(minutes=3),
    )
    done = import_job_dry_run(job_id=job.pk)
    assert done.dry_run_status == DryRunStatus.SUCCEEDED and done.dry_run_report["created"] == 3


# --- pages and API ------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_mapping_page_queues_a_preview_and_shows_its_report(
    role_client, source, media, django_capture_on_commit_callbacks
):
    job = _draft(source, SECOND)
    client = role_client("administrator")
    page = client.get(reverse("parties:import_mapping", args=[job.pk]))
    assert page.status_code == 200 and b"Preview (dry run)" in page.content
    form = {
        "col_0": "source_key",
        "col_1": "given_name",
        "col_2": "family_name",
        "col_3": "email",
        "col_4": "",
    }
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = client.post(
            reverse("parties:import_mapping", args=[job.pk]), {**form, "action": "dry_run"}
        )
    assert response.status_code == 302 and len(callbacks) == 1
    job.refresh_from_db()
    assert job.status == ImportStatus.DRAFT and job.dry_run_status == DryRunStatus.QUEUED
    polled = client.get(reverse("parties:import_dry_run", args=[job.pk]))
    assert b'hx-trigger="every 1s"' in polled.content

    import_job_dry_run(job_id=job.pk)
    report = client.get(reverse("parties:import_dry_run", args=[job.pk])).content.decode()
    assert "hx-trigger" not in report and "Nothing was written" in report
    assert 'data-testid="dry-run-created">4<' in report and 'data-testid="dry-run-rejected">3<' in report
    assert "already appeared at line 4" in report and "Not assessed: no trained matcher model" in report
    assert Party.objects.count() == 0


@pytest.mark.django_db
@pytest.mark.parametrize("role", ["marketing", "steward"])
def test_only_those_who_may_start_an_import_may_preview_it(role_client, source, media, role):
    job = _draft(source, FIRST)
    client = role_client(role)
    assert (
        client.post(reverse("parties:import_mapping", args=[job.pk]), {"action": "dry_run"}).status_code
        == 403
    )
    assert client.get(reverse("parties:import_dry_run", args=[job.pk])).status_code == 403
    # the API: marketing does not see customer files' jobs at all (404, as for every import
    # action), a steward sees them but may not start or preview them
    refused = 404 if role == "marketing" else 403
    assert client.post(reverse("api:import-dry-run", args=[job.pk])).status_code == refused
    assert client.get(reverse("api:import-dry-run", args=[job.pk])).status_code == refused
    job.refresh_from_db()
    assert job.dry_run_status == ""


@pytest.mark.django_db
def test_the_api_queues_a_preview_and_reads_its_report(
    role_client, source, media, django_capture_on_commit_callbacks
):
    job = _draft(source, SECOND)
    client = role_client("administrator")
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        queued = client.post(reverse("api:import-dry-run", args=[job.pk]))
    assert queued.status_code == 202 and queued.json()["status"] == "queued" and len(callbacks) == 1
    import_job_dry_run(job_id=job.pk)
    body = client.get(reverse("api:import-dry-run", args=[job.pk])).json()
    assert body["status"] == "succeeded" and body["nothing_written"] is True
    assert {k: body["report"][k] for k in ("created", "updated", "unchanged", "rejected")} == {
        "created": 4,
        "updated": 0,
        "unchanged": 0,
        "rejected": 3,
    }
    assert body["report"]["rejections"][0]["line"] == 5
    started = client.post(
        reverse("api:import-dry-run", args=[job.pk]), {"mapping": '{"given_name": ["given_name"]}'}
    )
    assert started.status_code == 400 and "source_key" in started.content.decode()


# --- the matcher --------------------------------------------------------------------------------


def _near_duplicate_file() -> tuple[str, SourceRecord]:
    """A file of two rows: a copy of an existing customer under a new key, and nobody's double."""
    import csv

    original = next(
        r
        for r in SourceRecord.objects.select_related("source_system").order_by("pk")
        if r.raw_payload.get("email") and r.raw_payload.get("phone") and r.raw_payload.get("given_name")
    )
    columns = list(original.raw_payload)
    copy = {**original.raw_payload, "source_key": "NEW-1", "identifier_type": "", "identifier_value": ""}
    stranger = dict.fromkeys(columns, "") | {
        "source_key": "NEW-2",
        "given_name": "Zebedee",
        "family_name": "Quixotic-Xylophone",
        "email": "zebedee.qx@example.invalid",
    }
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=columns)
    writer.writeheader()
    writer.writerows([copy, stranger])
    return out.getvalue(), original


@pytest.mark.django_db
def test_the_preview_says_what_the_matcher_would_do_with_the_new_customers(tmp_path, media):
    from django.core.management import call_command

    from matching.models import MatchSuggestion, MatchSuggestionMember, SuggestionStatus
    from matching.services.runs import match_run_execute, match_run_request
    from matching.services.thresholds import match_settings_set
    from tests.matching.helpers import trained

    # given a trained matcher that has indexed everyone, and a file holding a near-duplicate
    trained(tmp_path, parties=150, seed=4)
    call_command("rematch", "--sync")
    content, original = _near_duplicate_file()
    job = _draft(original.source_system, content)
    before = _table_counts()

    # when previewed without automatic merges, then with every suggestion merged automatically
    match_settings_set(review_threshold=0.5, auto_merge_threshold=None)
    queued = _preview(job)["matcher"]
    match_settings_set(review_threshold=0.5, auto_merge_threshold=0.6)
    merged = _preview(job)["matcher"]

    # then the copy is queued, or merged; the stranger is left alone; nothing was written
    assert (queued["assessed"], queued["auto_merge"], queued["review"], queued["alone"]) == (True, 0, 1, 1)
    assert (merged["assessed"], merged["auto_merge"], merged["review"], merged["alone"]) == (True, 1, 0, 1)
    settings_rows = {"matching.MatchSettings", "c360.SettingChange"}  # the thresholds set above
    after = _table_counts()
    assert {k: v for k, v in after.items() if k not in settings_rows} == {
        k: v for k, v in before.items() if k not in settings_rows
    }

    # and the real import and its incremental run do what the preview said
    import_job_start(job=job, enqueue=False)
    import_job_run(job_id=job.pk)
    new = {r.source_key: r.party_id for r in SourceRecord.objects.filter(source_key__in=["NEW-1", "NEW-2"])}
    run = match_run_request(party_ids=sorted(new.values()), queue=False)
    match_run_execute(run_id=run.pk, inline=True)
    copy_in = set(
        MatchSuggestionMember.objects.filter(party_id=new["NEW-1"]).values_list(
            "suggestion__status", flat=True
        )
    )
    assert SuggestionStatus.MERGED in copy_in
    assert not MatchSuggestionMember.objects.filter(party_id=new["NEW-2"]).exists()
    assert MatchSuggestion.objects.filter(run=run).exists()


@pytest.mark.django_db
def test_without_an_index_of_the_existing_customers_the_matcher_part_says_why(tmp_path, media):
    from tests.matching.helpers import trained

    trained(tmp_path, parties=150, seed=5)  # trained, but no match run indexed anybody yet
    content, original = _near_duplicate_file()
    report = _preview(_draft(original.source_system, content))
    assert report["created"] == 2
    assert report["matcher"] == {
        "assessed": False,
        "reason": "the matcher has not indexed the existing customers yet: run a full match first",
    }


@pytest.mark.django_db
def test_an_erasure_takes_the_persons_values_out_of_preview_reports(run_import, source, media):
    from consents.services.erasure.erase import party_erase

    run_import("source_key,given_name,family_name,email\nz1,Zebulon,Quintero,zebulon.q@example.com\n")
    party = Party.objects.get()
    job = _draft(source, FIRST)
    report = _preview(job)
    # a sample rejection quoting the person's address (as a consent list's row may)
    report["rejections"] = [{"line": 9, "column": "email", "value": "zebulon.q@example.com", "reason": "x"}]
    report["error"] = "line 9: zebulon.q@example.com is not known"
    ImportJob.objects.filter(pk=job.pk).update(dry_run_report=report)

    party_erase(party_id=party.pk, reason="asked")

    job.refresh_from_db()
    assert "zebulon" not in str(job.dry_run_report).lower()
    assert job.dry_run_report["rejections"][0]["line"] == 9 and job.dry_run_report["created"] == 3


def test_a_preview_whose_worker_is_killed_leaves_nothing_and_is_taken_over(
    role_groups, media, tmp_path, settings
):
    import os
    import signal
    import time

    from parties.services.imports.dry_run import import_job_dry_run_abandoned, import_job_dry_run_progress
    from tests.factories import SourceSystemFactory
    from tests.workers import celery_worker

    # given a 30,000-row draft previewed by a real worker process
    settings.MEDIA_ROOT = media
    os.environ["MEDIA_ROOT"] = str(media)
    count = 30_000
    rows = "".join(f"k{i:06d},Given{i},Family{i},person{i}@example.com,\n" for i in range(count))
    job = _draft(SourceSystemFactory(name="Big CRM"), FIRST.splitlines()[0] + "\n" + rows, name="big.csv")
    with celery_worker(tmp_path / "worker.log") as worker:
        from parties.tasks import import_job_dry_run_task

        import_job_dry_run_request(job=job, enqueue=False)
        import_job_dry_run_task.delay(job.pk)
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            job.refresh_from_db()
            if import_job_dry_run_progress(job).get("rows_read", 0) >= 4000:
                break
            time.sleep(0.05)
        # when the worker dies (SIGKILL) in the middle of the file
        worker.send_signal(signal.SIGKILL)
        worker.wait(timeout=10)
    os.environ.pop("MEDIA_ROOT", None)

    # then nothing was written, the preview is known abandoned, and is taken over to its end
    job.refresh_from_db()
    assert (
        job.dry_run_status == DryRunStatus.RUNNING
        and 0 < import_job_dry_run_progress(job)["rows_read"] < count
    )
    assert Party.objects.count() == 0 == SourceRecord.objects.count()
    assert import_job_dry_run_abandoned(job)
    done = import_job_dry_run(job_id=job.pk)
    assert (done.dry_run_status, done.dry_run_report["created"], done.status) == ("succeeded", count, "draft")
    assert Party.objects.count() == 0 == SourceRecord.objects.count()


@pytest.mark.django_db
def test_marketing_previews_a_consent_list_and_the_import_then_does_the_same(
    role_client, media, django_capture_on_commit_callbacks
):
    from consents.models import ConsentEvent, ContactPointTypeConsent
    from parties.models import ContactPointEmail
    from tests.consents.test_consent_import import FILE
    from tests.factories import PartyFactory, SourceRecordFactory, SourceSystemFactory

    crm = SourceSystemFactory(name="CRM", default_region="DE", date_order="YMD")
    SourceRecordFactory(source_system=crm, source_key="CRM-1")
    ann = PartyFactory()
    ContactPointEmail.objects.create(party=ann, raw_value="ann@example.com", normalized="ann@example.com")
    stored = import_file_store(stream=io.BytesIO(FILE.encode()), original_name="consents.csv")
    job = import_job_create(source=crm, kind="consents", stored_name=stored, original_name="consents.csv")

    # marketing may preview the consent lists it may import
    client = role_client("marketing")
    before = _table_counts()
    with django_capture_on_commit_callbacks(execute=False):
        assert client.post(reverse("api:import-dry-run", args=[job.pk])).status_code == 202
    done = import_job_dry_run(job_id=job.pk)
    report = done.dry_run_report
    assert done.dry_run_status == DryRunStatus.SUCCEEDED
    assert _table_counts() == before
    assert ConsentEvent.objects.count() == 0 == ContactPointTypeConsent.objects.count()

    import_job_start(job=done, enqueue=False)
    real = import_job_run(job_id=job.pk)
    assert (report["created"], report["updated"], report["unchanged"], report["rejected"]) == (
        real.rows_created,
        real.rows_updated,
        real.rows_unchanged,
        real.rows_rejected,
    )
    assert real.rows_rejected == 5 and ConsentEvent.objects.count() > 0  # no customer has the mobile
    assert report["rejections"] == [
        {"line": r.line, "column": r.column, "value": r.value, "reason": r.reason}
        for r in real.rejections.order_by("line", "id")
    ]
