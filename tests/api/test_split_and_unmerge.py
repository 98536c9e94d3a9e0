"""The API's split of a suggestion and its unmerge choice, on the services the pages use."""

from __future__ import annotations

import pytest

from matching.models import MatchSuggestion, PairDecision, SuggestionStatus
from parties import models as m
from parties.services.merge import party_merge
from tests.matching.queue_helpers import suggestion_for
from tests.matching.split_helpers import household
from tests.parties.customers import customer_copies

pytestmark = pytest.mark.django_db


def test_split_merges_each_group_and_refuses_what_is_not_a_split(api):
    h = household()
    suggestion = suggestion_for(h.ids)
    url = f"/api/v1/suggestions/{suggestion.pk}/split/"
    a, b, c, d = h.ids
    client = api("steward")

    unknown = client.post(url, {"groups": [[a, b], [c, d, 424242]]}, format="json")
    assert unknown.status_code == 400
    assert "party 424242 is not in suggestion" in unknown.json()["errors"]["groups"][0]
    one = client.post(url, {"groups": [[a, b, c, d]]}, format="json")
    assert one.status_code == 400 and "groups" in one.json()["errors"]
    assert api("marketing").post(url, {"groups": [[a, b], [c, d]]}, format="json").status_code == 403
    assert not m.PartyEvent.objects.exists()

    done = client.post(url, {"groups": [[a, b], [c, d]], "survivor_ids": [b]}, format="json")

    assert done.status_code == 200 and done.json()["status"] == "split"
    assert m.Party.objects.get(pk=a).merged_into_id == b
    assert set(
        PairDecision.objects.filter(decision="rejected", is_active=True).values_list(
            "party_a_id", "party_b_id"
        )
    ) == {(a, c), (a, d), (b, c), (b, d)}
    again = client.post(url, {"groups": [[a, b], [c, d]]}, format="json")
    assert again.status_code == 409 and "already handled (split into groups)" in again.json()["detail"]


def test_unmerge_requires_the_choice(api):
    c = customer_copies()
    suggestion = suggestion_for([c.crm.pk, c.shop.pk])
    merge = party_merge(party_ids=[c.crm.pk, c.shop.pk], survivor_id=c.crm.pk, suggestion_id=suggestion.pk)
    MatchSuggestion.objects.filter(pk=suggestion.pk).update(status=SuggestionStatus.MERGED)
    url = f"/api/v1/merges/{merge.pk}/unmerge/"
    client = api("steward")

    missing = client.post(url, {}, format="json")
    assert missing.status_code == 400 and "different_customers" in missing.json()["errors"]
    assert m.Party.objects.get(pk=c.shop.pk).status == "merged"

    done = client.post(url, {"different_customers": False}, format="json")

    assert done.status_code == 200
    assert m.Party.objects.get(pk=c.shop.pk).status == "active"
    assert not PairDecision.objects.filter(decision="rejected").exists()
    assert MatchSuggestion.objects.get(pk=suggestion.pk).status == SuggestionStatus.UNMERGED
