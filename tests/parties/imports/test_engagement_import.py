"""The "engagements" file kind: touch points of customers already imported."""

from __future__ import annotations

import io
from decimal import Decimal

import pytest
from django.urls import reverse

from parties.models import Engagement, ImportRejection, Party, SourceRecord
from parties.services.imports.jobs import import_file_store, import_job_create, import_job_start
from parties.services.imports.mapping import MappingError
from parties.services.merge import party_merge
from tests.factories import SourceSystemFactory

pytestmark = pytest.mark.django_db

CUSTOMERS = (
    "source_key,given_name,family_name,email,phone\n"
    "k1,Ann,Lee,ann@example.com,+49 151 23456789\n"
    "k2,Bob,Stone,bob@example.com,\n"
    "k3,Cid,Moss,shared@example.com,+49 30 1234567\n"
    "k4,Dee,Moss,shared@example.com,\n"
    "k5,Anne,Lee,anne.lee@example.com,\n"
)
HEADER = (
    "source_key,email,phone,external_id,engagement_type,occurred_at,channel,status,amount,currency,"
    "nps_score,store\n"
)


@pytest.fixture
def customers(run_import) -> dict[str, Party]:
    job = run_import(CUSTOMERS)
    assert (job.status, job.rows_created) == ("succeeded", 5)
    return {r.source_key: r.party for r in SourceRecord.objects.select_related("party")}


def _rejections(job) -> dict[int, tuple[str, str]]:
    return {r.line: (r.column, r.reason) for r in ImportRejection.objects.filter(job=job)}


def test_it_attaches_touch_points_by_source_key_email_and_phone_to_the_survivor(run_import, customers):
    # Given Anne Lee (k5) merged into Ann Lee (k1)
    ann, bob = customers["k1"], customers["k2"]
    party_merge(party_ids=[ann.pk, customers["k5"].pk], survivor_id=ann.pk)

    # When a file names customers by source key, email (other case) and a national phone number
    job = run_import(
        HEADER
        + "k1,,,ORD-1,order,2026-03-01T10:15:00Z,web,delivered,129.90,eur,,\n"
        + ",BOB@Example.com,,CS-7,Support case,2026-03-02,phone,closed,,,,\n"
        + ",,0151 2345-6789,ORD-2,purchase,2026-03-03 16:40,in store,completed,42.5,EUR,,Berlin Mitte\n"
        + "k5,,,SRV-1,survey,2026-03-04T08:00:00+02:00,email,completed,,,9,\n",
        name="touchpoints.csv",
        kind="engagements",
    )

    # Then every line lands on the right party, the merged one's on its survivor
    assert (job.status, job.rows_read, job.rows_created, job.rows_rejected) == ("succeeded", 4, 4, 0)
    by_id = {e.external_id: e for e in Engagement.objects.all()}
    assert {k: e.party_id for k, e in by_id.items()} == {
        "ORD-1": ann.pk,
        "CS-7": bob.pk,
        "ORD-2": ann.pk,
        "SRV-1": ann.pk,
    }
    order = by_id["ORD-1"]
    assert (order.engagement_type, order.channel, order.status, order.amount, order.currency) == (
        "order",
        "web",
        "delivered",
        Decimal("129.90"),
        "EUR",
    )
    assert order.source_system == job.source_system and order.last_import_job_id == job.pk
    assert order.source_record == SourceRecord.objects.get(source_key="k1")  # named by its key
    assert by_id["CS-7"].source_record is None and by_id["CS-7"].engagement_type == "case"
    assert by_id["CS-7"].occurred_at.isoformat() == "2026-03-02T12:00:00+00:00"  # a date: noon UTC
    assert (by_id["ORD-2"].channel, by_id["ORD-2"].amount) == ("store", Decimal("42.50"))
    assert by_id["ORD-2"].attributes == {"store": "Berlin Mitte"}  # unmapped column → attributes
    assert by_id["SRV-1"].occurred_at.isoformat() == "2026-03-04T06:00:00+00:00"
    assert (by_id["SRV-1"].engagement_type, by_id["SRV-1"].nps_score) == ("survey_response", 9)


