"""Match on entry: ``POST /api/v1/parties/match/`` and the party page's possible duplicates,
with a real trained matcher and the block keys of a real run."""

from __future__ import annotations

import re

import pytest
from django.core.management import call_command
from django.urls import reverse

from matching.models import BlockKey, MatchRun, MatchSuggestion, MatchSuggestionMember, SuggestionStatus
from matching.services.entry import party_match
from parties.models import Party, SourceRecord, SourceSystem
from tests.api.conftest import api  # noqa: F401 - the fixture
from tests.matching.helpers import trained

URL = "/api/v1/parties/match/"


def _typo(name: str) -> str:
    """One letter swapped with the next: what a hurried clerk types."""
    return name[0] + name[2] + name[1] + name[3:] if len(name) > 3 else name + "e"


def _score_of(fragment: str, party: Party) -> float:
    """The score the duplicates fragment shows for ``party`` (0 when it is not listed)."""
    found = re.search(rf'href="{party.get_absolute_url()}".*?<td>([0-9.]+)</td>', fragment, re.DOTALL)
    return float(found.group(1)) if found else 0.0


def _person_with_email_and_phone() -> tuple[Party, dict]:
    """An individual whose source row has a name, birth date, email and phone."""
    for record in SourceRecord.objects.select_related("party").order_by("pk"):
        raw = record.raw_payload
        if (
            record.party.kind == "individual"
            and record.party.status == "active"
            and all(raw.get(k) for k in ("given_name", "family_name", "birth_date", "email", "phone"))
        ):
            return record.party, raw
    raise AssertionError("the demo data has no such person")


@pytest.fixture
def matched(tmp_path, db):
    """Demo data, a trained model and a full run's block keys."""
    trained(tmp_path, parties=200, seed=4)
    call_command("rematch", "--sync")
    assert BlockKey.objects.exists()


def test_a_near_duplicate_is_found_with_evidence_and_create_makes_a_pending_suggestion(matched, api):  # noqa: F811
    party, raw = _person_with_email_and_phone()
    candidate = {
        "given_name": _typo(raw["given_name"]),
        "family_name": raw["family_name"],
        "birth_date": raw["birth_date"],
        "email": raw["email"].upper(),  # written another way: standardized like an import
        "phone": raw["phone"],
        "country": raw.get("country", ""),
    }

    # when: a steward's system asks who this is
    response = api("steward").post(URL, candidate, format="json")

    # then: the party comes back, likely enough for review, with evidence in words
    assert response.status_code == 200, response.content
    body = response.json()
    found = {m["party_id"]: m for m in body["matches"]}
    assert party.pk in found, body
    match = found[party.pk]
    assert match["band"] in ("review", "auto_merge") and match["score"] >= body["review_threshold"]
    assert match["evidence"]["comparisons"]["cmp:email"]["level"] == "same address"
    assert match["evidence"]["comparisons"]["cmp:family"]["level"] == "same"
    assert match["evidence"]["comparisons"]["cmp:given"]["level"] != "same"
    assert match["url"].endswith(f"/api/v1/parties/{party.pk}/")
    assert body["block_keys"] > 0 and body["candidates"] >= 1 and body["created"] is None
    scores = [m["score"] for m in body["matches"]]
    assert scores == sorted(scores, reverse=True)
    parties_before = Party.objects.count()

    # when: an administrator's system enters the customer with create=true
    source = SourceSystem.objects.order_by("pk").first()
    response = api("administrator").post(
        URL, {**candidate, "create": True, "source_system": source.name, "source_key": "NEW-1"}, format="json"
    )

    # then: the party exists, and so does a pending suggestion of it with its twin
    assert response.status_code == 201, response.content
    body = response.json()
    new_id = body["created"]["id"]
    assert Party.objects.count() == parties_before + 1
    new = Party.objects.get(pk=new_id)
    assert new.status == "active" and new.emails.get().normalized == raw["email"].strip().lower()
    assert SourceRecord.objects.get(source_system=source, source_key="NEW-1").party_id == new_id
    suggestion = MatchSuggestion.objects.get(pk=body["suggestion"]["id"])
    assert suggestion.status == SuggestionStatus.PENDING
    members = set(
        MatchSuggestionMember.objects.filter(suggestion=suggestion).values_list("party_id", flat=True)
    )
    assert {new_id, party.pk} <= members
    assert suggestion.evidence["pairs"] and suggestion.evidence["emails"]["agreement"] in ("same", "overlap")
    # it belongs to the incremental run queued to re-match the new party
    assert suggestion.run.full is False and new_id in suggestion.run.party_ids
    assert BlockKey.objects.filter(party_id=new_id).exists()

    # when: the same customer is entered a second time before any run
    again = (
        api("administrator")
        .post(
            URL,
            {**candidate, "create": True, "source_system": source.name, "source_key": "NEW-2"},
            format="json",
        )
        .json()
    )
    # then: the first entry is found too
    assert new_id in {m["party_id"] for m in again["matches"]}

    # the same key again: a conflict naming the party, nothing created
    count = Party.objects.count()
    response = api("administrator").post(
        URL, {**candidate, "create": True, "source_system": source.name, "source_key": "NEW-1"}, format="json"
    )
    assert response.status_code == 409 and f"party {new_id}" in response.json()["detail"]
    assert Party.objects.count() == count


