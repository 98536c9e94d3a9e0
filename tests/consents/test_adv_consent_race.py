"""Adversarial pass: the consent grid's batch (consent_set_many) and a customer's opt-out
(an unsubscribe link: consent_set) at the same moment, neither naming a capture time ("now").
Each took "now" before waiting for the party's lock, so whichever committed second could be
older than the first and was refused ("an older decision never replaces a newer one"): the
customer's withdrawal was lost with an error. "Now" is now the moment the change holds the
lock, so both are recorded, in the order they happened."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.db import connection

from consents.models import ConsentEvent, ContactPointTypeConsent, DataUsePurpose
from consents.services.ledger import Actor, ConsentChange, consent_set, consent_set_many
from tests.factories import PartyFactory
from tests.matching.test_concurrent_decisions import _race

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        connection.vendor != "postgresql", reason="SQLite runs write transactions one at a time"
    ),
]


def test_a_batch_and_an_opt_out_at_once_are_both_recorded():
    # an earlier transactional test may have flushed the purposes the data migration made
    DataUsePurpose.objects.get_or_create(code="newsletter", defaults={"name": "Newsletter"})
    for trial in range(10):
        party = PartyFactory()

        def batch(pid=party.pk) -> str:
            try:
                consent_set_many(
                    party_id=pid,
                    capture_source="phone call",
                    actor=Actor(label="mia"),
                    changes=[
                        ConsentChange("email", "newsletter", "opt_in"),
                        ConsentChange("sms", "newsletter", "opt_in"),
                    ],
                )
            except ValidationError as exc:
                return f"refused: {exc}"
            return "batch"

        def opt_out(pid=party.pk) -> str:
            try:
                consent_set(
                    party_id=pid,
                    channel="email",
                    purpose="newsletter",
                    status="opt_out",
                    capture_source="unsubscribe link",
                    actor=Actor(label="link"),
                )
            except ValidationError as exc:
                return f"refused: {exc}"
            return "opt-out"

        outcomes = _race(*([batch, opt_out] if trial % 2 else [opt_out, batch]))
        assert sorted(outcomes) == ["batch", "opt-out"], (trial, outcomes)
        # the email cell holds the decision recorded last, and the ledger has both in that order
        last = ConsentEvent.objects.filter(party_id=party.pk, key__startswith="email").order_by("pk").last()
        row = ContactPointTypeConsent.objects.get(party_id=party.pk, channel="email")
        assert row.status == last.new["status"]


def test_two_changes_of_one_addresss_consent_at_once_are_both_recorded():
    """The same for one email address's own consent (point_consent_set): an opt-in from a form
    and an opt-out from an unsubscribe link at once; the second to commit was refused."""
    from consents.models import ContactPointConsent
    from consents.services.ledger import point_consent_set
    from parties.models import ContactPointEmail

    DataUsePurpose.objects.get_or_create(code="newsletter", defaults={"name": "Newsletter"})
    for trial in range(10):
        party = PartyFactory()
        email = ContactPointEmail.objects.create(party=party, raw_value="a", normalized=f"a{trial}@x.org")

        def change(status, source, pid=party.pk, point=email.pk):
            def run() -> str:
                try:
                    point_consent_set(
                        party_id=pid,
                        point_kind="email",
                        point_id=point,
                        purpose="newsletter",
                        status=status,
                        capture_source=source,
                        actor=Actor(label=source),
                    )
                except ValidationError as exc:
                    return f"refused: {exc}"
                return status

            return run

        outcomes = _race(change("opt_in", "form"), change("opt_out", "unsubscribe link"))
        assert sorted(outcomes) == ["opt_in", "opt_out"], (trial, outcomes)
        last = ConsentEvent.objects.filter(party_id=party.pk).order_by("pk").last()
        row = ContactPointConsent.objects.get(point_kind="email", point_id=email.pk)
        assert row.status == last.new["status"]