def test_importing_the_same_file_again_changes_nothing_and_a_changed_row_updates(run_import, customers):
    content = (
        HEADER
        + "k1,,,ORD-1,order,2026-03-01,web,delivered,10.00,EUR,,Mitte\n"
        + "k2,,,ORD-2,order,2026-03-01,web,delivered,20.00,EUR,,\n"
    )
    first = run_import(content, kind="engagements")
    assert (first.rows_created, first.rows_updated, first.rows_unchanged) == (2, 0, 0)

    again = run_import(content, kind="engagements")
    assert (again.rows_created, again.rows_updated, again.rows_unchanged) == (0, 0, 2)
    assert Engagement.objects.count() == 2
    assert set(Engagement.objects.values_list("last_import_job_id", flat=True)) == {again.pk}

    changed = run_import(content.replace("20.00", "25.00"), kind="engagements")
    assert (changed.rows_created, changed.rows_updated, changed.rows_unchanged) == (0, 1, 1)
    assert Engagement.objects.count() == 2
    assert Engagement.objects.get(external_id="ORD-2").amount == Decimal("25.00")
    assert Engagement.objects.get(external_id="ORD-1").attributes == {"store": "Mitte"}


def test_bad_lines_are_rejected_with_their_line_and_column_and_the_good_ones_land(run_import, customers):
    job = run_import(
        HEADER
        + "k1,,,OK-1,order,2026-03-01,web,,1.00,EUR,,\n"  # line 2: good
        + "nobody,,,X-1,order,2026-03-01,web,,,,,\n"  # 3: unknown source key
        + ",shared@example.com,,X-2,order,2026-03-01,web,,,,,\n"  # 4: two customers share the email
        + "k1,,,X-3,order,31.02.2026,web,,,,,\n"  # 5: no such date
        + "k1,,,X-4,order,2026-03-01,web,,12;50,EUR,,\n"  # 6: not a number
        + "k1,,,X-5,teleportation,2026-03-01,web,,,,,\n"  # 7: unknown type
        + "k1,,,X-6,survey,2026-03-01,email,,,,11,\n"  # 8: NPS above 10
        + "k1,,,X-7,order,2099-01-01,web,,,,,\n"  # 9: in the future
        + "k1,,,X-8,order,2026-03-01,web,,5.00,EURO,,\n"  # 10: not a currency code
        + ",,+49 170 0000000,X-9,order,2026-03-01,web,,,,,\n"  # 11: no customer with this phone
        + ",,,X-10,order,2026-03-01,web,,,,,\n"  # 12: nobody named
        + "k2,,,OK-1,order,2026-03-02,web,,,,,\n"  # 13: same touch point as line 2
        + "k2,,,X-11,order,2026-03-01,web,,,,7,\n"  # 14: NPS on an order
        + "k2,,,OK-2,web visit,2026-03-01,online,,,,,\n",  # 15: good
        kind="engagements",
    )
    assert (job.status, job.rows_read, job.rows_created, job.rows_rejected) == ("succeeded", 14, 2, 12)
    assert sorted(Engagement.objects.values_list("external_id", flat=True)) == ["OK-1", "OK-2"]
    rejected = _rejections(job)
    expected = {
        3: ("source_key", "no customer with source key 'nobody' in Web Shop"),
        4: ("email", "2 customers have this email address"),
        5: ("occurred_at", "not a date"),
        6: ("amount", "not a number"),
        7: ("engagement_type", "unknown touch point type 'teleportation'"),
        8: ("nps_score", "must be between 0 and 10"),
        9: ("occurred_at", "more than a day in the future"),
        10: ("currency", "not an ISO 4217 currency code"),
        11: ("phone", "no active customer has this phone number"),
        12: ("source_key", "no customer named"),
        13: ("external_id", "order 'OK-1' already appeared at line 2"),
        14: ("nps_score", "an NPS score belongs to a survey response"),
    }
    assert set(rejected) == set(expected)
    for line, (column, reason) in expected.items():
        assert rejected[line][0] == column, line
        assert reason in rejected[line][1], (line, rejected[line][1])


