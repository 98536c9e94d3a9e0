"""Segments: members and counts agree with a direct, independently written reading of the
data for every filter; merged, erased and "do not profile" customers are never members; the
export is the eligibility list narrowed to the members; the form names the field at fault."""

from __future__ import annotations

import datetime as dt
import random
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from consents.forms import SegmentForm
from consents.models import (
    ContactPointConsent,
    ContactPointTypeConsent,
    DataUsePurpose,
    PrivacyPreference,
    Segment,
)
from consents.services.eligibility import ELIGIBLE_CSV_HEADER, eligible_csv_rows
from consents.services.ledger import Actor, consent_set, point_consent_set, preferences_set
from consents.services.segments import (
    segment_count,
    segment_create,
    segment_delete,
    segment_export_csv,
    segment_export_rows,
    segment_members,
    segment_update,
)
from parties.models import (
    ContactPointAddress,
    ContactPointEmail,
    ContactPointPhone,
    Engagement,
    Membership,
    Party,
)
from tests.factories import PartyFactory, SourceRecordFactory, SourceSystemFactory, UserFactory

pytestmark = pytest.mark.django_db
ON = dt.date(2026, 6, 1)
CAPTURED = dt.datetime(2026, 1, 10, tzinfo=dt.UTC)
A = Actor(label="test")
COUNTRIES = ["DE", "FR", "AT"]
TIERS = ["Bronze", "Silver", "Gold"]


def _at(day: dt.date, hour: int = 9) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day, hour, tzinfo=dt.UTC)


@pytest.fixture
def world():
    """Sixty customers with every kind of attribute a segment filters on, drawn at random
    (seeded), plus parties that must never be members."""
    rng = random.Random(8)
    crm, shop = SourceSystemFactory(name="CRM"), SourceSystemFactory(name="Shop")
    parties = []
    for n in range(60):
        party = PartyFactory(given_name=f"P{n}", family_name="Test", display_name=f"P{n:02d} Test")
        parties.append(party)
        for source in (crm, shop):
            if rng.random() < 0.5:
                SourceRecordFactory(party=party, source_system=source)
        for i in range(rng.choice([0, 1, 1, 2])):
            ContactPointAddress.objects.create(
                party=party,
                raw_value=f"{n}-{i}",
                normalized=f"addr {n}-{i}",
                country=rng.choice(COUNTRIES),
                is_active=rng.random() < 0.8,
            )
        for i in range(rng.choice([0, 1, 1, 2])):
            ContactPointEmail.objects.create(
                party=party,
                raw_value=f"p{n}.{i}@x.org",
                normalized=f"p{n}.{i}@x.org",
                validity=rng.choice(["valid", "invalid", "unverified", "verified"]),
                is_active=rng.random() < 0.85,
            )
        if rng.random() < 0.4:
            phone = ContactPointPhone.objects.create(
                party=party, raw_value=f"+4915{n:07d}", normalized=f"+4915{n:07d}", phone_type="mobile"
            )
            if rng.random() < 0.5:
                point_consent_set(
                    party_id=party.pk,
                    point_kind="phone",
                    point_id=phone.pk,
                    purpose="marketing",
                    status=rng.choice(["opt_in", "opt_out"]),
                    captured_at=CAPTURED,
                    capture_source="shop",
                    actor=A,
                )
        if rng.random() < 0.6:
            consent_set(
                party_id=party.pk,
                channel="email",
                purpose="newsletter",
                status=rng.choice(["opt_in", "opt_in", "opt_out", "seen"]),
                captured_at=CAPTURED,
                capture_source="web form",
                actor=A,
                effective_to=_at(dt.date(2026, 3, 1)) if rng.random() < 0.15 else None,
            )
        if rng.random() < 0.3:
            consent_set(
                party_id=party.pk,
                channel="sms",
                purpose="marketing",
                status="opt_in",
                captured_at=CAPTURED,
                capture_source="shop",
                actor=A,
            )
        for _ in range(rng.choice([0, 0, 1, 2, 3, 5])):
            kind = rng.choice(["order", "order", "order", "return", "web_visit", "case"])
            day = dt.date(2025, 1, 1) + dt.timedelta(days=rng.randrange(0, 520))
            Engagement.objects.create(
                party=party,
                engagement_type=kind,
                occurred_at=_at(day, rng.randrange(24)),
                amount=Decimal(rng.randrange(500, 60000)) / 100 if kind in ("order", "return") else None,
                status=rng.choice(["shipped", "paid", "cancelled", "Canceled"]) if kind == "order" else "",
            )
        if rng.random() < 0.5:
            Membership.objects.create(
                party=party,
                program_type="loyalty",
                program_name="Club",
                tier=rng.choice(TIERS),
                status=rng.choice(["active", "active", "expired"]),
            )
    # parties that must never be members, whatever the filters: they have everything
    survivor, merged, erased, unprofiled = parties[0], *(_everything(f"never{n}") for n in range(3))
    Party.objects.filter(pk=merged.pk).update(status="merged", merged_into=survivor)
    Party.objects.filter(pk=erased.pk).update(erased_at=CAPTURED)
    preferences_set(party_id=unprofiled.pk, changes={"do_not_profile": True}, actor=A)
    return {"crm": crm, "shop": shop, "never": [merged, erased, unprofiled]}


