"""Who may be contacted, and why not: one case per reason, and the list and the explanation
always agree."""

from __future__ import annotations

import datetime as dt

import pytest

from consents.models import DataUsePurpose
from consents.services.eligibility import eligibility_explain, eligible_points, suppressed_points
from consents.services.ledger import Actor, consent_set, point_consent_set, preferences_set
from parties.models import ContactPointEmail, ContactPointPhone, Party
from tests.factories import PartyFactory

pytestmark = pytest.mark.django_db
ON = dt.date(2026, 6, 1)
BEFORE = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
A = Actor(label="test")


def _email(name: str, **fields) -> ContactPointEmail:
    party = PartyFactory(given_name=name)
    return ContactPointEmail.objects.create(
        party=party, raw_value=f"{name}@x.org", normalized=f"{name}@x.org", **fields
    )


def _opt(point, status="opt_in", purpose="newsletter", **kwargs):
    consent_set(
        party_id=point.party_id,
        channel="email",
        purpose=purpose,
        status=status,
        captured_at=BEFORE,
        capture_source="web form",
        actor=A,
        **kwargs,
    )


@pytest.fixture
def cases():
    cases = {}
    cases["opted in"] = p = _email("ok")
    _opt(p)
    cases["never asked"] = _email("silent")
    cases["opted out"] = p = _email("out")
    _opt(p, "opt_out")
    cases["deactivated"] = p = _email("old", is_active=False)
    _opt(p)
    cases["invalid"] = p = _email("bad", validity="invalid", validity_reason="no domain")
    _opt(p)
    cases["do not solicit"] = p = _email("quiet")
    _opt(p)
    preferences_set(party_id=p.party_id, changes={"do_not_solicit": True}, actor=A)
    cases["do not process"] = p = _email("gone")
    _opt(p)
    preferences_set(party_id=p.party_id, changes={"do_not_process": True}, actor=A)
    cases["merged away"] = p = _email("merged")
    _opt(p)
    survivor = PartyFactory()
    Party.objects.filter(pk=p.party_id).update(status="merged", merged_into=survivor)
    cases["point opted out"] = p = _email("pointout")
    _opt(p)
    point_consent_set(
        party_id=p.party_id,
        point_kind="email",
        point_id=p.pk,
        purpose="newsletter",
        status="opt_out",
        captured_at=BEFORE,
        capture_source="unsubscribe link",
        actor=A,
    )
    cases["opt-in expired"] = p = _email("expired")
    _opt(p, effective_to=dt.datetime(2026, 3, 1, tzinfo=dt.UTC))
    cases["erased"] = p = _email("erased")
    _opt(p)
    Party.objects.filter(pk=p.party_id).update(erased_at=BEFORE)
    return cases


def test_only_the_opted_in_reachable_customer_is_eligible_and_each_other_says_why(cases):
    newsletter = DataUsePurpose.objects.get(code="newsletter")
    eligible = set(eligible_points(channel="email", purpose=newsletter, on=ON).values_list("pk", flat=True))
    suppressed = set(
        suppressed_points(channel="email", purpose=newsletter, on=ON).values_list("pk", flat=True)
    )

    assert eligible == {cases["opted in"].pk}
    assert suppressed == {p.pk for name, p in cases.items() if name != "opted in"}
    expected = {
        "never asked": "needs an opt-in; none is recorded for the customer",
        "opted out": "needs an opt-in; the customer opted out (the party's email consent",
        "deactivated": "deactivated",
        "invalid": "invalid (no domain)",
        "do not solicit": "asked not to be solicited",
        "do not process": "not to process",
        "merged away": "was merged into party",
        "point opted out": "this contact point's own consent",
        "opt-in expired": "needs an opt-in; none is recorded",
        "erased": "erased on request on 2026-01-01",
    }
    for name, point in cases.items():
        explained = eligibility_explain(point, channel="email", purpose=newsletter, on=ON)
        assert explained.eligible == (point.pk in eligible), name
        if name in expected:
            assert any(expected[name] in reason for reason in explained.reasons), (name, explained.reasons)


def test_a_purpose_without_opt_in_needs_only_no_opt_out_and_ignores_do_not_solicit(cases):
    service = DataUsePurpose.objects.get(code="service")
    eligible = set(eligible_points(channel="email", purpose=service, on=ON).values_list("pk", flat=True))
    assert eligible == {
        cases[name].pk
        for name in (
            "opted in",
            "never asked",
            "opted out",
            "do not solicit",
            "point opted out",
            "opt-in expired",
        )
    }


