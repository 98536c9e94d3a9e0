"""Two or three copies of one customer, built through the model with every kind of row a merge
must carry: records, contact points (some shared), identifiers, engagements, memberships,
relationships and an override."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.apps import apps
from django.utils import timezone

from parties import models as m
from tests.factories import PartyFactory, SourceRecordFactory, SourceSystemFactory


@dataclass
class Copies:
    crm: m.Party
    shop: m.Party
    pos: m.Party
    employer: m.Party


def _std(given: str, family: str, birth: str = "", gender: str = "") -> dict:
    return {
        "kind": "individual",
        "attributes": {"given_name": given, "family_name": family, "birth_date": birth, "gender": gender},
    }


def customer_copies() -> Copies:
    crm_source = SourceSystemFactory(name="CRM", trust_rank=5)
    shop_source = SourceSystemFactory(name="Shop", trust_rank=30)
    pos_source = SourceSystemFactory(name="POS", trust_rank=60)
    now = timezone.now()
    crm = PartyFactory(given_name="Anna", family_name="Schmidt", display_name="Anna Schmidt")
    shop = PartyFactory(
        given_name="Anne", family_name="Schmidt", display_name="Anne Schmidt", birth_date=dt.date(1980, 5, 17)
    )
    pos = PartyFactory(given_name="A.", family_name="Schmidt-Meyer", display_name="A. Schmidt-Meyer")
    employer = PartyFactory(
        kind=m.PartyKind.ORGANIZATION,
        given_name="",
        family_name="",
        organization_name="ACME GmbH",
        display_name="ACME GmbH",
    )
    r_crm = SourceRecordFactory(
        party=crm,
        source_system=crm_source,
        source_key="C-1",
        standardized=_std("Anna", "Schmidt"),
        source_updated_at=now - dt.timedelta(days=300),
    )
    r_shop = SourceRecordFactory(
        party=shop,
        source_system=shop_source,
        source_key="S-1",
        standardized=_std("Anne", "Schmidt", "1980-05-17", "female"),
        source_updated_at=now - dt.timedelta(days=3),
    )
    r_pos = SourceRecordFactory(
        party=pos,
        source_system=pos_source,
        source_key="P-1",
        standardized=_std("A.", "Schmidt-Meyer"),
        source_updated_at=now - dt.timedelta(days=30),
    )
    for party, record, email in (
        (crm, r_crm, "anna@example.com"),
        (shop, r_shop, "anna@example.com"),
        (shop, r_shop, "a.schmidt@shop.example"),
        (pos, r_pos, "pos@example.com"),
    ):
        m.ContactPointEmail.objects.create(
            party=party,
            source_record=record,
            raw_value=email.upper(),
            normalized=email,
            is_primary=not m.ContactPointEmail.objects.filter(party=party).exists(),
            first_seen_at=record.first_seen_at,
            last_seen_at=record.last_seen_at,
        )
    m.ContactPointPhone.objects.create(
        party=shop,
        source_record=r_shop,
        raw_value="0151 2345678",
        normalized="+491512345678",
        country="DE",
        is_primary=True,
    )
    m.ContactPointAddress.objects.create(
        party=crm,
        source_record=r_crm,
        raw_value="Hauptstr. 1",
        line1="Hauptstr. 1",
        city="Berlin",
        postal_code="10115",
        country="DE",
        normalized="hauptstr 1|10115|berlin|de",
    )
    m.PartyIdentification.objects.create(
        party=crm,
        source_record=r_crm,
        identifier_type="customer_number",
        issuer="CRM",
        value="C-1",
        normalized="C1",
    )
    m.PartyIdentification.objects.create(
        party=shop,
        source_record=r_shop,
        identifier_type="customer_number",
        issuer="CRM",
        value="C 1",
        normalized="C1",
    )
    m.Engagement.objects.create(
        party=shop,
        source_system=shop_source,
        source_record=r_shop,
        external_id="O-1",
        engagement_type="order",
        occurred_at=now,
        status="processing",
        amount=99,
    )
    m.Engagement.objects.create(
        party=pos,
        source_system=pos_source,
        source_record=r_pos,
        external_id="R-9",
        engagement_type="order",
        occurred_at=now,
        status="completed",
        amount=12,
    )
    m.Membership.objects.create(
        party=pos, source_record=r_pos, program_type="loyalty", program_name="Club", tier="Gold"
    )
    m.PartyRelationship.objects.create(from_party=shop, to_party=employer, kind="employed_by")
    m.PartyRelationship.objects.create(from_party=crm, to_party=employer, kind="employed_by")
    m.PartyRelationship.objects.create(from_party=crm, to_party=shop, kind="household_member")
    m.GoldenOverride.objects.create(party=pos, attribute="middle_name", value="Maria")
    return Copies(crm=crm, shop=shop, pos=pos, employer=employer)


DUMPED = [
    "party",
    "sourcerecord",
    "contactpointemail",
    "contactpointphone",
    "contactpointaddress",
    "contactpointsocial",
    "partyidentification",
    "engagement",
    "membership",
    "partyrelationship",
    "goldenoverride",
    "dataqualityissue",
]


def table_dump() -> dict[str, list[dict]]:
    """Every row of every table a merge may touch, as stored."""
    dump = {}
    for name in DUMPED:
        model = apps.get_model("parties", name)
        dump[name] = list(model.objects.order_by("pk").values())
        if name == "party":  # when it last changed moves on (API clients sync by it); the data must not
            for row in dump[name]:
                row.pop("updated_at")
        for field in model._meta.many_to_many:
            through = field.remote_field.through
            dump[f"{name}.{field.name}"] = list(through.objects.order_by("pk").values())
    return dump
