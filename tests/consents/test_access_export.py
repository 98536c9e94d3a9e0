"""The subject access export holds everything about the customer, merged parties included."""

from __future__ import annotations

import json

import pytest
from django.urls import reverse

from consents.services.ledger import Actor, consent_set
from parties.models import EventKind, PartyEvent
from parties.services.merge import party_merge
from tests.parties.customers import customer_copies

pytestmark = pytest.mark.django_db


def test_the_export_contains_every_source_record_and_the_ledger_and_is_audited(role_client):
    c = customer_copies()
    consent_set(
        party_id=c.shop.pk,
        channel="email",
        purpose="newsletter",
        status="opt_out",
        capture_source="phone call",
        actor=Actor(label="test"),
    )
    party_merge(party_ids=[c.crm.pk, c.shop.pk, c.pos.pk], survivor_id=c.crm.pk)

    response = role_client("steward").get(reverse("consents:access_export", args=[c.crm.pk]))

    assert response.status_code == 200 and "attachment" in response["Content-Disposition"]
    document = json.loads(response.content)
    assert sorted(r["source_key"] for r in document["source_records"]) == ["C-1", "P-1", "S-1"]
    assert all(r["raw_payload"] for r in document["source_records"])
    assert sorted(document["export"]["includes_merged_parties"]) == sorted([c.shop.pk, c.pos.pk])
    assert {e["normalized"] for e in document["emails"]} >= {"anna@example.com", "pos@example.com"}
    assert len(document["engagements"]) == 2 and len(document["memberships"]) == 1
    shop_ledger = [e["key"] for e in document["consent_ledger"] if e["party_id"] == c.shop.pk]
    assert shop_ledger == ["email/newsletter"]
    assert any(h["kind"] == "merge" for h in document["history"])
    assert PartyEvent.objects.filter(kind=EventKind.ACCESS_EXPORT, party=c.crm).count() == 1


def test_marketing_may_not_export(role_client):
    c = customer_copies()
    assert role_client("marketing").get(reverse("consents:access_export", args=[c.crm.pk])).status_code == 403
