"""Every change is in the ledger, and the state is the ledger's replay."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

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
    consent_set(
        party_id=party.pk,
        channel="email",
        purpose="newsletter",
        status="opt_in",
        capture_source="web form",
        actor=Actor.of_user(user),
    )
    consent_set(
        party_id=party.pk,
        channel="email",
        purpose="newsletter",
        status="opt_out",
        capture_source="phone call",
        actor=Actor.of_user(user),
        evidence="said on the phone",
    )

    last = ConsentEvent.objects.filter(party=party).first()
    assert (last.previous["status"], last.new["status"]) == ("opt_in", "opt_out")
    assert (last.actor, last.actor_label, last.capture_source, last.evidence) == (
        user,
        "mia",
        "phone call",
        "said on the phone",
    )


def test_setting_the_same_state_again_records_nothing():
    party = PartyFactory()
    when = dt.datetime(2025, 1, 1, tzinfo=dt.UTC)
    for _ in range(2):
        consent_set(
            party_id=party.pk,
            channel="sms",
            purpose="marketing",
            status="opt_out",
            captured_at=when,
            capture_source="import",
            actor=Actor(kind="import", import_job_id=4, import_line=7),
        )
    event = ConsentEvent.objects.get()
    assert event.actor_label == "import #4 line 7"


@pytest.mark.parametrize(
    "changes, field",
    [
        ({"channel": "pigeon"}, "channel"),
        ({"purpose": "world_domination"}, "purpose"),
        ({"status": "maybe"}, "status"),
        ({"capture_source": " "}, "capture_source"),
        ({"captured_at": dt.datetime(2999, 1, 1, tzinfo=dt.UTC)}, "captured_at"),
    ],
)
def test_bad_changes_are_refused_naming_the_field(changes, field):
    party = PartyFactory()
    arguments = {
        "party_id": party.pk,
        "channel": "email",
        "purpose": "newsletter",
        "status": "opt_in",
        "capture_source": "web form",
        "actor": Actor(),
    } | changes
    with pytest.raises(ValidationError) as refused:
        consent_set(**arguments)
    assert field in refused.value.message_dict
    assert not ConsentEvent.objects.exists()


def test_the_ledger_cannot_be_changed():
    party = PartyFactory()
    consent_set(
        party_id=party.pk,
        channel="email",
        purpose="newsletter",
        status="opt_in",
        capture_source="web form",
        actor=Actor(),
    )
    event = ConsentEvent.objects.get()
    event.evidence = "rewritten"
    with pytest.raises(LedgerImmutable):
        event.save()
    with pytest.raises(LedgerImmutable):
        event.delete()


OPERATION = st.one_of(
    st.tuples(
        st.just("consent"),
        st.integers(0, 2),
        st.sampled_from(["email", "sms", "phone"]),
        st.sampled_from(["newsletter", "marketing", "profiling"]),
        st.sampled_from(["opt_in", "opt_out", "seen", "not_seen"]),
        st.integers(0, 1500),
    ),
    st.tuples(
        st.just("point"),
        st.integers(0, 2),
        st.sampled_from(["newsletter", "marketing"]),
        st.sampled_from(["opt_in", "opt_out"]),
        st.integers(0, 1500),
    ),
    st.tuples(
        st.just("preferences"),
        st.integers(0, 2),
        st.sampled_from(["do_not_solicit", "do_not_profile", "do_not_track"]),
        st.booleans(),
        st.sampled_from(["", "weekly", "monthly", "never"]),
    ),
    st.tuples(st.just("merge"), st.integers(0, 2), st.integers(0, 2)),
)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(operations=st.lists(OPERATION, min_size=1, max_size=25))
def test_the_state_equals_the_replay_after_any_sequence_of_changes(operations):
    """Property: whatever consent, contact-point consent, preference changes and merges
    happen, in any order, the current state is the replay of the ledger."""
    from parties.services.merge import party_merge

    parties = [PartyFactory() for _ in range(3)]
    emails = {p.pk: EmailFactory(party=p) for p in parties}
    start = dt.datetime(2020, 1, 1, tzinfo=dt.UTC)
    for operation in operations:
        kind, index = operation[0], operation[1] % len(parties)
        party = parties[index]
        entries = ConsentEvent.objects.count()
        if kind == "consent":
            _, _, channel, purpose, status, day = operation
            try:
                consent_set(
                    party_id=party.pk,
                    channel=channel,
                    purpose=purpose,
                    status=status,
                    captured_at=start + dt.timedelta(days=day),
                    capture_source="test",
                    actor=Actor(),
                )
            except ValidationError:  # older than the decision in force: refused, nothing written
                assert ConsentEvent.objects.count() == entries
        elif kind == "point":
            _, _, purpose, status, day = operation
            try:
                point_consent_set(
                    party_id=party.pk,
                    point_kind="email",
                    point_id=emails[party.pk].pk,
                    purpose=purpose,
                    status=status,
                    captured_at=start + dt.timedelta(days=day),
                    capture_source="preference centre",
                    actor=Actor(),
                )
            except ValidationError:
                assert ConsentEvent.objects.count() == entries
        elif kind == "preferences":
            _, _, flag, value, frequency = operation
            preferences_set(
                party_id=party.pk, actor=Actor(), changes={flag: value, "contact_frequency": frequency}
            )
        elif len(parties) > 1:
            other = parties[operation[2] % len(parties)]
            if other.pk != party.pk:
                party_merge(party_ids=[party.pk, other.pk], survivor_id=party.pk)
                parties.remove(other)
        assert ledger_check() == []
    assert ledger_replay()
