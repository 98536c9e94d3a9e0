"""Issue 18, items 5-8, in a real browser at 1366×768: the golden preview lists every contact
point with where it comes from; with 2, 4 and 6 parties every column, control and value to
keep is on screen and labelled; unticking the survivor moves the survivor (radio and preview
together); "Not this one" is visible. Screenshots: var/screenshots/review-<n>.png (or the
directory in C360_SCREENSHOTS)."""

from __future__ import annotations

import datetime as dt

import pytest
from playwright.sync_api import expect

from parties import models as m
from parties.services.users import demo_users_ensure
from tests.browser.a11y import axe_violations
from tests.browser.helpers import screenshots_dir, sign_in
from tests.factories import PartyFactory, SourceRecordFactory, SourceSystemFactory
from tests.matching.queue_helpers import suggestion_for

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SCREENSHOTS = screenshots_dir()

# One customer as eight systems know her (the fifth and sixth disagree: Herr, another country).
COPIES = [
    (
        "CRM",
        "Frau",
        "Mechthilde",
        "mechthilde.trommler@example.de",
        "+4934112345678",
        ("Lindenweg 7", "04109", "Leipzig", "DE"),
        ("customer_number", "CRM", "C-100234"),
    ),
    (
        "Webshop",
        "",
        "Mechthilde",
        "mechthilde.trommler@example.de",
        "+4915112345678",
        ("Lindenweg 7", "04109", "Leipzig", "DE"),
        ("customer_number", "Webshop", "W-88121"),
    ),
    (
        "Filiale",
        "Frau",
        "Mechthild",
        "m.trommler@gmx.de",
        "+4915112345678",
        ("Lindenweg 7", "04109", "Leipzig", "DE"),
        None,
    ),
    ("Newsletter", "", "Mechthilde", "m.trommler@gmx.de", "", None, None),
    (
        "Kundenservice",
        "Herr",
        "Mechthilde",
        "mechthilde.trommler@example.de",
        "+4934112345678",
        ("Lindenweg 7", "04109", "Leipzig", "DE"),
        ("customer_number", "CRM", "C-100999"),
    ),
    (
        "Treueclub",
        "Frau",
        "Mechthilde",
        "mecky@trommler.at",
        "+436641234567",
        ("Hauptplatz 3", "8010", "Graz", "AT"),
        ("loyalty_number", "Treueclub", "TC-5521"),
    ),
    (
        "Callcenter",
        "Frau",
        "Mechthilde",
        "mechthilde.trommler@example.de",
        "+4934112345678",
        ("Lindenweg 7", "04109", "Leipzig", "DE"),
        None,
    ),
    ("Gewinnspiel", "", "Mechti", "mechti1962@web.de", "", None, None),
]


def _copy(source, salutation, given, email, phone, address, identifier) -> m.Party:
    party = PartyFactory(
        given_name=given,
        family_name="Trommler",
        display_name=f"{given} Trommler",
        birth_date=dt.date(1962, 8, 14),
    )
    record = SourceRecordFactory(
        party=party,
        source_system=SourceSystemFactory(name=source),
        source_key=f"{source[:3].upper()}-{party.pk}",
        standardized={
            "kind": "individual",
            "attributes": {
                "salutation": salutation,
                "given_name": given,
                "family_name": "Trommler",
                "birth_date": "1962-08-14",
            },
        },
    )
    m.ContactPointEmail.objects.create(
        party=party, source_record=record, raw_value=email, normalized=email, is_primary=True
    )
    if phone:
        m.ContactPointPhone.objects.create(
            party=party,
            source_record=record,
            raw_value=phone,
            normalized=phone,
            country=address[3] if address else "",
            is_primary=True,
        )
    if address:
        line1, postal, city, country = address
        m.ContactPointAddress.objects.create(
            party=party,
            source_record=record,
            raw_value=line1,
            line1=line1,
            postal_code=postal,
            city=city,
            country=country,
            normalized=f"{line1}|{postal}|{city}|{country}".lower(),
            is_primary=True,
        )
    if identifier:
        kind, issuer, value = identifier
        m.PartyIdentification.objects.create(
            party=party,
            source_record=record,
            identifier_type=kind,
            issuer=issuer,
            value=value,
            normalized=value.replace("-", ""),
        )
    return party


def _fits_on_screen(page, locator) -> None:
    box = locator.bounding_box()
    assert box is not None and box["width"] > 0 and box["height"] > 0
    assert box["x"] >= 0 and box["x"] + box["width"] <= 1366, box


def _readable(locator) -> None:
    """Text colour and background differ (the old "not this one" was red on red)."""
    colour, background = locator.evaluate(
        "el => { const s = getComputedStyle(el); return [s.color, s.backgroundColor]; }"
    )
    assert colour != background, (colour, background)


