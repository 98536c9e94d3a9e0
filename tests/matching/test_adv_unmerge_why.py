"""Adversarial pass: the history page's unmerge with both answers sent ("why" twice: these are
different customers, and undo for now) went ahead as whichever came last. Both at once is no
answer: refused, the merge stands."""

from __future__ import annotations

import pytest
from django.urls import reverse

from parties import models as m
from tests.matching.test_unmerge_choice import _merged

pytestmark = pytest.mark.django_db


def test_two_answers_to_why_are_refused_and_the_merge_stands(role_client):
    c, _, event, _ = _merged()
    steward = role_client("steward")
    url = reverse("parties:unmerge", args=[c.crm.pk, event.pk])
    page = steward.post(url, {"why": ["different", "undo"]}, follow=True).content.decode()
    assert "not undone" in page
    assert m.Party.objects.get(pk=c.shop.pk).status == "merged"
    assert not m.PartyEvent.objects.filter(reverts=event).exists()
