"""An administrator imports a source file in a real browser, with a real Celery worker."""

from __future__ import annotations

import os
import re

import pytest
from playwright.sync_api import expect

from parties.models import ImportJob, Party, SourceRecord
from parties.services.users import demo_users_ensure
from tests.workers import celery_worker

pytestmark = [pytest.mark.browser, pytest.mark.worker, pytest.mark.django_db(transaction=True)]

ROWS = 2500


def _csv() -> bytes:
    lines = ["Kunden-ID;Vorname;Nachname;Mail;Handy;PLZ;Stadt;Bemerkung"]
    lines += [
        f"K{i:05d};Vorname{i};Nachname{i};person{i}@beispiel.de;0151 {20000000 + i};10115;Berlin;"
        for i in range(ROWS)
    ]
    lines.append(";Ohne;Schlüssel;x@y.de;;;;")  # rejected: no source key
    return ("\n".join(lines) + "\n").encode("utf-8")


def _login(page, username: str, password: str) -> None:
    page.goto("/accounts/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name=re.compile("Good to see you"))).to_be_visible()


def test_an_administrator_uploads_maps_and_watches_an_import_finish(page, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    os.environ["MEDIA_ROOT"] = str(settings.MEDIA_ROOT)
    demo_users_ensure()
    with celery_worker(tmp_path / "worker.log"):
        _login(page, "admin", "admin-demo")
        page.get_by_role("navigation", name="Main").get_by_role("link", name="Imports").click()
        page.get_by_role("link", name="Upload a file").click()
        page.get_by_label("…or a new source system").fill("Filiale Berlin")
        page.get_by_label("Phone region of the new source").fill("DE")
        page.get_by_label("Date order of the new source").select_option("DMY")
        page.locator("input[type=file]").set_input_files(
            files=[{"name": "kunden.csv", "mimeType": "text/csv", "buffer": _csv()}]
        )
        page.get_by_role("button", name="Upload and map columns").click()

        # the mapping page proposes what it recognizes, the German headers included
        expect(page.get_by_role("heading", name="Map the columns of kunden.csv")).to_be_visible()
        expect(page.get_by_test_id("mapping").get_by_text("person0@beispiel.de")).to_be_visible()
        expect(page.get_by_label("Field for column Mail")).to_have_value("email")
        expect(page.get_by_label("Field for column Kunden-ID")).to_have_value("source_key")
        expect(page.get_by_label("Field for column Handy")).to_have_value("phone")
        page.get_by_role("button", name="Start import").click()

        # the job page updates by itself until the bar reaches 100%
        bar = page.get_by_role("progressbar", name="Import progress")
        expect(bar).to_have_attribute("aria-valuenow", "100", timeout=90_000)
        expect(page.get_by_test_id("job-status")).to_have_text("Succeeded")
        expect(page.get_by_test_id("rows-created")).to_have_text(f"{ROWS:,}")
        expect(page.get_by_test_id("rows-rejected")).to_have_text("1")
        expect(page.get_by_text("no source key: the row cannot be identified")).to_be_visible()
    os.environ.pop("MEDIA_ROOT", None)

    job = ImportJob.objects.get()
    assert job.mapping["source_key"] == ["Kunden-ID"]
    assert SourceRecord.objects.count() == ROWS == Party.objects.count()
    assert Party.objects.get(given_name="Vorname7").phones.get().normalized == "+4915120000007"


def test_marketing_uploads_an_opt_out_list_and_may_not_import_customers(page, settings, tmp_path):
    from consents.models import ContactPointTypeConsent
    from parties.models import ContactPointEmail
    from tests.factories import PartyFactory, SourceSystemFactory

    settings.MEDIA_ROOT = tmp_path / "media"
    os.environ["MEDIA_ROOT"] = str(settings.MEDIA_ROOT)
    demo_users_ensure()
    SourceSystemFactory(name="Email platform")
    ann = PartyFactory(given_name="Ann")
    ContactPointEmail.objects.create(party=ann, raw_value="ann@example.com", normalized="ann@example.com")
    optouts = (
        b"E-Mail;Channel;List;Status;Date;Where\n"
        b"ANN@example.com;email;newsletter;unsubscribed;2026-10-02;unsubscribe link\n"
        b"nobody@example.com;email;newsletter;unsubscribed;2026-10-02;unsubscribe link\n"
    )
    with celery_worker(tmp_path / "worker.log"):
        _login(page, "marketing", "marketing-demo")
        page.get_by_role("navigation", name="Main").get_by_role("link", name="Imports").click()
        page.get_by_role("link", name="Upload a file").click()
        kinds = page.get_by_label("File kind").locator("option")
        expect(kinds).to_have_text(["Consents (opt-ins and opt-outs)"])
        expect(page.get_by_label("…or a new source system")).to_have_count(0)
        page.get_by_label("Source system").select_option(label="Email platform")
        page.locator("input[type=file]").set_input_files(
            files=[{"name": "unsubscribes.csv", "mimeType": "text/csv", "buffer": optouts}]
        )
        page.get_by_role("button", name="Upload and map columns").click()
        page.get_by_label("Field for column List").select_option("purpose")
        page.get_by_label("Field for column Where").select_option("capture_source")
        page.get_by_label("Field for column Date").select_option("captured_at")
        page.get_by_label("Field for column Status").select_option("status")
        page.get_by_label("Field for column E-Mail").select_option("email")
        page.get_by_label("Field for column Channel").select_option("channel")
        page.get_by_role("button", name="Start import").click()
        expect(page.get_by_test_id("job-status")).to_have_text("Succeeded", timeout=90_000)
        expect(page.get_by_text(re.compile("no active customer has this email"))).to_be_visible()
        page.screenshot(path=str(tmp_path / "optouts.png"), full_page=True)
    os.environ.pop("MEDIA_ROOT", None)

    assert ContactPointTypeConsent.objects.get(party=ann).status == "opt_out"
    response = page.goto("/parties/imports/")
    assert response.status == 200
    assert page.goto(f"/parties/imports/{ImportJob.objects.get().pk}/").status == 200
