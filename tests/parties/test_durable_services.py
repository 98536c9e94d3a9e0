"""Which services are durable (they commit on their own, never inside a caller's transaction):
unmerge and split of parties, matching's split of a suggestion and a bulk merge job's step. A
merge of parties is not: matching runs it inside its own transactions."""

from __future__ import annotations

import pytest
from django.db import transaction

from matching.services.bulk import bulk_merge_job_create, bulk_merge_job_run
from matching.services.split import suggestion_split
from parties import models as m
from parties.services.merge import party_merge, party_split, party_unmerge
from tests.factories import UserFactory
from tests.matching.queue_helpers import suggestion_for
from tests.matching.split_helpers import household
from tests.parties.customers import customer_copies

pytestmark = pytest.mark.django_db


def test_unmerge_and_split_of_parties_never_run_inside_a_callers_transaction():
    # The test's own transaction does not count (Django's TestCase marks it); a caller's does.
    c = customer_copies()
    merge = party_merge(party_ids=[c.crm.pk, c.shop.pk], survivor_id=c.crm.pk)
    record = m.SourceRecord.objects.filter(party=c.crm).order_by("pk").last()

    with pytest.raises(RuntimeError, match="durable"), transaction.atomic():
        party_unmerge(event_id=merge.pk)
    with pytest.raises(RuntimeError, match="durable"), transaction.atomic():
        party_split(party_id=c.crm.pk, record_ids=[record.pk])

    # A merge runs inside matching's transactions (a suggestion's merge, a split's groups).
    with transaction.atomic():
        party_merge(party_ids=[c.crm.pk, c.pos.pk], survivor_id=c.crm.pk)
    party_unmerge(event_id=merge.pk)  # outside any: done
    assert m.PartyEvent.objects.filter(kind=m.EventKind.UNMERGE, reverts=merge).exists()


def test_a_suggestions_split_and_a_bulk_merge_step_never_run_inside_a_callers_transaction():
    h = household()
    steward = UserFactory(username="ann")
    suggestion = suggestion_for(h.ids, score=0.81)
    groups = [[p.pk for p in h.rosi], [p.pk for p in h.mechthilde]]
    job = bulk_merge_job_create(suggestion_ids=[suggestion.pk], user=steward)

    with pytest.raises(RuntimeError, match="durable"), transaction.atomic():
        suggestion_split(suggestion_id=suggestion.pk, groups=groups, user=steward)
    with pytest.raises(RuntimeError, match="durable"), transaction.atomic():
        bulk_merge_job_run(job_id=job.pk)

    suggestion_split(suggestion_id=suggestion.pk, groups=groups, user=steward)
    assert m.PartyEvent.objects.filter(kind=m.EventKind.MERGE).count() == 2  # one per group
