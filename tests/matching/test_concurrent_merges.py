"""Two stewards approve overlapping suggestions at the same moment, on PostgreSQL: exactly one
merge happens and the other steward gets a clean "already handled" refusal."""

from __future__ import annotations

import threading

import pytest
from django.db import connection, connections

from matching.services.review import SuggestionStale, suggestion_merge
from parties import models as m
from parties.services.merge import AlreadyHandled
from tests.factories import UserFactory
from tests.matching.queue_helpers import suggestion_for
from tests.parties.customers import customer_copies

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="row locks are PostgreSQL's; SQLite serializes whole transactions",
    ),
]


@pytest.mark.parametrize("overlap", ["same suggestion", "overlapping suggestions"])
def test_two_concurrent_merges_give_one_merge_and_one_refusal(overlap):
    c = customer_copies()
    first = suggestion_for([c.crm.pk, c.shop.pk])
    second = first if overlap == "same suggestion" else suggestion_for([c.shop.pk, c.pos.pk])
    users = [UserFactory(username="ann"), UserFactory(username="bob")]
    start = threading.Barrier(2)
    outcomes: list[str] = []

    def approve(suggestion_id: int, user) -> None:
        try:
            start.wait()
            suggestion_merge(suggestion_id=suggestion_id, user=user)
            outcomes.append("merged")
        except (AlreadyHandled, SuggestionStale) as exc:
            # the same suggestion, or one whose parties the other merge took: "already merged
            # by …"; one whose surviving party absorbed others meanwhile: re-scored, "… by …"
            outcomes.append(f"refused: {exc}")
        except Exception as exc:  # anything else is a failure the assertion below shows
            outcomes.append(f"error: {exc!r}")
        finally:
            connections.close_all()

    threads = [
        threading.Thread(target=approve, args=(s.pk, u)) for s, u in zip((first, second), users, strict=True)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert sorted(o.split(":")[0] for o in outcomes) == ["merged", "refused"], outcomes
    refusal = next(o for o in outcomes if o.startswith("refused"))
    assert "by ann" in refusal or "by bob" in refusal
    assert m.PartyEvent.objects.filter(kind="merge").count() == 1
    assert m.Party.objects.filter(status="merged").count() == 1