def _everything(name: str) -> Party:
    party = PartyFactory(given_name=name, display_name=name)
    SourceRecordFactory(party=party, source_system=SourceSystemFactory(name="CRM"))
    ContactPointAddress.objects.create(party=party, raw_value=name, normalized=name, country="DE")
    ContactPointEmail.objects.create(
        party=party, raw_value=f"{name}@x.org", normalized=f"{name}@x.org", validity="valid"
    )
    consent_set(
        party_id=party.pk,
        channel="email",
        purpose="newsletter",
        status="opt_in",
        captured_at=CAPTURED,
        capture_source="web form",
        actor=A,
    )
    for day in (dt.date(2025, 6, 1), dt.date(2026, 2, 1)):
        Engagement.objects.create(
            party=party,
            engagement_type="order",
            occurred_at=_at(day),
            amount=Decimal("400.00"),
            status="delivered",
        )
    Membership.objects.create(party=party, program_type="loyalty", program_name="Club", tier="Gold")
    return party


def _in_effect(row, on: dt.date) -> bool:
    noon = dt.datetime.combine(on, dt.time(12), tzinfo=dt.UTC)
    return (row.effective_from is None or row.effective_from <= noon) and (
        row.effective_to is None or row.effective_to >= noon
    )


def expected_members(seg: Segment, on: dt.date = ON) -> set[int]:
    """The segment's definition read out party by party, independently of the service."""
    members = set()
    for party in Party.objects.all():
        preferences = PrivacyPreference.objects.filter(party=party).first()
        if (
            party.status != "active"
            or party.erased_at
            or (preferences and (preferences.do_not_process or preferences.do_not_profile))
        ):
            continue
        if seg.country and seg.country not in {a.country for a in party.addresses.filter(is_active=True)}:
            continue
        if seg.source_system_id and seg.source_system_id not in {
            r.source_system_id for r in party.source_records.all()
        }:
            continue
        has_valid = any(e.is_active and e.validity in ("valid", "verified") for e in party.emails.all())
        if (seg.valid_email == "yes" and not has_valid) or (seg.valid_email == "no" and has_valid):
            continue
        if seg.consent_channel:
            kind = {"email": "email", "mail": "address"}.get(seg.consent_channel, "phone")
            channel_rows = ContactPointTypeConsent.objects.filter(
                party=party, channel=seg.consent_channel, purpose=seg.consent_purpose, status="opt_in"
            )
            point_rows = ContactPointConsent.objects.filter(
                party=party, point_kind=kind, purpose=seg.consent_purpose, status="opt_in"
            )
            if not any(_in_effect(r, on) for r in [*channel_rows, *point_rows]):
                continue
        engagements = list(party.engagements.all())
        orders = [
            e
            for e in engagements
            if e.engagement_type == "order" and e.status.lower() not in ("cancelled", "canceled")
        ]
        ltv = sum((e.amount or 0 for e in orders), Decimal(0)) - sum(
            (e.amount or 0 for e in engagements if e.engagement_type == "return"), Decimal(0)
        )
        if (seg.ltv_min is not None and ltv < seg.ltv_min) or (seg.ltv_max is not None and ltv > seg.ltv_max):
            continue
        if (seg.orders_min is not None and len(orders) < seg.orders_min) or (
            seg.orders_max is not None and len(orders) > seg.orders_max
        ):
            continue
        last = max((timezone.localtime(e.occurred_at) for e in engagements), default=None)
        if seg.last_engagement_after and (last is None or last.date() < seg.last_engagement_after):
            continue
        if seg.last_engagement_before and (last is None or last.date() >= seg.last_engagement_before):
            continue
        if seg.tier and not party.memberships.filter(tier__iexact=seg.tier, status="active").exists():
            continue
        members.add(party.pk)
    return members