def test_sms_leaves_out_fixed_lines():
    party = PartyFactory()
    mobile = ContactPointPhone.objects.create(
        party=party, raw_value="1", normalized="+4915111", phone_type="mobile"
    )
    fixed = ContactPointPhone.objects.create(
        party=party, raw_value="2", normalized="+493011", phone_type="fixed"
    )
    consent_set(
        party_id=party.pk,
        channel="sms",
        purpose="marketing",
        status="opt_in",
        captured_at=BEFORE,
        capture_source="shop",
        actor=A,
    )
    marketing = DataUsePurpose.objects.get(code="marketing")
    assert list(eligible_points(channel="sms", purpose=marketing, on=ON)) == [mobile]
    assert "fixed line" in eligibility_explain(fixed, channel="sms", purpose=marketing, on=ON).reasons[0]


def test_the_eligibility_page_counts_explains_and_downloads_formula_safe_csv(role_client, cases):
    from django.urls import reverse

    from consents.services.ledger import consent_set as set_consent

    evil = _email("evil")
    ContactPointEmail.objects.filter(pk=evil.pk).update(normalized="=cmd@x.org")
    set_consent(
        party_id=evil.party_id,
        channel="email",
        purpose="newsletter",
        status="opt_in",
        captured_at=BEFORE,
        capture_source="web",
        actor=A,
    )
    client = role_client("marketing")
    query = "channel=email&purpose=newsletter&on=2026-06-01"
    page = client.get(reverse("consents:eligibility") + f"?{query}&lookup=OUT@x.org").content.decode()
    assert 'data-testid="eligible-count">2<' in page
    assert "not eligible" in page and "needs an opt-in; the customer opted out" in page

    eligible = b"".join(
        client.get(reverse("consents:eligibility_csv", args=["eligible"]) + f"?{query}").streaming_content
    ).decode("utf-8-sig")
    assert "ok@x.org" in eligible and "'=cmd@x.org" in eligible and "out@x.org" not in eligible
    suppression = b"".join(
        client.get(reverse("consents:eligibility_csv", args=["suppression"]) + f"?{query}").streaming_content
    ).decode("utf-8-sig")
    assert "out@x.org,opt_out,opted out" in suppression and "quiet@x.org,opt_in,do not solicit" in suppression
    bad = client.get(reverse("consents:eligibility_csv", args=["eligible"]) + "?channel=pigeon")
    assert bad.status_code == 400 and b"channel" in bad.content


def _api(client, which: str, query: str):
    from django.urls import reverse

    return client.get(reverse(f"api:{which}") + f"?{query}")


def test_the_api_lists_what_the_page_lists_page_by_page_with_reasons(role_client, cases):
    client = role_client("marketing")
    query = "channel=email&purpose=newsletter&on=2026-06-01"
    newsletter = DataUsePurpose.objects.get(code="newsletter")
    body = _api(client, "eligible", query).json()
    assert [r["contact_point_id"] for r in body["results"]] == [cases["opted in"].pk]
    ok = cases["opted in"]
    assert body["results"][0] == {
        "party_id": ok.party_id,
        "contact_point_id": ok.pk,
        "contact_point": "ok@x.org",
        "consent": "opt_in",
    }

    seen, url = [], _api(client, "suppressed", query + "&page_size=3").json()
    while True:
        seen += url["results"]
        if not url["next"]:
            break
        url = client.get(url["next"]).json()
    expected = set(suppressed_points(channel="email", purpose=newsletter, on=ON).values_list("pk", flat=True))
    assert [r["contact_point_id"] for r in seen] == sorted(expected)
    reasons = {r["contact_point"]: r["reason"] for r in seen}
    assert reasons["out@x.org"] == "opted out" and reasons["erased@x.org"] == "erased on request"
    assert reasons["quiet@x.org"] == "do not solicit"


def test_the_api_names_the_bad_parameter_and_refuses_roles_without_consents(role_client, cases, db):
    from django.test import Client

    from tests.factories import UserFactory

    bad = _api(role_client("marketing"), "eligible", "channel=pigeon&purpose=nope&on=2026-13-01")
    assert bad.status_code == 400
    errors = bad.json()["errors"]
    assert set(errors) == {"channel", "purpose", "on"} and bad.json()["detail"].startswith("Invalid input")
    nobody = Client()
    nobody.force_login(UserFactory(username="no-role"))
    refused = _api(nobody, "eligible", "channel=email&purpose=newsletter&on=2026-06-01")
    assert refused.status_code == 403
    assert "needs consents.view_contactpointtypeconsent" in refused.json()["detail"]
    anonymous = _api(Client(), "eligible", "channel=email&purpose=newsletter&on=2026-06-01")
    assert anonymous.status_code in (401, 403) and "credentials" in anonymous.json()["detail"]
