"""The party 360 page: provenance per value, consent badges, the engagement timeline with its
filters, totals and pages, relationships and merge history."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from parties.models import Engagement, PartyRelationship
from parties.selectors_engagement import engagement_totals, engagement_types_parse
from parties.services.golden import party_golden_refresh
from parties.services.merge import party_merge
from tests.factories import EmailFactory, PartyFactory, SourceRecordFactory, SourceSystemFactory

pytestmark = pytest.mark.django_db


def _std(**attributes):
    return {"kind": "individual", "attributes": attributes}


def _engagement(party, kind: str, days_ago: int, **extra) -> Engagement:
    return Engagement.objects.create(
        party=party, engagement_type=kind, occurred_at=timezone.now() - dt.timedelta(days=days_ago), **extra
    )


@pytest.fixture
def bill():
    erp = SourceSystemFactory(name="ERP", trust_rank=5)
    shop = SourceSystemFactory(name="Shop", trust_rank=40)
    party = PartyFactory(given_name="x", family_name="x")
    SourceRecordFactory(
        party=party,
        source_system=shop,
        source_key="S-1",
        source_updated_at=dt.datetime(2024, 3, 1, tzinfo=dt.UTC),
        standardized=_std(given_name="Bill", family_name="Gates", birth_date="1955-10-28"),
    )
    SourceRecordFactory(
        party=party,
        source_system=erp,
        source_key="E-1",
        source_updated_at=dt.datetime(2023, 7, 9, tzinfo=dt.UTC),
        standardized=_std(given_name="William", family_name="Gates", birth_date=""),
    )
    return party_golden_refresh(party_id=party.pk)


def _golden_rows(html: str) -> dict[str, str]:
    start = html.index('data-testid="golden"')
    section = html[start : html.index("</section>", start)]
    rows = re.findall(r"<tr><th>(.*?)</th><td>(.*?)</td>", section, re.S)
    return {label: re.sub(r"<[^>]+>", " ", cell) for label, cell in rows}


def test_each_golden_value_shows_the_source_and_date_it_came_from(role_client, bill):
    html = role_client("steward").get(bill.get_absolute_url()).content.decode()
    rows = _golden_rows(html)
    # The given name comes from the more trusted ERP, the birth date only the shop knows.
    given = rows["Given name"]
    assert "William" in given and "ERP" in given and "2023-07-09" in given
    assert "1955-10-28" in rows["Birth date"] and "Shop" in rows["Birth date"]
    assert "2024-03-01" in rows["Birth date"]


def test_a_steward_override_shows_who_pinned_it(role_client, bill, steward):
    client = role_client("steward")
    client.post(
        reverse("parties:override", args=[bill.pk]),
        {"attribute": "given_name", "value": "Billy", "reason": "customer asked"},
    )
    rows = _golden_rows(client.get(bill.get_absolute_url()).content.decode())
    assert "Billy" in rows["Given name"] and steward.username in rows["Given name"]


def test_totals_count_orders_and_subtract_returns_per_currency(bill):
    _engagement(bill, "order", 30, amount=Decimal("100.00"), currency="EUR", status="delivered")
    _engagement(bill, "order", 20, amount=Decimal("50.50"), currency="EUR", status="shipped")
    _engagement(bill, "order", 10, amount=Decimal("999.00"), currency="EUR", status="cancelled")
    _engagement(bill, "return", 5, amount=Decimal("20.00"), currency="EUR")
    _engagement(bill, "order", 3, amount=Decimal("10.00"), currency="USD")
    _engagement(bill, "survey_response", 2, nps_score=9)
    _engagement(bill, "survey_response", 1, nps_score=6)
    last = _engagement(bill, "web_visit", 0)

    totals = engagement_totals(party_id=bill.pk)

    assert totals.count == 8 and totals.order_count == 3 and totals.return_count == 1  # not the cancelled one
    assert totals.lifetime_value == [("EUR", Decimal("130.50")), ("USD", Decimal("10.00"))]
    assert totals.average_nps == 7.5 and totals.nps_responses == 2
    assert totals.last_engagement_at == last.occurred_at
    assert {t: n for t, _, n in totals.by_type}["survey_response"] == 2


def test_the_timeline_filters_by_type_and_pages_through_thousands(role_client, bill):
    Engagement.objects.bulk_create(
        [
            Engagement(
                party=bill,
                engagement_type="order" if i % 4 == 0 else "web_visit",
                occurred_at=timezone.now() - dt.timedelta(hours=i),
                external_id=f"T{i}",
            )
            for i in range(1200)
        ]
    )
    client = role_client("steward")

    # A fixed number of queries however many touch points the party has.
    with CaptureQueriesContext(connection) as queries:
        page = client.get(bill.get_absolute_url(), {"type": "order", "page": "2"})
    assert len(queries) < 40
    html = page.content.decode()
    rows = re.findall(r'data-testid="engagement" data-type="(\w+)"', html)
    assert rows == ["order"] * 50
    assert "Page 2 of 6" in html  # 300 orders, 50 a page
    assert "T200" in html and "T196" not in html  # page 2 starts at the 51st order (every 4th)

    # The filter chips alone, for htmx.
    partial = client.get(
        bill.get_absolute_url(), {"type": "Web visit"}, HTTP_HX_REQUEST="true", HTTP_HX_TARGET="timeline"
    )
    body = partial.content.decode()
    assert body.lstrip().startswith("<section") and "<html" not in body
    assert set(re.findall(r'data-testid="engagement" data-type="(\w+)"', body)) == {"web_visit"}


def test_an_unknown_type_is_named_and_ignored(role_client, bill):
    _engagement(bill, "order", 1)
    html = role_client("steward").get(bill.get_absolute_url(), {"type": ["order", "pizza"]}).content.decode()
    assert "Unknown engagement type: pizza" in html
    assert engagement_types_parse(["ORDER, web visit", "x"]) == (["order", "web_visit"], ["x"])


def test_out_of_range_pages_show_the_last_page(role_client, bill):
    _engagement(bill, "order", 1, external_id="ORD-1")
    client = role_client("steward")
    for page in ("999", "abc", "-1"):
        response = client.get(bill.get_absolute_url(), {"page": page})
        assert response.status_code == 200 and "ORD-1" in response.content.decode(), page


def test_household_members_link_to_each_other(role_client, bill):
    melinda = PartyFactory(given_name="Melinda", family_name="Gates", display_name="Melinda Gates")
    PartyRelationship.objects.create(from_party=bill, to_party=melinda, kind="household_member")
    client = role_client("steward")
    assert melinda.get_absolute_url() in client.get(bill.get_absolute_url()).content.decode()
    assert bill.get_absolute_url() in client.get(melinda.get_absolute_url()).content.decode()


def test_merge_history_and_consent_badges(role_client, bill, administrator):
    from consents.models import ConsentStatus, ContactPointTypeConsent, DataUsePurpose

    other = PartyFactory(display_name="Bill Gates")
    email = EmailFactory(party=other, raw_value="bill@example.com", normalized="bill@example.com")
    party_merge(party_ids=[bill.pk, other.pk], survivor_id=bill.pk, actor=administrator)
    purpose = DataUsePurpose.objects.filter(is_active=True).order_by("pk").first()
    ContactPointTypeConsent.objects.create(
        party=bill,
        channel="email",
        purpose=purpose,
        status=ConsentStatus.OPT_OUT,
        captured_at=timezone.now(),
        capture_source="web form",
    )

    html = role_client("marketing").get(bill.get_absolute_url()).content.decode()

    history = html[html.index('data-testid="merge-history"') :]
    assert f'href="/parties/{other.pk}/"' in history[: history.index("</section>")]
    contacts = html[html.index(email.normalized) :]
    assert f"✗ {purpose.name}" in contacts[: contacts.index("</li>")]
    assert 'data-testid="consents-summary"' in html


def test_consents_are_not_shown_to_roles_without_access(client, bill):
    from django.contrib.auth.models import Permission

    from tests.factories import UserFactory

    viewer = UserFactory(username="viewer")
    viewer.user_permissions.add(Permission.objects.get(codename="view_party"))
    client.force_login(viewer)
    html = client.get(bill.get_absolute_url()).content.decode()
    assert 'data-testid="golden"' in html and 'data-testid="consents-summary"' not in html


def test_a_phone_number_shows_its_sms_consent_by_channel_and_its_own_consent_once(role_client, bill):
    from consents.models import ConsentStatus, ContactPointConsent, ContactPointTypeConsent, DataUsePurpose
    from parties.models import ContactPointPhone

    purposes = list(DataUsePurpose.objects.filter(is_active=True).order_by("pk")[:2])
    phone = ContactPointPhone.objects.create(
        party=bill, raw_value="+4915123456789", normalized="+4915123456789", country="DE"
    )
    ContactPointTypeConsent.objects.create(
        party=bill,
        channel="sms",
        purpose=purposes[0],
        status=ConsentStatus.OPT_OUT,
        captured_at=timezone.now(),
        capture_source="SMS STOP",
    )
    ContactPointConsent.objects.create(
        party=bill,
        point_kind="phone",
        point_id=phone.pk,
        purpose=purposes[1],
        status=ConsentStatus.OPT_IN,
        captured_at=timezone.now(),
        capture_source="call centre",
    )

    html = role_client("steward").get(bill.get_absolute_url()).content.decode()

    item = html[html.index(phone.normalized) :]
    item = item[: item.index("</li>")]
    assert f"SMS: ✗ {purposes[0].name}" in item
    assert item.count(f"✓ {purposes[1].name}") == 1 and f"SMS: ✓ {purposes[1].name}" not in item
