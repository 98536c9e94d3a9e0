from __future__ import annotations

from datetime import date

import pytest

from parties.services import standardize as std


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("  John.Doe@Example.COM ", "john.doe@example.com"),
        ("ANNA@web.de", "anna@web.de"),
    ],
)
def test_it_lower_cases_valid_emails(raw, expected):
    assert std.email_normalize(raw) == std.Cleaned(expected)


def test_it_keeps_an_invalid_email_with_the_reason():
    cleaned = std.email_normalize("anna(at)web.de")
    assert cleaned.value == "anna(at)web.de" and "invalid email" in cleaned.problem


@pytest.mark.parametrize(
    ("raw", "region", "e164", "kind"),
    [
        ("(415) 555-2671", "US", "+14155552671", ""),
        ("0049 30 1234567", "US", "+49301234567", "fixed"),
        ("030 1234567", "DE", "+49301234567", "fixed"),
        ("+44 7911 123456", "DE", "+447911123456", "mobile"),
        ("06 12 34 56 78", "FR", "+33612345678", "mobile"),
    ],
)
def test_it_writes_phone_numbers_as_e164(raw, region, e164, kind):
    phone = std.phone_normalize(raw, region)
    assert (phone.normalized, phone.problem) == (e164, "")
    if kind:
        assert phone.phone_type == kind


def test_it_keeps_the_digits_of_an_unreadable_phone_number_with_the_reason():
    phone = std.phone_normalize("12-34", "US")
    assert phone.normalized == "1234" and phone.problem


@pytest.mark.parametrize(
    ("raw", "iso"),
    [
        ("Deutschland", "DE"),
        ("Germany", "DE"),
        ("deu", "DE"),
        ("UK", "GB"),
        ("United States", "US"),
        ("usa", "US"),
        ("fr", "FR"),
        ("The Netherlands", "NL"),
    ],
)
def test_it_reads_countries_as_iso_alpha_2(raw, iso):
    assert std.country_normalize(raw).value == iso


def test_it_reports_an_unknown_country():
    assert std.country_normalize("Narnia").problem == "unknown country 'Narnia'"


@pytest.mark.parametrize(
    ("raw", "order", "expected"),
    [
        ("31/12/1980", "DMY", date(1980, 12, 31)),
        ("31.12.1980", "DMY", date(1980, 12, 31)),
        ("12/31/1980", "MDY", date(1980, 12, 31)),
        ("1980-12-31", "MDY", date(1980, 12, 31)),
        ("03/04/1990", "DMY", date(1990, 4, 3)),
        ("03/04/1990", "MDY", date(1990, 3, 4)),
    ],
)
def test_it_reads_dates_in_the_sources_order(raw, order, expected):
    assert std.date_parse(raw, order) == (expected, "")


def test_it_reports_an_impossible_date():
    value, problem = std.date_parse("31/02/1980", "DMY")
    assert value is None and "unreadable date" in problem


def test_it_cleans_names_without_breaking_mixed_case():
    assert std.name_clean("  JOHN   smith ") == "John Smith"
    assert std.name_clean("McDonald") == "McDonald"
    assert std.name_clean("e\u0301lodie") == "\u00c9lodie"  # NFC, then title case


def test_it_unifies_street_abbreviations():
    assert std.street_clean("12 main STREET") == "12 Main St"
    assert std.street_clean("Hauptstraße 5") == "Hauptstr. 5"
    assert std.street_clean("Berliner Strasse 5") == "Berliner Str. 5"


def test_two_spellings_of_one_address_get_the_same_key():
    a = std.address_key(
        line1=std.street_clean("12 Main Street"), line2="", postal_code="10115", city="Berlin", country="DE"
    )
    b = std.address_key(
        line1=std.street_clean("12 MAIN ST."), line2="", postal_code="101 15", city="berlin", country="DE"
    )
    assert a == b


def test_it_normalizes_identifiers():
    assert std.identifier_normalize("de 123-456.78") == "DE12345678"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("jan van der berg", "Jan van der Berg"),
        ("Jan VAN DER BERG", "Jan Van Der Berg"),
        ("HENRY FORD III", "Henry Ford III"),
        ("o'neil", "O'Neil"),
        ("JEAN-LUC", "Jean-Luc"),
    ],
)
def test_it_title_cases_names_written_all_in_one_case(raw, expected):
    assert std.name_clean(raw) == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("ACME GMBH", "Acme GmbH"),
        ("crescent foods llc", "Crescent Foods LLC"),
        ("Müller & Söhne KG", "Müller & Söhne KG"),
        ("BOSCH AG", "Bosch AG"),
    ],
)
def test_it_keeps_the_spelling_of_legal_forms(raw, expected):
    assert std.organization_name_clean(raw) == expected


@pytest.mark.parametrize(
    "raw",
    [
        "a@b.de",
        "John.Doe@Example.COM",
        "x..y@a.com",
        ".x@a.com",
        "a@-b.com",
        "a@b",
        "a@b.c",
        "o'neil@x.ie",
        "a@xn--bcher-kva.de",
        "a@xn--zz.de",
        "a@b-.de",
        "a+tag@sub.example.co.uk",
        "user@foo.local",
        "user@mail.test",
        "a" * 65 + "@x.com",
        "ü@x.de",
        "a@münchen.de",
        "a b@x.de",
        "a@x.123",
        "a@[127.0.0.1]",
        '"quoted"@x.com',
    ],
)
def test_the_email_fast_path_agrees_with_email_validator(raw):
    from email_validator import EmailNotValidError, validate_email

    try:
        expected = std.Cleaned(validate_email(raw, check_deliverability=False).normalized.lower())
    except EmailNotValidError:
        expected = None
    cleaned = std.email_normalize(raw)
    if expected is None:
        assert cleaned.problem, raw
    else:
        assert cleaned == expected, raw


@pytest.mark.parametrize(
    ("raw", "region"),
    [
        ("+1 415 555 2671", "US"),
        ("+1 604 555 0123", "US"),
        ("+44 20 7946 0958", "DE"),
        ("+49 151 23456789", "US"),
        ("0151 1234567", "DE"),
        ("+800 1234 5678", "US"),
        ("12", "US"),
        ("+1 999 555 0100", "US"),
        ("+33 1 23 45 67 89", "FR"),
        ("+358 40 1234567", "FI"),
    ],
)
def test_phone_validity_agrees_with_phonenumbers_is_valid_number(raw, region):
    import phonenumbers

    number = phonenumbers.parse(raw, region)
    assert (std.phone_normalize(raw, region).problem == "") == phonenumbers.is_valid_number(number)
