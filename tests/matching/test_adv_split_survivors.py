"""Adversarial pass: a split's survivors (API ``survivor_ids``) that cannot be honoured were
silently ignored — a party of no group, a party alone in its group, two survivors for one
group — and the split went ahead with survivors the caller did not ask for. Now refused with
a message naming the party; nothing changes."""

from __future__ import annotations

import pytest

from matching.models import PairDecision, SuggestionStatus
from matching.services.split import SplitRefused, suggestion_split
from parties import models as m
from tests.factories import UserFactory
from tests.matching.queue_helpers import suggestion_for
from tests.matching.split_helpers import household

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("survivors", "message"),
    [
        (lambda a, b, c, d: [999999], "survivor 999999 is not in suggestion"),
        (lambda a, b, c, d: [a, b], "survivors .* both in group A"),
    ],
)
def test_survivors_a_split_cannot_honour_are_refused_and_nothing_changes(survivors, message):
    h = household()
    a, b, c, d = h.ids
    suggestion = suggestion_for(h.ids)

    with pytest.raises(SplitRefused, match=message):
        suggestion_split(
            suggestion_id=suggestion.pk,
            groups=[[a, b], [c, d]],
            survivor_ids=survivors(a, b, c, d),
            user=UserFactory(),
        )

    suggestion.refresh_from_db()
    assert suggestion.status == SuggestionStatus.PENDING
    assert not PairDecision.objects.exists() and not m.PartyEvent.objects.exists()
    assert m.Party.objects.filter(status="active").count() == 4


def test_a_chosen_survivor_in_each_group_is_kept():
    h = household()
    a, b, c, d = h.ids
    suggestion = suggestion_for(h.ids)
    result = suggestion_split(
        suggestion_id=suggestion.pk, groups=[[a, b], [c, d]], survivor_ids=[b, d], user=UserFactory()
    )
    assert result.survivors == [b, d]


def test_the_api_answers_400_naming_the_survivor(client):
    from django.contrib.auth.models import Group

    h = household()
    a, b, c, d = h.ids
    suggestion = suggestion_for(h.ids)
    user = UserFactory()
    user.groups.add(Group.objects.get(name="Data steward"))
    client.force_login(user)
    response = client.post(
        f"/api/v1/suggestions/{suggestion.pk}/split/",
        {"groups": [[a, b], [c, d]], "survivor_ids": [999999]},
        content_type="application/json",
    )
    assert response.status_code == 400 and "survivor 999999" in response.json()["detail"]
    assert m.Party.objects.filter(status="active").count() == 4


def test_the_review_form_refuses_a_party_sent_in_two_groups(client):
    from django.urls import reverse

    from matching.models import MatchSuggestion

    h = household()
    a, b, c, d = h.ids
    client.force_login(UserFactory(username="ann", role="Data steward"))
    suggestion = suggestion_for(h.ids)
    url = reverse("matching:review_split", args=[suggestion.pk])
    # party a sent as A and as B: the last used to win silently (a, b, c merged as group B)
    page = client.post(
        url, {f"group_{a}": ["A", "B"], f"group_{b}": "B", f"group_{c}": "B", f"group_{d}": "A"}, follow=True
    ).content.decode()
    assert f"group_{a}: sent 2 times" in page
    assert MatchSuggestion.objects.get(pk=suggestion.pk).status == SuggestionStatus.PENDING
    assert m.Party.objects.filter(pk__in=h.ids, status="active").count() == 4