@pytest.mark.parametrize("size", [2, 4, 6, 8])
def test_the_review_page_with_n_parties_at_1366(page, size):
    demo_users_ensure()
    parties = [_copy(*copy) for copy in COPIES[:size]]
    suggestion = suggestion_for([p.pk for p in parties])
    page.set_viewport_size({"width": 1366, "height": 768})
    sign_in(page, "steward", "steward-demo")
    page.goto(f"/matching/suggestions/{suggestion.pk}/")
    page.wait_for_function("window.reviewMembersReady === true")

    # every party's column with its labelled controls, on screen without scrolling sideways
    for party in parties:
        _fits_on_screen(page, page.locator(f'th.member[data-party="{party.pk}"]'))
        expect(page.get_by_label(f"Merge {party.display_name} #{party.pk}")).to_be_visible()
        expect(page.get_by_label(f"{party.display_name} #{party.pk} survives")).to_be_visible()
        if size > 2:
            button = page.get_by_test_id(f"not-this-{party.pk}")
            expect(button).to_be_visible()
            expect(button).to_have_text("✕ Not this one")
            _readable(button)
    # the value to keep is chosen in the attribute's own cell, not a clipped last column
    if size > 2:
        keep = page.get_by_label("Keep which given name")
        expect(keep).to_be_visible()
        _fits_on_screen(page, keep)

    # the golden preview lists each contact point once, with the parties and sources behind it
    preview = page.get_by_test_id("preview")
    points = preview.get_by_test_id("preview-contact-points")
    expect(points).to_contain_text("mechthilde.trommler@example.de")
    expect(points).to_contain_text(f"CRM CRM-{parties[0].pk} · party #{parties[0].pk}")
    expect(points).to_contain_text(f"Webshop WEB-{parties[1].pk} · party #{parties[1].pk}")
    expect(points).to_contain_text("+4915112345678")
    expect(points).to_contain_text("Lindenweg 7")
    expect(points).to_contain_text("Customer number C-100234")
    emails = {c[3] for c in COPIES[:size]}
    expect(points.locator('[data-kind="emails"] [data-testid="golden-point"]')).to_have_count(len(emails))
    if size > 4:  # the preview is below the table: the header points to it with the count
        expect(page.get_by_test_id("to-preview")).to_be_visible()
        expect(page.locator("#conflict-summary")).to_have_text(
            f"{preview.get_by_test_id('conflicts').locator('li').count()} conflicts"
        )
    if size >= 6:
        conflicts = preview.get_by_test_id("conflicts")
        expect(conflicts).to_contain_text("Salutation and gender disagree: Frau")
        expect(conflicts).to_contain_text("Addresses in different countries")
        expect(conflicts).to_contain_text("Different customer numbers from CRM")

    assert not axe_violations(page)  # no serious or critical one (contrast, labels, …)

    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"review-{size}.png"))
    page.screenshot(path=str(SCREENSHOTS / f"review-{size}-full.png"), full_page=True)
    preview.screenshot(path=str(SCREENSHOTS / f"review-{size}-preview.png"))

    # unticking the survivor: its radio is cleared and disabled, and the radio and the preview
    # agree on the new survivor
    golden = preview.locator("[data-survivor]")
    survivor = golden.get_attribute("data-survivor")
    page.get_by_test_id(f"member-{survivor}").uncheck()
    expect(page.get_by_test_id(f"survivor-{survivor}")).to_be_disabled()
    expect(page.get_by_test_id(f"survivor-{survivor}")).not_to_be_checked()
    expect(golden).not_to_have_attribute("data-survivor", survivor)
    new = preview.locator("[data-survivor]").get_attribute("data-survivor")
    expect(page.get_by_test_id(f"survivor-{new}")).to_be_checked()
    expect(page.locator('input[name="survivor"]:checked')).to_have_count(1)
    left_out = next(p for p in parties if str(p.pk) == survivor)
    expect(preview.get_by_test_id("preview-survivor")).to_contain_text(f"#{new}")
    if size > 4:  # the header's count follows the new preview
        count = preview.locator('[data-testid="conflicts"] li').count()
        expect(page.locator("#conflict-summary")).to_have_text(f"{count} conflict{'' if count == 1 else 's'}")
    if size == 2:  # one party left: nothing of the other comes along, and nothing to merge
        expect(points).not_to_contain_text(f"party #{left_out.pk}")
        expect(preview.get_by_test_id("preview-too-few")).to_have_text("Tick at least two parties to merge.")
        expect(page.get_by_test_id("merge")).to_be_disabled()
    else:
        expect(page.get_by_test_id("merge")).to_be_enabled()


def test_the_review_page_on_a_narrow_screen_puts_the_preview_below(page):
    demo_users_ensure()
    parties = [_copy(*copy) for copy in COPIES[:3]]
    suggestion = suggestion_for([p.pk for p in parties])
    page.set_viewport_size({"width": 420, "height": 900})
    sign_in(page, "steward", "steward-demo")
    page.goto(f"/matching/suggestions/{suggestion.pk}/")
    table = page.locator(".compare-card").bounding_box()
    preview = page.get_by_test_id("preview").bounding_box()
    assert preview["y"] >= table["y"] + table["height"]  # below, not squeezed beside
    assert preview["x"] + preview["width"] <= 420
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "review-420.png"))
