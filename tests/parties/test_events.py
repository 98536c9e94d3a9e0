"""The audit trail's writer (parties.services.events): one function per kind of event, one way
of naming the actor and fitting the reason."""

from __future__ import annotations

import pytest

from parties import models as m
from parties.services import events
from parties.services.merge import party_merge
from tests.factories import UserFactory
from tests.parties.customers import customer_copies

pytestmark = pytest.mark.django_db


def test_the_actor_is_the_users_name_or_system_and_a_long_reason_is_cut():
    c = customer_copies()
    user = UserFactory(username="steward1")

    by_user = events.override_set_event(party_id=c.crm.pk, actor=user, reason="x" * 600, before={})
    by_system = events.contact_point_event(party_id=c.crm.pk, actor=None, reason="import", before={})

    assert (by_user.actor, by_user.actor_label, len(by_user.reason)) == (user, "steward1", 500)
    assert (by_system.actor, by_system.actor_label) == (None, "system")
    assert by_system.after[str(c.crm.pk)]["display_name"] == c.crm.display_name  # snapshot taken
    assert list(by_system.parties.values_list("pk", flat=True)) == [c.crm.pk]


def test_a_rules_label_wins_over_the_actor_and_an_erasure_has_a_reason():
    c = customer_copies()

    merge = party_merge(
        party_ids=[c.crm.pk, c.shop.pk], kind=m.EventKind.AUTO_MERGE, actor_label="auto-merge (score ≥ 0.95)"
    )
    erasure = events.erasure_event(
        party_id=c.pos.pk, party_ids=[c.pos.pk], actor=None, reason="", changes={"erased_parties": [c.pos.pk]}
    )

    assert (merge.kind, merge.actor_label) == (m.EventKind.AUTO_MERGE, "auto-merge (score ≥ 0.95)")
    assert (erasure.kind, erasure.reason, erasure.before, erasure.after) == (
        m.EventKind.ERASURE,
        "erasure request",
        {},
        {},
    )


def test_a_merge_is_only_recorded_as_a_kind_of_merge():
    c = customer_copies()

    with pytest.raises(ValueError, match="not a kind of merge"):
        party_merge(party_ids=[c.crm.pk, c.shop.pk], kind=m.EventKind.SPLIT)

    assert not m.PartyEvent.objects.exists()
