"""Every label shows the current state: a cluster that lost a member says how many are left,
everywhere (header, queue row, risk badge)."""

from __future__ import annotations

import pytest
from django.urls import reverse

from matching.models import MatchSuggestion
from matching.services.decisions import suggestion_reject
from tests.matching.queue_helpers import suggestion_for
from tests.matching.split_helpers import household

pytestmark = pytest.mark.django_db


def test_removing_a_member_updates_the_size_and_the_badges(role_client):
    h = household()
    three = h.ids[:3]
    suggestion = suggestion_for(three)
    assert (suggestion.size, "3 parties" in suggestion.risk_reasons) == (3, True)

    suggestion_reject(suggestion_id=suggestion.pk, user=None, party_id=three[-1])

    suggestion = MatchSuggestion.objects.get(pk=suggestion.pk)
    assert suggestion.size == 2 and not any("parties" in r for r in suggestion.risk_reasons)
    steward = role_client("steward")
    queue = steward.get(reverse("matching:suggestions")).content.decode()
    assert "2 parties" in queue and "3 parties" not in queue
    review = steward.get(reverse("matching:review", args=[suggestion.pk])).content.decode()
    assert "3 parties" not in review
