"""Staff add, correct, verify and deactivate contact points; nothing is hard-deleted, every edit
is audited, and bad values are refused with the reason."""

from __future__ import annotations

import pytest
from django.urls import reverse

from parties import models as m
from tests.factories import EmailFactory, PartyFactory

pytestmark = pytest.mark.django_db


def _post(client, party, **data):
    return client.post(reverse("parties:contact_point", args=[party.pk]), data, follow=True)


def test_marketing_adds_a_phone_written_the_national_way(role_client):
    party = PartyFactory()
    response = _post(
        role_client("marketing"),
        party,
        action="add",
        kind="phone",
        value="0151 2345 6789",
        region="DE",
        usage="mobile",
    )
    assert "Phone added +4915123456789" in response.content.decode()
    phone = m.ContactPointPhone.objects.get(party=party)
    assert (phone.normalized, phone.country, phone.phone_type, phone.is_primary) == (
        "+4915123456789",
        "DE",
        "mobile",
        True,
    )
    event = m.PartyEvent.objects.get()
    assert event.kind == m.EventKind.CONTACT_POINT and event.actor_label == "t-marketing"


@pytest.mark.parametrize(
    "kind, value, message",
    [
        ("email", "not-an-email", "value: invalid email"),
        ("phone", "12", "value: not a valid phone number"),
        ("fax", "1", "kind: &#x27;fax&#x27;"),
    ],
)
def test_bad_values_are_refused_with_the_reason(role_client, kind, value, message):
    party = PartyFactory()
    response = _post(role_client("marketing"), party, action="add", kind=kind, value=value, region="DE")
    assert message in response.content.decode()
    assert not m.ContactPointEmail.objects.exists() and not m.ContactPointPhone.objects.exists()
    assert not m.PartyEvent.objects.exists()


def test_correct_verify_and_deactivate_keep_the_row(role_client):
    party = PartyFactory()
    email = EmailFactory(
        party=party, raw_value="ann@exmaple.com", normalized="ann@exmaple.com", is_primary=True
    )
    client = role_client("marketing")
    _post(client, party, action="correct", kind="email", point=email.pk, value="Ann@Example.com")
    _post(client, party, action="verify", kind="email", point=email.pk)
    email.refresh_from_db()
    assert (email.normalized, email.raw_value, email.validity) == (
        "ann@example.com",
        "Ann@Example.com",
        "verified",
    )
    assert email.verified_at is not None
    _post(client, party, action="deactivate", kind="email", point=email.pk)
    email.refresh_from_db()
    assert not email.is_active and not email.is_primary
    assert m.ContactPointEmail.objects.count() == 1  # kept
    reasons = list(m.PartyEvent.objects.order_by("pk").values_list("reason", flat=True))
    assert reasons == [
        "email corrected: ann@exmaple.com → ann@example.com",
        "email verified: ann@example.com",
        "email deactivated: ann@example.com",
    ]


def test_a_duplicate_value_is_refused(role_client):
    party = PartyFactory()
    EmailFactory(party=party, normalized="a@example.com")
    response = _post(role_client("marketing"), party, action="add", kind="email", value="A@Example.com")
    assert "the party already has a@example.com" in response.content.decode()


def test_who_may_edit(role_client, client):
    party = PartyFactory()
    email = EmailFactory(party=party)
    other = PartyFactory()
    verified = _post(role_client("steward"), party, action="verify", kind="email", point=email.pk)
    assert verified.status_code == 200
    # a point of another party is not reachable through this party's URL
    response = client.post(
        reverse("parties:contact_point", args=[other.pk]),
        {"action": "verify", "kind": "email", "point": email.pk},
    )
    assert response.status_code == 404
    client.logout()
    anonymous = client.post(reverse("parties:contact_point", args=[party.pk]), {"action": "add"})
    assert anonymous.status_code in (302, 403)
