"""Addresses written the way their country writes them (issue 18, item 9): c360.kernel.addresses."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from c360.kernel.addresses import address_lines, address_text


def test_a_us_address_puts_city_state_code_and_zip_in_that_order_with_the_code_upper_case():
    # the example: "37293 Nashville, Tn US" was shown
    assert (
        address_text(line1="12 Main St", postal_code="37293", city="Nashville", region="Tn", country="US")
        == "12 Main St, Nashville, TN 37293, United States"
    )


def test_a_canadian_province_code_and_postal_code_are_upper_case():
    assert (
        address_text(line1="1 Yonge St", postal_code="m5e 1e5", city="Toronto", region="on", country="CA")
        == "1 Yonge St, Toronto ON M5E 1E5, Canada"
    )


@pytest.mark.parametrize(
    ("country", "parts", "expected"),
    [
        (
            "DE",
            {"line1": "Hauptstr. 5", "line2": "Hinterhaus", "postal_code": "10115", "city": "Berlin"},
            "Hauptstr. 5, Hinterhaus, 10115 Berlin, Germany",
        ),
        (
            "FR",
            {"line1": "12 rue de la Paix", "postal_code": "75002", "city": "Paris"},
            "12 rue de la Paix, 75002 Paris, France",
        ),
        (
            "NL",
            {"line1": "Damrak 1", "postal_code": "1012 LG", "city": "Amsterdam"},
            "Damrak 1, 1012 LG Amsterdam, Netherlands",
        ),
        (
            "ES",
            {"line1": "Calle de Alcalá, 71", "postal_code": "28014", "city": "Madrid", "region": "Madrid"},
            "Calle de Alcalá, 71, 28014 Madrid Madrid, Spain",
        ),
        (
            "GB",
            {"line1": "10 Downing St", "postal_code": "sw1a 2aa", "city": "London"},
            "10 Downing St, London, SW1A 2AA, United Kingdom",
        ),
    ],
)
def test_european_addresses_follow_their_countrys_order(country, parts, expected):
    assert address_text(country=country, **parts) == expected


def test_a_region_the_format_has_no_place_for_follows_the_city():
    assert address_lines(
        line1="30 Manor Rd", postal_code="B1 3XB", city="Birmingham", region="West Midlands", country="GB"
    ) == ["30 Manor Rd", "Birmingham", "West Midlands", "B1 3XB", "United Kingdom"]


def test_missing_parts_leave_no_stray_commas_and_an_unknown_country_still_reads():
    assert address_text(city="Atlanta", country="US") == "Atlanta, United States"
    assert address_text(region="Midlothian", country="GB") == "Midlothian, United Kingdom"
    unknown = address_text(line1="1 Road", postal_code="123", city="Town", country="ZZ")
    assert unknown == "1 Road, 123 Town, ZZ"
    assert address_text(line1="1 Road", city="Town") == "1 Road, Town"


def test_an_address_object_and_its_raw_value_when_nothing_was_standardized():
    point = SimpleNamespace(
        line1="",
        line2="",
        postal_code="",
        city="",
        region="",
        country="",
        raw_value="somewhere over the rainbow",
    )
    assert address_text(point) == "somewhere over the rainbow"