def _purpose(code: str) -> DataUsePurpose:
    return DataUsePurpose.objects.get(code=code)


COMBINATIONS = [
    {},
    {"country": "DE"},
    {"country": "FR", "valid_email": "yes"},
    {"valid_email": "yes"},
    {"valid_email": "no"},
    {"consent_channel": "email", "consent_purpose": "newsletter"},
    {"consent_channel": "sms", "consent_purpose": "marketing"},
    {"ltv_min": Decimal("500")},
    {"ltv_max": Decimal("100")},
    {"ltv_min": Decimal("-50"), "ltv_max": Decimal("300")},
    {"ltv_min": Decimal("100"), "ltv_max": Decimal("900")},
    {"orders_min": 2},
    {"orders_max": 1},
    {"orders_min": 1, "orders_max": 2},
    {"last_engagement_after": dt.date(2026, 1, 1)},
    {"last_engagement_before": dt.date(2025, 9, 1)},
    {"last_engagement_after": dt.date(2025, 6, 1), "last_engagement_before": dt.date(2026, 1, 1)},
    {"tier": "gold"},
    {"source": "crm"},
    {"source": "shop", "tier": "Silver"},
    {"country": "DE", "valid_email": "yes", "consent_channel": "email", "consent_purpose": "newsletter"},
    {"country": "DE", "ltv_min": Decimal("50"), "last_engagement_after": dt.date(2025, 6, 1)},
]


def test_each_filter_and_combination_counts_what_a_direct_reading_of_the_data_finds(world):
    everyone = len(expected_members(Segment()))
    for combination in COMBINATIONS:
        filters = dict(combination)
        if "consent_purpose" in filters:
            filters["consent_purpose"] = _purpose(filters["consent_purpose"])
        if "source" in filters:
            filters["source_system"] = world[filters.pop("source")]
        segment = Segment(**filters)
        segment.clean()

        expected = expected_members(segment)
        members = segment_members(segment, today=ON)

        assert segment_count(segment, today=ON) == len(expected), combination
        assert set(members.values_list("pk", flat=True)) == expected, combination
        if combination:  # a filter that keeps everyone or no one would prove little
            assert 0 < len(expected) < everyone, (combination, len(expected))


def test_merged_erased_and_do_not_profile_parties_are_never_members(world):
    never = {p.pk for p in world["never"]}
    broad = Segment(
        country="DE",
        valid_email="yes",
        consent_channel="email",
        consent_purpose=_purpose("newsletter"),
        tier="Gold",
        ltv_min=Decimal("1"),
    )
    assert never.isdisjoint(segment_members(Segment()).values_list("pk", flat=True))
    assert never.isdisjoint(segment_members(broad, today=ON).values_list("pk", flat=True))
    # the same customer, back to normal, is a member of both
    Party.objects.filter(pk__in=never).update(status="active", merged_into=None, erased_at=None)
    PrivacyPreference.objects.filter(party_id__in=never).update(do_not_profile=False)
    assert never <= set(segment_members(broad, today=ON).values_list("pk", flat=True))


