"""An id in the API's URLs is written with the digits 0-9: "٣" (Arabic-Indic three) is no id,
not party 3 (the router's ``\\d+`` accepted any script's digits and int() read them)."""

from __future__ import annotations

import pytest

from tests.factories import PartyFactory, SourceSystemFactory

pytestmark = pytest.mark.django_db
ARABIC_INDIC = str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")


@pytest.mark.parametrize(
    "collection, factory", [("parties", PartyFactory), ("source-systems", SourceSystemFactory)]
)
def test_an_existing_id_written_in_other_digits_is_not_found(api, collection, factory):
    pk = factory().pk

    ours = api("administrator").get(f"/api/v1/{collection}/{pk}/")
    theirs = api("administrator").get(f"/api/v1/{collection}/{str(pk).translate(ARABIC_INDIC)}/")

    assert ours.status_code == 200
    assert theirs.status_code == 404


@pytest.mark.parametrize("collection", ["imports", "suggestions", "merges"])
def test_other_digits_are_no_id_anywhere_in_the_api(api, collection):
    assert api("administrator").get(f"/api/v1/{collection}/٣/").status_code == 404


@pytest.mark.parametrize("path", ["/api/v1/suggestions/?party=", "/api/v1/merges/?party="])
def test_an_id_filter_written_in_other_digits_is_refused_naming_it(api, path):
    """The id filters read their value with parse_id: "٣" was read as party 3 by int()."""
    party = PartyFactory()
    ours = api("administrator").get(f"{path}{party.pk}")
    theirs = api("administrator").get(f"{path}{str(party.pk).translate(ARABIC_INDIC)}")

    assert ours.status_code == 200
    assert theirs.status_code == 400
    assert "party" in theirs.json()["errors"]
