"""How consents combine when parties merge, and come apart again when they are unmerged."""

from __future__ import annotations

import datetime as dt

import pytest
from django.apps import apps

from consents.models import ConsentEvent, ContactPointTypeConsent, PrivacyPreference
from consents.services.ledger import Actor, consent_set, ledger_check, preferences_set
from consents.services.merge_policy import conflicts
from parties.services.merge import party_merge, party_unmerge
from tests.factories import PartyFactory, UserFactory

pytestmark = pytest.mark.django_db
OLD = dt.datetime(2024, 1, 1, tzinfo=dt.UTC)
NEW = dt.datetime(2025, 6, 1, tzinfo=dt.UTC)
SAME = dt.datetime(2025, 1, 1, tzinfo=dt.UTC)
FORM = Actor(kind="user", label="test")


def _say(party, status, when, source="web form"):
    if status is not None:
        consent_set(
            party_id=party.pk,
            channel="email",
            purpose="newsletter",
            status=status,
            captured_at=when,
            capture_source=source,
            actor=FORM,
        )


@pytest.mark.parametrize(
    "survivor_says, other_says, merged",
    [
        (("opt_in", OLD), ("opt_out", NEW), "opt_out"),  # the newer opt-out wins
        (("opt_out", OLD), ("opt_in", NEW), "opt_in"),  # a newer explicit opt-in wins
        (("opt_in", NEW), ("opt_out", OLD), "opt_in"),  # an older opt-out does not override
        (("opt_in", SAME), ("opt_out", SAME), "opt_out"),  # a tie goes to opt-out
        (("opt_out", SAME), ("opt_in", SAME), "opt_out"),
        (("not_seen", NEW), ("opt_in", OLD), "opt_in"),  # "not seen" is no decision
        (("seen", NEW), ("opt_out", OLD), "opt_out"),
        (("seen", OLD), ("not_seen", NEW), "seen"),
        ((None, None), ("opt_in", OLD), "opt_in"),  # one side has no row at all
        (("opt_out", OLD), (None, None), "opt_out"),
    ],
)
def test_the_merged_party_keeps_the_right_decision(survivor_says, other_says, merged):
    survivor, other = PartyFactory(), PartyFactory()
    _say(survivor, *survivor_says)
    _say(other, *other_says, source="email platform")

    party_merge(party_ids=[survivor.pk, other.pk], survivor_id=survivor.pk)

    row = ContactPointTypeConsent.objects.get(party=survivor, channel="email", purpose__code="newsletter")
    assert row.status == merged
    assert ledger_check() == []


def test_preferences_combine_toward_the_more_restrictive():
    survivor, other = PartyFactory(), PartyFactory()
    preferences_set(
        party_id=survivor.pk,
        actor=FORM,
        changes={
            "do_not_profile": True,
            "contact_frequency": "weekly",
            "preferred_language": "de-AT",
            "interests": ["running"],
        },
    )
    preferences_set(
        party_id=other.pk,
        actor=FORM,
        changes={
            "do_not_solicit": True,
            "contact_frequency": "monthly",
            "preferred_language": "en",
            "interests": ["cycling"],
        },
    )

    party_merge(party_ids=[survivor.pk, other.pk], survivor_id=survivor.pk)

    merged = PrivacyPreference.objects.get(party=survivor)
    assert merged.do_not_profile and merged.do_not_solicit and not merged.do_not_track
    assert merged.contact_frequency == "monthly"
    assert merged.preferred_language == "de-AT"  # the survivor's own
    assert merged.interests == ["cycling", "running"]


def _consent_rows() -> dict:
    return {
        name: list(apps.get_model("consents", name).objects.order_by("pk").values())
        for name in ("contactpointtypeconsent", "contactpointconsent", "privacypreference")
    }


def test_unmerge_restores_each_partys_own_consents_exactly():
    survivor, other = PartyFactory(), PartyFactory()
    _say(survivor, "opt_in", OLD)
    _say(other, "opt_out", NEW)
    consent_set(
        party_id=other.pk,
        channel="sms",
        purpose="marketing",
        status="opt_in",
        captured_at=OLD,
        capture_source="shop",
        actor=FORM,
    )
    preferences_set(party_id=other.pk, actor=FORM, changes={"do_not_track": True})
    before = _consent_rows()
    merge = party_merge(
        party_ids=[survivor.pk, other.pk], survivor_id=survivor.pk, actor=UserFactory(username="ann")
    )
    assert _consent_rows() != before

    party_unmerge(event_id=merge.pk)

    assert _consent_rows() == before
    assert ledger_check() == []
    kinds = set(ConsentEvent.objects.filter(party=survivor).values_list("actor_label", flat=True))
    assert {f"merge into party {survivor.pk} by ann", f"unmerge of party {survivor.pk}"} <= kinds


def test_conflicts_name_both_decisions_and_the_outcome():
    a, b = PartyFactory(), PartyFactory()
    _say(a, "opt_in", OLD, source="web form")
    _say(b, "opt_out", NEW, source="email platform")

    found = conflicts([a.pk, b.pk])

    assert found == [
        f"Email · Newsletters: party {a.pk} opted in 2024-01-01 (web form); party {b.pk} "
        f"opted out 2025-06-01 (email platform) — the merged party will be opted out"
    ]


def test_the_merge_queue_puts_conflicting_consents_first_and_the_review_shows_them(role_client):
    from django.urls import reverse

    from tests.matching.queue_helpers import suggestion_for

    calm = suggestion_for([PartyFactory().pk, PartyFactory().pk], score=0.99)
    a, b = PartyFactory(), PartyFactory()
    _say(a, "opt_in", OLD, source="web form")
    _say(b, "opt_out", NEW, source="email platform")
    risky = suggestion_for([a.pk, b.pk], score=0.6)

    assert "conflicting consents" in risky.risk_reasons and "conflicting consents" not in calm.risk_reasons
    queue = role_client("steward").get(reverse("matching:suggestions") + "?order=risk")
    assert [s.pk for s in queue.context["page"]] == [risky.pk, calm.pk]
    review = role_client("steward").get(reverse("matching:review", args=[risky.pk]))
    assert "the merged party will be opted out" in review.content.decode()