def test_a_party_without_orders_has_a_lifetime_value_of_zero():
    idle = PartyFactory()
    buyer = PartyFactory()
    for kind, amount in (("order", "80"), ("return", "30")):
        Engagement.objects.create(
            party=buyer, engagement_type=kind, occurred_at=CAPTURED, amount=Decimal(amount)
        )

    def ids(**filters):
        return set(segment_members(Segment(**filters)).values_list("pk", flat=True))

    assert ids(ltv_max=Decimal("0")) == {idle.pk}
    assert ids(ltv_min=Decimal("50"), ltv_max=Decimal("50")) == {buyer.pk}
    assert ids(orders_max=0) == {idle.pk}
    assert ids(last_engagement_before=dt.date(2030, 1, 1)) == {buyer.pk}  # idle has no last engagement


def _eligible_world():
    """Members in DE opted in, opted out, point-opted-out, do not solicit; a non-member in FR opted in."""

    def customer(name: str, country: str, status: str | None) -> ContactPointEmail:
        party = PartyFactory(given_name=name, display_name=name)
        ContactPointAddress.objects.create(party=party, raw_value=name, normalized=name, country=country)
        email = ContactPointEmail.objects.create(
            party=party, raw_value=f"{name}@x.org", normalized=f"{name}@x.org", validity="valid"
        )
        if status:
            consent_set(
                party_id=party.pk,
                channel="email",
                purpose="newsletter",
                status=status,
                captured_at=CAPTURED,
                capture_source="web form",
                actor=A,
            )
        return email

    points = {
        "in": customer("in", "DE", "opt_in"),
        "out": customer("out", "DE", "opt_out"),
        "never": customer("never", "DE", None),
        "abroad": customer("abroad", "FR", "opt_in"),
        "quiet": customer("quiet", "DE", "opt_in"),
        "pointout": customer("pointout", "DE", "opt_in"),
    }
    preferences_set(party_id=points["quiet"].party_id, changes={"do_not_solicit": True}, actor=A)
    pointout = points["pointout"]
    point_consent_set(
        party_id=pointout.party_id,
        point_kind="email",
        point_id=pointout.pk,
        purpose="newsletter",
        status="opt_out",
        captured_at=CAPTURED,
        capture_source="unsubscribe",
        actor=A,
    )
    second = ContactPointEmail.objects.create(
        party_id=points["in"].party_id, raw_value="in2@x.org", normalized="in2@x.org", validity="valid"
    )
    return points, second


def test_the_export_is_the_eligibility_list_narrowed_to_the_members_and_leaves_out_the_opted_out():
    points, second = _eligible_world()
    newsletter = _purpose("newsletter")
    segment = segment_create(name="Germany", filters={"country": "DE"}, user=None)

    rows = list(segment_export_rows(segment=segment, channel="email", purpose=newsletter, on=ON))

    members = set(segment_members(segment, today=ON).values_list("pk", flat=True))
    everyone_eligible = eligible_csv_rows(channel="email", purpose=newsletter, on=ON)
    eligible = [row for row in everyone_eligible if row[0] in members]
    assert rows == eligible
    assert {row[3] for row in rows} == {"in@x.org", "in2@x.org"}  # one row per eligible contact point
    # opted out, no opt-in, do not solicit, the email's own opt-out: members, but not exported
    for left_out in ("out", "never", "quiet", "pointout"):
        assert points[left_out].party_id in members
    assert points["abroad"].party_id not in members  # eligible, but not in the segment
    assert second.normalized in {row[3] for row in rows}