def test_a_customer_like_nobody_is_created_without_a_suggestion_and_pages_show_duplicates(
    matched,
    api,  # noqa: F811
    client,
    steward,
):
    source = SourceSystem.objects.order_by("pk").first()
    suggestions = MatchSuggestion.objects.count()
    response = api("administrator").post(
        URL,
        {
            "given_name": "Quentin",
            "family_name": "Zyxwvutsson",
            "birth_date": "1901-01-01",
            "email": "quentin.zyxwvutsson@nowhere-else.example",
            "create": True,
            "source_system": source.name,
            "source_key": "FRESH-1",
        },
        format="json",
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["suggestion"] is None and all(m["band"] == "below" for m in body["matches"])
    assert MatchSuggestion.objects.count() == suggestions
    assert Party.objects.filter(pk=body["created"]["id"]).exists()

    # the party page: possible duplicates of a party with a twin, loaded by htmx
    party, raw = _person_with_email_and_phone()
    client.force_login(steward)
    page = client.get(party.get_absolute_url())
    assert page.status_code == 200
    html = page.content.decode()
    assert "Possible duplicates" in html and reverse("parties:duplicates", args=[party.pk]) in html
    assert "Check for duplicates" in html and "<script>" not in html.split("</head>")[1]

    # the contact-point form, before saving: a namesake entered without contact points looks
    # much more like the party once the party's email address is about to be added to it
    namesake = (
        api("administrator")
        .post(
            URL,
            {
                "given_name": raw["given_name"],
                "family_name": raw["family_name"],
                "create": True,
                "source_system": source.name,
                "source_key": "NAMESAKE-1",
            },
            format="json",
        )
        .json()["created"]["id"]
    )
    check = reverse("parties:duplicates", args=[namesake])
    plain = client.get(check, HTTP_HX_REQUEST="true").content.decode()
    fragment = client.get(check, {"kind": "email", "value": raw["email"].upper()}, HTTP_HX_REQUEST="true")
    assert fragment.status_code == 200
    text = fragment.content.decode()
    assert "Possible duplicates" in text and party.get_absolute_url() in text
    assert _score_of(text, party) > _score_of(plain, party)
    # nothing was saved by checking
    assert not Party.objects.get(pk=namesake).emails.exists()

    # the party page's own check lists other parties (never itself), with scores
    own = client.get(reverse("parties:duplicates", args=[party.pk]), HTTP_HX_REQUEST="true").content.decode()
    assert f'href="{party.get_absolute_url()}"' not in own
    assert f'href="/parties/{namesake}/"' in own and "/matching/suggestions/" in own  # the run's suggestion


def test_input_is_checked_field_by_field_and_roles_are_enforced(api, db, client):  # noqa: F811
    # unknown fields, a bad limit, create without its key: 400s naming each field
    response = api("steward").post(
        URL, {"emial": "a@b.example", "given_name": "Ann", "limit": 99}, format="json"
    )
    assert response.status_code == 400
    errors = response.json()["errors"]
    assert set(errors) >= {"limit"} or set(errors) >= {"emial"}
    response = api("steward").post(URL, {"emial": "a@b.example", "given_name": "Ann"}, format="json")
    assert response.status_code == 400 and "emial" in response.json()["errors"]
    response = api("administrator").post(URL, {"given_name": "Ann", "create": True}, format="json")
    assert response.status_code == 400
    assert set(response.json()["errors"]) == {"source_system", "source_key"}
    # a candidate that names nobody
    response = api("steward").post(URL, {"gender": "f", "city": "Berlin"}, format="json")
    assert response.status_code == 400 and "names nobody" in response.json()["detail"]
    response = api("steward").post(URL, {}, format="json")
    assert response.status_code == 400
    response = api("steward").post(URL, {"email": "x" * 400}, format="json")
    assert response.status_code == 400 and "email" in response.json()["errors"]
    response = api("steward").post(
        URL, {"given_name": "Ann", "source_system": "No such system"}, format="json"
    )
    assert response.status_code == 400 and "source_system" in response.json()["errors"]

    # roles: marketing may match (it reads parties) but not create; nobody anonymous
    assert client.post(URL, {"given_name": "Ann"}, content_type="application/json").status_code in (401, 403)
    source = SourceSystem.objects.create(name="CRM")
    response = api("marketing").post(
        URL,
        {"given_name": "Ann", "create": True, "source_system": source.name, "source_key": "K1"},
        format="json",
    )
    assert response.status_code == 403 and not SourceRecord.objects.exists()
    response = api("steward").post(
        URL,
        {"given_name": "Ann", "create": True, "source_system": source.name, "source_key": "K1"},
        format="json",
    )
    assert response.status_code == 403

    # no trained matcher: a clear 409 that says what to do, nothing created
    response = api("marketing").post(URL, {"given_name": "Ann", "family_name": "Lee"}, format="json")
    assert response.status_code == 409 and "train the matcher" in response.json()["detail"]
    response = api("administrator").post(
        URL,
        {"given_name": "Ann", "create": True, "source_system": source.name, "source_key": "K1"},
        format="json",
    )
    assert response.status_code == 409 and not Party.objects.exists() and not MatchRun.objects.exists()


def test_the_service_standardizes_the_candidate_like_an_import(matched):
    party, raw = _person_with_email_and_phone()
    result = party_match(
        candidate={"full_name": f"{raw['given_name']} {raw['family_name']}", "email": raw["email"]}
    )
    assert party.pk in {m.party_id for m in result.matches}
    assert result.model_id and result.block_keys > 0
