"""Several consent changes under one capture source and evidence (issue 18, point 15): the
grid asks for the source once; the ledger still has one entry per change, each carrying it."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from consents.models import Channel, ConsentEvent, ContactPointTypeConsent, DataUsePurpose
from consents.services.ledger import Actor, ConsentChange, consent_set, consent_set_many, ledger_check
from tests.factories import PartyFactory, UserFactory

pytestmark = pytest.mark.django_db
CHANGES = [
    ConsentChange("email", "newsletter", "opt_out"),
    ConsentChange("sms", "marketing", "opt_in"),
    ConsentChange("phone", "marketing", "opt_out"),
]


def _states(party) -> dict[str, str]:
    return {
        f"{r.channel}/{r.purpose.code}": r.status
        for r in ContactPointTypeConsent.objects.filter(party=party).select_related("purpose")
    }


def test_three_changes_are_three_ledger_entries_with_the_one_source_and_evidence():
    party, user = PartyFactory(), UserFactory(username="mia")
    rows = consent_set_many(
        party_id=party.pk,
        changes=CHANGES,
        capture_source=" call centre ",
        evidence="ticket 4711",
        actor=Actor.of_user(user),
    )
    assert [r.status for r in rows] == ["opt_out", "opt_in", "opt_out"]
    assert _states(party) == {
        "email/newsletter": "opt_out",
        "sms/marketing": "opt_in",
        "phone/marketing": "opt_out",
    }
    events = list(ConsentEvent.objects.order_by("id"))
    assert [e.key for e in events] == ["email/newsletter", "sms/marketing", "phone/marketing"]
    assert {(e.capture_source, e.evidence, e.actor_id) for e in events} == {
        ("call centre", "ticket 4711", user.pk)
    }
    assert len({r.captured_at for r in rows}) == 1  # one conversation, one moment
    assert ledger_check([party.pk]) == []


def test_one_refused_change_leaves_every_change_undone_and_names_its_cell():
    party = PartyFactory()
    actor = Actor.of_user(UserFactory())
    consent_set(
        party_id=party.pk,
        channel="sms",
        purpose="marketing",
        status="opt_out",
        capture_source="web form",
        actor=actor,
    )
    # "seen" is no decision: it cannot replace the opt-out, so the whole batch is refused
    batch = [ConsentChange("email", "newsletter", "opt_in"), ConsentChange("sms", "marketing", "seen")]
    with pytest.raises(ValidationError) as refused:
        consent_set_many(party_id=party.pk, changes=batch, capture_source="call", actor=actor)
    assert list(refused.value.message_dict) == ["sms/marketing status"]
    assert _states(party) == {"sms/marketing": "opt_out"}
    assert ConsentEvent.objects.count() == 1


@pytest.mark.parametrize(
    ("changes", "source", "field"),
    [
        ([], "call", "changes"),
        (CHANGES[:1], "  ", "capture_source"),
        ([CHANGES[0], ConsentChange("email", "newsletter", "opt_in")], "call", "changes"),
        ([ConsentChange("fax", "newsletter", "opt_in")], "call", "fax/newsletter channel"),
    ],
)
def test_a_bad_batch_is_refused_naming_what_is_wrong(changes, source, field):
    party = PartyFactory()
    with pytest.raises(ValidationError) as refused:
        consent_set_many(
            party_id=party.pk, changes=changes, capture_source=source, actor=Actor.of_user(UserFactory())
        )
    assert field in refused.value.message_dict
    assert not ConsentEvent.objects.exists()


def test_the_grid_saves_several_cells_under_one_capture_source(role_client):
    party = PartyFactory()
    client = role_client("marketing")
    page = client.get(reverse("consents:preferences", args=[party.pk])).content.decode()
    cells = DataUsePurpose.objects.filter(is_active=True).count() * len(Channel.values)
    assert page.count('name="change"') == cells and page.count('id="capture_source"') == 1
    response = client.post(
        reverse("consents:consent_change", args=[party.pk]),
        {
            "change": ["email|newsletter|opt_out", "", "sms|marketing|opt_in", ""],
            "capture_source": "phone call",
            "evidence": "asked for less email",
        },
        follow=True,
    )
    text = response.content.decode()
    assert (
        "Email · newsletter: opted out; SMS · marketing: opted in (2 changes, recorded in the ledger)"
        in text.replace("&#x27;", "'")
    )
    assert _states(party) == {"email/newsletter": "opt_out", "sms/marketing": "opt_in"}
    assert (
        list(ConsentEvent.objects.values_list("capture_source", "evidence"))
        == [("phone call", "asked for less email")] * 2
    )


def test_saving_the_grid_with_no_cell_changed_says_so(role_client):
    party = PartyFactory()
    response = role_client("marketing").post(
        reverse("consents:consent_change", args=[party.pk]),
        {"change": ["", ""], "capture_source": "call"},
        follow=True,
    )
    assert "Nothing changed — choose a new state" in response.content.decode()
    assert not ConsentEvent.objects.exists()
