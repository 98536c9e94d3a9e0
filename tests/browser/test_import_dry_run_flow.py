"""An administrator previews an import (dry run) in a real browser, with a real Celery worker,
then starts it: the import does what the preview said. Screenshot: var/screenshots/import-dry-run.png."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from playwright.sync_api import expect

from parties.models import ImportJob, Party, SourceRecord
from parties.services.users import demo_users_ensure
from tests.factories import SourceSystemFactory
from tests.workers import celery_worker

pytestmark = [pytest.mark.browser, pytest.mark.worker, pytest.mark.django_db(transaction=True)]

SHOTS = Path(__file__).resolve().parents[2] / "var" / "screenshots"
ROWS = 300


def _csv() -> bytes:
    lines = ["Kunden-ID;Vorname;Nachname;Mail"]
    lines += [f"K{i:05d};Vorname{i};Nachname{i};person{i}@beispiel.de" for i in range(ROWS)]
    lines.append(";Ohne;Schlüssel;x@y.de")  # rejected: no source key
    lines.append("K00007;Vorname7;Nachname7;person7@beispiel.de")  # rejected: K00007 again
    return ("\n".join(lines) + "\n").encode("utf-8")


def _login(page, username: str, password: str) -> None:
    page.goto("/accounts/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name=re.compile("Good to see you"))).to_be_visible()


def test_an_administrator_previews_an_import_then_starts_it(page, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    os.environ["MEDIA_ROOT"] = str(settings.MEDIA_ROOT)
    demo_users_ensure()
    source = SourceSystemFactory(name="Filiale Köln", default_region="DE", date_order="DMY")
    with celery_worker(tmp_path / "worker.log"):
        _login(page, "admin", "admin-demo")
        page.get_by_role("navigation", name="Main").get_by_role("link", name="Imports").click()
        page.get_by_role("link", name="Upload a file").click()
        page.get_by_label("Source system:", exact=True).select_option(label=source.name)
        page.locator("input[type=file]").set_input_files(
            files=[{"name": "kunden.csv", "mimeType": "text/csv", "buffer": _csv()}]
        )
        page.get_by_role("button", name="Upload and map columns").click()
        expect(page.get_by_role("heading", name="Map the columns of kunden.csv")).to_be_visible()

        # the preview runs in the worker; the page shows its report when it is done
        page.get_by_role("button", name="Preview (dry run)").click()
        report = page.get_by_test_id("dry-run")
        expect(report.get_by_test_id("dry-run-status")).to_have_text("Done", timeout=60_000)
        expect(report.get_by_test_id("dry-run-nothing-written")).to_have_text("Nothing was written")
        expect(report.get_by_test_id("dry-run-created")).to_have_text(f"{ROWS:,}")
        expect(report.get_by_test_id("dry-run-rejected")).to_have_text("2")
        expect(report.get_by_test_id("dry-run-rejections").get_by_text("no source key")).to_be_visible()
        expect(report.get_by_test_id("dry-run-matcher-reason")).to_contain_text("no trained matcher model")
        SHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SHOTS / "import-dry-run.png"), full_page=True)
        assert Party.objects.count() == 0 == SourceRecord.objects.count()

        # then the real import gives the same counts
        page.get_by_role("button", name="Start import").click()
        expect(page.get_by_test_id("job-status")).to_have_text("Succeeded", timeout=60_000)
        expect(page.get_by_test_id("rows-created")).to_have_text(f"{ROWS:,}")
        expect(page.get_by_test_id("rows-rejected")).to_have_text("2")
    os.environ.pop("MEDIA_ROOT", None)
    job = ImportJob.objects.get()
    assert job.dry_run_report["created"] == job.rows_created == ROWS == Party.objects.count()
