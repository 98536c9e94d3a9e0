"""Issue 16, item 12: an unmerge racing a consent change on the survivor, on PostgreSQL. Both
succeed one after the other (consent changes lock the parties first, in the merge's order),
never a deadlock, and the withdrawal holds."""

from __future__ import annotations

import threading

import pytest
from django.db import connection, connections

from consents.models import ContactPointTypeConsent
from consents.services.ledger import Actor, consent_set, ledger_check
from parties.services.merge import party_merge, party_unmerge
from tests.factories import PartyFactory

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="row locks are PostgreSQL's; SQLite serializes whole transactions",
    ),
]
FORM = Actor(kind="user", label="test")


def _status(party_id: int) -> str:
    return ContactPointTypeConsent.objects.get(
        party_id=party_id, channel="email", purpose__code="newsletter"
    ).status


def test_an_unmerge_racing_an_opt_out_on_the_survivor_never_deadlocks(role_groups):
    outcomes: list[str] = []
    for _ in range(10):
        survivor, other = PartyFactory(), PartyFactory()
        for party in (survivor, other):
            consent_set(
                party_id=party.pk,
                channel="email",
                purpose="newsletter",
                status="opt_in",
                capture_source="web form",
                actor=FORM,
            )
        merge = party_merge(party_ids=[survivor.pk, other.pk], survivor_id=survivor.pk)
        start = threading.Barrier(2)

        def run(name, action, start=start):
            try:
                start.wait()
                action()
                outcomes.append(f"{name}: ok")
            except Exception as exc:  # a deadlock or anything else shows in the assertion below
                outcomes.append(f"{name}: {exc!r}")
            finally:
                connections.close_all()

        threads = [
            threading.Thread(target=run, args=("unmerge", lambda m=merge: party_unmerge(event_id=m.pk))),
            threading.Thread(
                target=run,
                args=(
                    "opt-out",
                    lambda s=survivor: consent_set(
                        party_id=s.pk,
                        channel="email",
                        purpose="newsletter",
                        status="opt_out",
                        capture_source="unsubscribe link",
                        actor=FORM,
                    ),
                ),
            ),
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        assert _status(survivor.pk) == "opt_out"

    assert [o for o in outcomes if not o.endswith(": ok")] == []
    assert len(outcomes) == 20
    assert ledger_check() == []