def test_the_export_csv_is_formula_safe_and_has_the_eligibility_header():
    party = PartyFactory(display_name='=HYPERLINK("http://evil")')
    ContactPointEmail.objects.create(party=party, raw_value="x", normalized="+cmd@x.org", validity="valid")
    consent_set(
        party_id=party.pk,
        channel="email",
        purpose="newsletter",
        status="opt_in",
        captured_at=CAPTURED,
        capture_source="web form",
        actor=A,
    )
    segment = segment_create(name="All", filters={}, user=None)

    lines = segment_export_csv(segment=segment, channel="email", purpose=_purpose("newsletter"), on=ON)
    text = "".join(lines)

    lines = text.lstrip("\ufeff").splitlines()
    assert lines[0] == ",".join(ELIGIBLE_CSV_HEADER)
    assert lines[1] == f'{party.pk},"\'=HYPERLINK(""http://evil"")",email,\'+cmd@x.org,opt_in'


def test_create_update_and_delete_keep_who_and_when_and_validate_each_field():
    user = UserFactory(username="seg-maker")
    segment = segment_create(
        name="  Gold in Germany ", description="VIPs", filters={"country": "de", "tier": "Gold"}, user=user
    )
    segment.refresh_from_db()
    assert (segment.name, segment.country, segment.tier, segment.created_by, segment.updated_by) == (
        "Gold in Germany",
        "DE",
        "Gold",
        user,
        user,
    )

    other = UserFactory(username="seg-editor")
    segment_update(segment=segment, name="Gold", filters={"orders_min": 3}, user=other)
    segment.refresh_from_db()
    assert (segment.name, segment.country, segment.tier, segment.orders_min) == ("Gold", "", "", 3)
    assert (segment.created_by, segment.updated_by) == (user, other)

    with pytest.raises(ValidationError) as problem:
        segment_create(name="Bad", filters={"country": "ZZ", "ltv_min": 10, "ltv_max": 5}, user=user)
    assert set(problem.value.message_dict) == {"country", "ltv_min"}
    with pytest.raises(ValidationError) as problem:
        segment_create(name="Gold", filters={}, user=user)
    assert "name" in problem.value.message_dict
    with pytest.raises(ValidationError):
        segment_create(name="Odd", filters={"colour": "red"}, user=user)

    segment_delete(segment=segment)
    assert not Segment.objects.exists()


@pytest.mark.parametrize(
    ("data", "field", "words"),
    [
        ({"ltv_min": "lots"}, "ltv_min", "Enter a number"),
        ({"country": "XX"}, "country", "is not a country code"),
        (
            {"last_engagement_after": "2026-05-01", "last_engagement_before": "2026-04-01"},
            "last_engagement_after",
            "Must be earlier than",
        ),
        ({"consent_channel": "email"}, "consent_purpose", "Choose the purpose"),
        ({"orders_min": "5", "orders_max": "2"}, "orders_min", "Is more than the maximum (2)"),
        ({"orders_min": "-1"}, "orders_min", "greater than or equal to 0"),
        ({"tier": "Diamond"}, "tier", "Select a valid choice"),
    ],
)
def test_the_form_names_the_field_at_fault(data, field, words):
    form = SegmentForm({"name": "Test", **data})
    assert not form.is_valid()
    assert field in form.errors, form.errors
    assert any(words in message for message in form.errors[field]), form.errors[field]


def test_the_form_offers_the_tiers_there_are_and_saves_a_valid_definition():
    Membership.objects.create(party=PartyFactory(), program_type="loyalty", program_name="Club", tier="Gold")
    form = SegmentForm(
        {
            "name": "Gold DE",
            "country": "de",
            "tier": "Gold",
            "consent_channel": "email",
            "consent_purpose": _purpose("newsletter").pk,
            "ltv_min": "99.50",
            "last_engagement_after": "2026-01-01",
        }
    )
    assert form.is_valid(), form.errors
    assert form.filters()["country"] == "DE"
    assert [c for c, _ in form.fields["tier"].choices] == ["", "Gold"]
