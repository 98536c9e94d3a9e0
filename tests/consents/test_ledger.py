"""Every change is in the ledger, and the state is the ledger's replay."""

from __future__ import annotations

import datetime as dt
import random

import pytest
from django.core.exceptions import ValidationError

from consents.models import ConsentEvent, LedgerImmutable
from consents.services.ledger import (
    Actor,
    consent_set,
    ledger_check,
    ledger_replay,
    point_consent_set,
    preferences_set,
)
from tests.factories import EmailFactory, PartyFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_a_change_records_who_when_where_and_what_it_was_before():
    party = PartyFactory()
    user = UserFactory(username="mia")
    consent_set(party_id=party.pk, channel="email", purpose="newsletter", status="opt_in",
                capture_source="web form", actor=Actor.of_user(user))
    consent_set(party_id=party.pk, channel="email", purpose="newsletter", status="opt_out",
                capture_source="phone call", actor=Actor.of_user(user), evidence="said on the phone")

    last = ConsentEvent.objects.filter(party=party).first()
    assert (last.previous["status"], last.new["status"]) == ("opt_in", "opt_out")
    assert (last.actor, last.actor_label, last.capture_source, last.evidence) == (
        user, "mia", "phone call", "said on the phone")


def test_setting_the_same_state_again_records_nothing():
    party = PartyFactory()
    when = dt.datetime(2025, 1, 1, tzinfo=dt.UTC)
    for _ in range(2):
        consent_set(party_id=party.pk, channel="sms", purpose="marketing", status="opt_out",
                    captured_at=when, capture_source="import", actor=Actor(kind="import", import_job_id=4,
                                                                           import_line=7))
    event = ConsentEvent.objects.get()
    assert event.actor_label == "import #4 line 7"


@pytest.mark.parametrize("changes, field", [
    ({"channel": "pigeon"}, "channel"),
    ({"purpose": "world_domination"}, "purpose"),
    ({"status": "maybe"}, "status"),
    ({"capture_source": " "}, "capture_source"),
    ({"captured_at": dt.datetime(2999, 1, 1, tzinfo=dt.UTC)}, "captured_at"),
])
def test_bad_changes_are_refused_naming_the_field(changes, field):
    party = PartyFactory()
    arguments = {"party_id": party.pk, "channel": "email", "purpose": "newsletter", "status": "opt_in",
                 "capture_source": "web form", "actor": Actor()} | changes
    with pytest.raises(ValidationError) as refused:
        consent_set(**arguments)
    assert field in refused.value.message_dict
    assert not ConsentEvent.objects.exists()


def test_the_ledger_cannot_be_changed():
    party = PartyFactory()
    consent_set(party_id=party.pk, channel="email", purpose="newsletter", status="opt_in",
                capture_source="web form", actor=Actor())
    event = ConsentEvent.objects.get()
    event.evidence = "rewritten"
    with pytest.raises(LedgerImmutable):
        event.save()
    with pytest.raises(LedgerImmutable):
        event.delete()


@pytest.mark.parametrize("seed", range(5))
def test_the_state_equals_the_replay_after_a_random_sequence_of_changes(seed):
    """A property test without a property-testing library: many random change sequences."""
    rng = random.Random(seed)
    parties = [PartyFactory() for _ in range(3)]
    emails = {p.pk: EmailFactory(party=p) for p in parties}
    start = dt.datetime(2020, 1, 1, tzinfo=dt.UTC)
    for step in range(60):
        party = rng.choice(parties)
        when = start + dt.timedelta(days=rng.randint(0, 1500))
        action = rng.random()
        if action < 0.5:
            consent_set(party_id=party.pk, channel=rng.choice(["email", "sms", "phone"]),
                        purpose=rng.choice(["newsletter", "marketing", "profiling"]),
                        status=rng.choice(["opt_in", "opt_out", "seen", "not_seen"]), captured_at=when,
                        capture_source=f"source {step}", actor=Actor())
        elif action < 0.8:
            email = emails[party.pk]
            point_consent_set(party_id=party.pk, point_kind="email", point_id=email.pk,
                              purpose=rng.choice(["newsletter", "marketing"]),
                              status=rng.choice(["opt_in", "opt_out"]), captured_at=when,
                              capture_source="preference centre", actor=Actor())
        else:
            preferences_set(party_id=party.pk, actor=Actor(), changes={
                rng.choice(["do_not_solicit", "do_not_profile", "do_not_track"]): rng.random() < 0.5,
                "contact_frequency": rng.choice(["", "weekly", "monthly", "never"])})
        if step % 15 == 14 and len(parties) > 1:
            from parties.services.merge import party_merge

            survivor, other = rng.sample(parties, 2)
            party_merge(party_ids=[survivor.pk, other.pk], survivor_id=survivor.pk)
            parties.remove(other)
            del emails[other.pk]

    assert ledger_check() == []
    assert ledger_replay()  # and there is something to replay