def test_a_touch_point_repeated_in_a_later_batch_of_the_same_file_is_rejected(run_import, customers):
    job = run_import(
        HEADER
        + "k1,,,ORD-1,order,2026-03-01,web,,1.00,EUR,,\n"
        + "k1,,,ORD-2,order,2026-03-01,web,,2.00,EUR,,\n"
        + "k2,,,ORD-1,order,2026-03-01,web,,3.00,EUR,,\n",
        kind="engagements",
        batch_size=2,
    )
    assert (job.rows_created, job.rows_rejected) == (2, 1)
    assert Engagement.objects.get(external_id="ORD-1").amount == Decimal("1.00")  # not overwritten
    assert "already appeared earlier in this file" in _rejections(job)[4][1]


def test_a_column_can_name_the_source_system_of_the_customer(run_import, customers, source):
    crm = SourceSystemFactory(name="Salesforce CRM")
    run_import("source_key,given_name,email\nC-1,Eve,eve@example.com\n", src=crm)
    job = run_import(
        "source_system,source_key,external_id,engagement_type,occurred_at,ticket subject\n"
        "salesforce crm,C-1,T-1,case,2026-03-01,Refund\n"
        ",k2,T-2,case,2026-03-01,\n"
        "Legacy ERP,C-1,T-3,case,2026-03-01,\n",
        kind="engagements",
    )
    assert (job.rows_created, job.rows_rejected) == (2, 1)
    eve = Engagement.objects.get(external_id="T-1")
    assert eve.party == SourceRecord.objects.get(source_key="C-1").party
    assert eve.source_system == source  # the touch point comes from the file's system
    assert eve.attributes == {"ticket subject": "Refund"}
    assert _rejections(job)[4] == ("source_system", "no source system is named 'Legacy ERP'")


def test_a_mapping_must_name_the_customer_somehow(media, source):
    stored = import_file_store(
        stream=io.BytesIO(b"id,type,date\n1,order,2026-01-01\n"), original_name="t.csv"
    )
    job = import_job_create(source=source, kind="engagements", stored_name=stored, original_name="t.csv")
    assert job.mapping == {"external_id": ["id"], "engagement_type": ["type"], "occurred_at": ["date"]}
    with pytest.raises(MappingError, match="'source_key', 'email', 'phone'"):
        import_job_start(job=job, enqueue=False)


def test_administrators_get_the_template_and_it_imports_after_the_customer_template(role_client, run_import):
    client = role_client("administrator")
    customers = b"".join(client.get(reverse("parties:import_template", args=["parties"])).streaming_content)
    assert run_import(customers).rows_created == 4
    response = client.get(reverse("parties:import_template", args=["engagements"]))
    assert response.status_code == 200
    job = run_import(b"".join(response.streaming_content), kind="engagements")
    assert (job.status, job.rows_created, job.rows_rejected) == ("succeeded", 5, 0)
    assert Engagement.objects.get(external_id="ORD-1002").attributes == {"store": "Berlin Mitte"}
    assert Engagement.objects.get(external_id="ORD-1001").attributes == {"items": 3, "payment": "card"}
    kinds = [k for k, _ in client.get(reverse("parties:import_new")).context["form"].fields["kind"].choices]
    assert {"engagements", "memberships"} <= set(kinds)


@pytest.mark.parametrize(("role", "status"), [("steward", 403), ("marketing", 200)])
def test_stewards_and_marketing_may_not_import_touch_points(role_client, role, status):
    page = role_client(role).get(reverse("parties:import_new"))
    assert page.status_code == status  # stewards import nothing, marketing only consent lists
    if status == 200:
        assert [k for k, _ in page.context["form"].fields["kind"].choices] == ["consents"]
