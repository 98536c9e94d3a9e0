from __future__ import annotations

import pytest

from parties import models as m
from parties.services.merge import AlreadyHandled, MergeRefused, party_merge, party_split, party_unmerge
from tests.factories import UserFactory
from tests.parties.customers import customer_copies, table_dump

pytestmark = pytest.mark.django_db


def test_it_moves_every_row_to_the_survivor_and_keeps_the_absorbed_ids():
    c = customer_copies()
    user = UserFactory(username="steward1")

    event = party_merge(party_ids=[c.crm.pk, c.shop.pk, c.pos.pk], survivor_id=c.crm.pk, actor=user)

    assert event.kind == m.EventKind.MERGE and event.actor_label == "steward1"
    for absorbed in (c.shop, c.pos):
        absorbed.refresh_from_db()
        assert absorbed.status == m.PartyStatus.MERGED and absorbed.merged_into_id == c.crm.pk
    assert set(m.SourceRecord.objects.values_list("party_id", flat=True)) == {c.crm.pk}
    emails = m.ContactPointEmail.objects.filter(party=c.crm)
    assert sorted(emails.values_list("normalized", flat=True)) == [
        "a.schmidt@shop.example",
        "anna@example.com",
        "pos@example.com",
    ]
    shared = emails.get(normalized="anna@example.com")
    assert {r.source_key for r in shared.reporting_records()} == {"C-1", "S-1"}  # provenance kept
    assert emails.filter(is_primary=True).count() == 1
    assert m.ContactPointPhone.objects.get().party_id == c.crm.pk
    # The same customer number from two records is one identifier; the copy stays put.
    assert m.PartyIdentification.objects.filter(party=c.crm).count() == 1
    assert m.Engagement.objects.filter(party=c.crm).count() == 2
    assert m.Membership.objects.get().party_id == c.crm.pk
    # Both worked at ACME: one relationship; the household link between the two is kept as is.
    assert m.PartyRelationship.objects.filter(from_party=c.crm, to_party=c.employer).count() == 1
    assert m.GoldenOverride.objects.get().party_id == c.crm.pk
    c.crm.refresh_from_db()
    assert c.crm.middle_name == "Maria"  # the absorbed party's override came along
    assert c.crm.birth_date.isoformat() == "1980-05-17"  # only the shop knew it
    assert set(event.parties.values_list("pk", flat=True)) == {c.crm.pk, c.shop.pk, c.pos.pk}
    assert event.before[str(c.shop.pk)]["status"] == "active"
    assert event.after[str(c.crm.pk)]["source_records"] == ["CRM:C-1", "Shop:S-1", "POS:P-1"]


def test_merge_then_unmerge_leaves_every_table_exactly_as_before():
    c = customer_copies()
    before = table_dump()
    user = UserFactory(username="steward1")
    merge = party_merge(
        party_ids=[c.crm.pk, c.shop.pk, c.pos.pk],
        survivor_id=c.shop.pk,
        actor=user,
        chosen_values={"given_name": "Anna"},
    )
    assert table_dump() != before

    unmerge = party_unmerge(event_id=merge.pk, actor=user)

    assert table_dump() == before
    assert unmerge.kind == m.EventKind.UNMERGE and unmerge.reverts_id == merge.pk
    assert unmerge.changes["exact"] is True


def test_an_unmerge_after_a_later_merge_recomputes_the_survivor():
    c = customer_copies()
    first = party_merge(party_ids=[c.crm.pk, c.shop.pk], survivor_id=c.crm.pk)
    party_merge(party_ids=[c.crm.pk, c.pos.pk], survivor_id=c.crm.pk)

    party_unmerge(event_id=first.pk)

    c.shop.refresh_from_db()
    c.crm.refresh_from_db()
    assert c.shop.status == m.PartyStatus.ACTIVE
    assert set(c.shop.source_records.values_list("source_key", flat=True)) == {"S-1"}
    assert set(c.crm.source_records.values_list("source_key", flat=True)) == {"C-1", "P-1"}
    assert c.crm.birth_date is None  # the shop's birth date left with the shop


def test_a_merge_is_undone_only_once():
    c = customer_copies()
    merge = party_merge(party_ids=[c.crm.pk, c.shop.pk])
    party_unmerge(event_id=merge.pk)
    with pytest.raises(AlreadyHandled, match="already undone"):
        party_unmerge(event_id=merge.pk)


def test_merging_a_merged_party_is_refused_naming_who_merged_it():
    c = customer_copies()
    party_merge(party_ids=[c.crm.pk, c.shop.pk], survivor_id=c.crm.pk, actor=UserFactory(username="ann"))
    with pytest.raises(
        AlreadyHandled, match=f"party {c.shop.pk} was already merged into party {c.crm.pk} by ann"
    ):
        party_merge(party_ids=[c.shop.pk, c.pos.pk])
    assert m.PartyEvent.objects.count() == 1


@pytest.mark.parametrize(
    "ids, message",
    [
        ([1], "at least two"),
        ([999998, 999999], "there is no party 999998"),
    ],
)
def test_bad_merges_are_refused_with_a_reason(ids, message):
    with pytest.raises(MergeRefused, match=message):
        party_merge(party_ids=ids)


def test_split_moves_a_record_and_what_it_brought_into_a_new_party():
    c = customer_copies()
    party_merge(party_ids=[c.crm.pk, c.shop.pk], survivor_id=c.crm.pk)
    shop_record = m.SourceRecord.objects.get(source_key="S-1")

    event = party_split(party_id=c.crm.pk, record_ids=[shop_record.pk])

    assert event.kind == m.EventKind.SPLIT
    new = m.Party.objects.get(pk=event.changes["new_party"])
    assert set(event.parties.values_list("pk", flat=True)) == {c.crm.pk, new.pk}
    assert list(new.source_records.values_list("source_key", flat=True)) == ["S-1"]
    assert new.given_name == "Anne" and new.birth_date.isoformat() == "1980-05-17"
    # anna@example.com was reported by both records: each party has it now.
    assert new.emails.filter(normalized="anna@example.com").exists()
    assert c.crm.emails.filter(normalized="anna@example.com").exists()
    assert new.emails.filter(normalized="a.schmidt@shop.example").exists()
    assert not c.crm.emails.filter(normalized="a.schmidt@shop.example").exists()
    assert new.phones.count() == 1 and new.engagements.count() == 1
    c.crm.refresh_from_db()
    assert c.crm.birth_date is None


def test_split_refuses_to_take_every_record():
    c = customer_copies()
    record = c.crm.source_records.get()
    with pytest.raises(MergeRefused, match="at least one source record"):
        party_split(party_id=c.crm.pk, record_ids=[record.pk])


def test_the_audit_trail_cannot_be_changed_or_deleted():
    c = customer_copies()
    event = party_merge(party_ids=[c.crm.pk, c.shop.pk])
    event.reason = "tampered"
    with pytest.raises(m.AuditTrailImmutable):
        event.save()
    with pytest.raises(m.AuditTrailImmutable):
        event.delete()
    assert m.PartyEvent.objects.get().reason == ""
