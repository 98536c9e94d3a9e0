"""The mapping page of a 12-column German file at 1366×768 (issue 18, point 13): every column
on one row of its own, the headers recognized, and an ignored email column stops the start
until the steward maps it or confirms it."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from parties.models import ImportJob, ImportStatus, SourceSystem
from parties.services.users import demo_users_ensure
from tests.browser.a11y import axe_violations
from tests.browser.helpers import screenshots_dir, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

HEADERS = [
    "Kundennr",
    "Anrede",
    "Vorname",
    "Nachname",
    "Geburtsdatum",
    "E-Mail-Adresse",
    "Mobil",
    "Telefon",
    "Straße",
    "Hausnummer",
    "PLZ",
    "Ort",
]


def _csv() -> bytes:
    lines = [";".join(HEADERS)]
    for i in range(20):
        lines.append(
            f"K-{i:04d};Frau;Anna{i};Müller;{1 + i % 28:02d}.04.1980;anna{i}@beispiel.de;"
            f"0151 {2345600 + i};030 {1234500 + i};Hauptstraße;{i + 1};10115;Berlin"
        )
    return ("\n".join(lines) + "\n").encode("utf-8")


def test_an_ignored_email_column_is_flagged_before_the_import_starts(
    browser, live_server, page, settings, tmp_path
):
    settings.MEDIA_ROOT = tmp_path / "media"
    shots = screenshots_dir()  # where a person looks at them
    shots.mkdir(parents=True, exist_ok=True)
    demo_users_ensure()
    page.set_viewport_size({"width": 1366, "height": 768})
    sign_in(page, "admin", "admin-demo")
    page.goto("/parties/imports/new/")
    # a new source's phone region and date order are asked for, never assumed
    expect(page.get_by_label("Phone region of the new source")).to_have_value("")
    expect(page.get_by_label("Date order of the new source")).to_have_value("")
    page.get_by_label("…or a new source system").fill("Filiale München")
    page.get_by_label("Phone region of the new source").fill("DE")
    page.get_by_label("Date order of the new source").select_option("DMY")
    page.locator("input[type=file]").set_input_files(
        files=[{"name": "kunden.csv", "mimeType": "text/csv", "buffer": _csv()}]
    )
    page.screenshot(path=str(shots / "upload.png"), full_page=True)
    page.get_by_role("button", name="Upload and map columns").click()

    # every one of the 12 columns is a row, inside the 1366 px window, its field proposed
    expect(page.get_by_role("heading", name="Map the columns of kunden.csv")).to_be_visible()
    rows = page.get_by_test_id("mapping").locator("tbody tr")
    expect(rows).to_have_count(12)
    for header, field in [
        ("E-Mail-Adresse", "email"),
        ("Mobil", "phone"),
        ("Telefon", "phone_2"),
        ("Vorname", "given_name"),
        ("PLZ", "postal_code"),
        ("Ort", "city"),
    ]:
        expect(page.get_by_label(f"Field for column {header}")).to_have_value(field)
    for header in HEADERS:
        box = page.get_by_label(f"Field for column {header}").bounding_box()
        assert box and box["x"] + box["width"] <= 1366, f"{header}'s field is off the screen"
    assert page.evaluate("document.documentElement.scrollWidth") <= 1366  # no sideways scrolling
    assert not SourceSystem.objects.exists()  # named on upload, registered when the import starts
    page.screenshot(path=str(shots / "mapping-12.png"))
    page.screenshot(path=str(shots / "mapping-12-full.png"), full_page=True)

    # the steward leaves the email column out: the page says so and does not start
    page.get_by_label("Field for column E-Mail-Adresse").select_option("")
    page.get_by_role("button", name="Start import").click()
    expect(page.get_by_test_id("mapping-error")).to_contain_text("E-Mail-Adresse")
    expect(page.get_by_test_id("mapping-error")).to_contain_text("look like email addresses")
    warning = page.locator("tr[data-column='E-Mail-Adresse']").get_by_test_id("ignored-warning")
    expect(warning).to_contain_text("Ignored, but looks like email addresses")
    page.screenshot(path=str(shots / "mapping-warning.png"), full_page=True)
    assert not axe_violations(page), axe_violations(page)  # contrast of the warning included
    job = ImportJob.objects.get()
    assert job.status == ImportStatus.DRAFT and not SourceSystem.objects.exists()

    # confirmed: the import starts without it, and the new source system is registered now
    warning.get_by_label("ignore it anyway").check()
    page.get_by_role("button", name="Start import").click()
    expect(page.get_by_text(f"Import #{job.pk} started.")).to_be_visible()
    job.refresh_from_db()
    assert job.status in (ImportStatus.QUEUED, ImportStatus.RUNNING, ImportStatus.SUCCEEDED)
    assert "email" not in job.mapping and job.mapping["phone"] == ["Mobil"]
    source = SourceSystem.objects.get()
    assert (source.name, source.default_region, source.date_order) == ("Filiale München", "DE", "DMY")
    assert job.source_system == source
