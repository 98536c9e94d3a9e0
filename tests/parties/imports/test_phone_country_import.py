"""A real import reads each row's phone numbers in the customer's country: the number's own
prefix, then the row's address country, then the source's phone region (the ``source``
fixture's is DE). The stored E.164 then agrees across spellings, and touch-point files find
the customer by any of them."""

from __future__ import annotations

import pytest

from parties.models import ContactPointPhone, DataQualityIssue, Engagement, SourceRecord

pytestmark = pytest.mark.django_db

CUSTOMERS = (
    "source_key,given_name,family_name,phone,phone_2,city,country\n"
    "gb1,Amy,Hart,0161 3533342,,Manchester,GB\n"
    "gb2,Amy,Hart,+44 161 353 3342,,Manchester,United Kingdom\n"
    "gb3,Amy,Hart,0044 161 3533342,01613533342,Manchester,UK\n"
    "us1,Bo,Reed,(818) 728-5898,,Burbank,USA\n"
    "de1,Cem,Kaya,030 1234567,,,\n"
    "xx1,Dan,Pole,0161 3533342,,,\n"
    "gb4,Eve,Lark,+49 30 7654321,,London,GB\n"
    "gb5,Fay,Moor,12345,,Leeds,GB\n"
)


def _phones(key: str) -> list[tuple[str, str, str]]:
    party = SourceRecord.objects.get(source_key=key).party
    return [
        (p.raw_value, p.normalized, p.validity)
        for p in ContactPointPhone.objects.filter(party=party).order_by("pk")
    ]


def test_an_import_reads_each_phone_in_the_customers_own_country(run_import):
    job = run_import(CUSTOMERS)

    assert (job.status, job.rows_created) == ("succeeded", 8)
    # every spelling of the Manchester number agrees, read in the GB address country
    for key in ("gb1", "gb2", "gb3"):
        assert {normalized for _, normalized, _ in _phones(key)} == {"+441613533342"}, key
        assert {validity for _, _, validity in _phones(key)} == {"valid"}, key
    assert _phones("us1") == [("(818) 728-5898", "+18187285898", "valid")]
    # no address country: the source's phone region (DE), as before
    assert _phones("de1") == [("030 1234567", "+49301234567", "valid")]
    assert _phones("xx1") == [("0161 3533342", "01613533342", "invalid")]
    # the number's own prefix beats the address country
    assert [(n, ContactPointPhone.objects.get(normalized=n).country) for _, n, _ in _phones("gb4")] == [
        ("+49307654321", "DE")
    ]
    assert _phones("gb5") == [("12345", "12345", "invalid")]
    # the standardized record (what matching reads) carries the same E.164
    assert SourceRecord.objects.get(source_key="gb3").standardized["phones"] == [
        "+441613533342",
        "+441613533342",
    ]

    issues = {
        (i.source_record.source_key, i.field, i.value, i.reason)
        for i in DataQualityIssue.objects.select_related("source_record")
    }
    assert issues == {
        (
            "xx1",
            "phone",
            "0161 3533342",
            "not a valid phone number for its country: read as DE, the "
            "default region; write it with +country if it is from elsewhere",
        ),
        (
            "gb5",
            "phone",
            "12345",
            "not a valid phone number for its country: read as GB, the customer's "
            "address country; write it with +country if it is from elsewhere",
        ),
    }


def test_a_touch_point_file_finds_the_gb_customer_by_the_national_spelling(run_import):
    # Given one customer with a GB address, imported from the DE source
    run_import("source_key,given_name,family_name,phone,country\ngb1,Amy,Hart,0161 3533342,GB\n")
    amy = SourceRecord.objects.get(source_key="gb1").party

    # When an engagements file of the same DE source names her by her number, spelled two ways
    job = run_import(
        "phone,external_id,engagement_type,occurred_at\n"
        "0161 3533342,ORD-1,order,2026-03-01T10:15:00Z\n"
        "+44 161 353 3342,ORD-2,order,2026-03-02T10:15:00Z\n",
        name="touchpoints.csv",
        kind="engagements",
    )

    # Then both rows land on her
    assert (job.status, job.rows_created, job.rows_rejected) == ("succeeded", 2, 0)
    assert set(Engagement.objects.values_list("party_id", flat=True)) == {amy.pk}
