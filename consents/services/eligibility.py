"""Who may be contacted: for a channel, a purpose and a date, the contact points that are
eligible, the ones suppressed, and — for any one of them — why.

A contact point is eligible when all of these hold:
- its party is active (not merged away), not erased, and has not asked us not to process its
  data (a re-imported customer matching an erasure tombstone is marked so);
- the contact point is active and not known to be invalid (for SMS: not a fixed line);
- the party is not "do not solicit" (unless the purpose rests on a contract or a legal
  obligation, like service messages);
- consent: the point's own consent for the purpose if it has one, else the party's consent for
  the channel and purpose, counting only what is in effect on the date. A purpose that
  requires an opt-in needs "opted in"; any other purpose needs "not opted out".
The list (``eligible_points``) is one query; the explanation (``eligibility_explain``) checks
the same rules one by one, and a test holds the two to each other.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time

from django.db.models import Exists, OuterRef, Q, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from consents.models import (
    Channel,
    ConsentStatus,
    ContactPointConsent,
    ContactPointTypeConsent,
    DataUsePurpose,
    LegalBasis,
    PrivacyPreference,
)
from parties.models import (
    ContactPointAddress,
    ContactPointEmail,
    ContactPointPhone,
    Party,
    PartyStatus,
    PhoneType,
    Validity,
)
from parties.models.contact_points import ContactPoint

POINTS: dict[str, tuple[type[ContactPoint], str]] = {
    Channel.EMAIL: (ContactPointEmail, "email"),
    Channel.SMS: (ContactPointPhone, "phone"),
    Channel.PHONE: (ContactPointPhone, "phone"),
    Channel.MAIL: (ContactPointAddress, "address"),
}
SOLICIT_EXEMPT = (LegalBasis.CONTRACT, LegalBasis.LEGAL_OBLIGATION)


def _moment(on: date) -> datetime:
    return timezone.make_aware(datetime.combine(on, time(12)))


def in_effect(on: date) -> Q:
    """Consent rows in effect on the date (at noon, local time)."""
    moment = _moment(on)
    return (Q(effective_from__isnull=True) | Q(effective_from__lte=moment)) & (
        Q(effective_to__isnull=True) | Q(effective_to__gte=moment)
    )


def _points(channel: str):
    if channel not in POINTS:
        raise ValueError(f"{channel!r}: eligibility lists exist for {', '.join(POINTS)}")
    return POINTS[channel]


def points_with_consent(*, channel: str, purpose: DataUsePurpose, on: date) -> QuerySet:
    """Every contact point of the channel, annotated with the consent in effect for it."""
    model, kind = _points(channel)
    point_status = ContactPointConsent.objects.filter(
        in_effect(on), point_kind=kind, point_id=OuterRef("pk"), purpose=purpose
    ).values("status")[:1]
    channel_status = ContactPointTypeConsent.objects.filter(
        in_effect(on), party_id=OuterRef("party_id"), channel=channel, purpose=purpose
    ).values("status")[:1]
    return model.objects.annotate(
        consent=Coalesce(Subquery(point_status), Subquery(channel_status), Value(""))
    )


def _reachable(channel: str, purpose: DataUsePurpose) -> Q:
    condition = (
        Q(party__status=PartyStatus.ACTIVE, party__erased_at__isnull=True, is_active=True)
        & ~Q(validity=Validity.INVALID)
        & ~Q(Exists(PrivacyPreference.objects.filter(party_id=OuterRef("party_id"), do_not_process=True)))
    )
    if purpose.legal_basis not in SOLICIT_EXEMPT:
        condition &= ~Q(
            Exists(PrivacyPreference.objects.filter(party_id=OuterRef("party_id"), do_not_solicit=True))
        )
    if channel == Channel.SMS:
        condition &= ~Q(phone_type=PhoneType.FIXED)
    return condition


def _consented(purpose: DataUsePurpose) -> Q:
    if purpose.requires_opt_in:
        return Q(consent=ConsentStatus.OPT_IN)
    return ~Q(consent=ConsentStatus.OPT_OUT)


def eligible_points(*, channel: str, purpose: DataUsePurpose, on: date) -> QuerySet:
    return (
        points_with_consent(channel=channel, purpose=purpose, on=on)
        .filter(_reachable(channel, purpose) & _consented(purpose))
        .order_by("pk")
    )


ELIGIBLE_CSV_HEADER = ["party_id", "name", "channel", "contact_point", "consent"]


def eligible_csv_rows(
    *, channel: str, purpose: DataUsePurpose, on: date, party_ids: QuerySet | None = None
) -> Iterator[tuple]:
    """The rows of an eligibility download (``ELIGIBLE_CSV_HEADER``), one per eligible contact
    point, streamed in chunks; ``party_ids`` (a query of party ids, e.g. a segment's members)
    narrows the list to those customers without changing any rule."""
    points = eligible_points(channel=channel, purpose=purpose, on=on)
    if party_ids is not None:
        points = points.filter(party_id__in=party_ids)
    for p in points.select_related("party").iterator(chunk_size=2000):
        yield (p.party_id, p.party.display_name, channel, p.normalized, p.consent or "none")


def suppressed_points(*, channel: str, purpose: DataUsePurpose, on: date) -> QuerySet:
    """The channel's contact points that must not be contacted for the purpose on the date."""
    return (
        points_with_consent(channel=channel, purpose=purpose, on=on)
        .exclude(_reachable(channel, purpose) & _consented(purpose))
        .order_by("pk")
    )


@dataclass
class Explanation:
    eligible: bool
    reasons: list[str] = field(default_factory=list)  # why not (empty when eligible)
    consent: str = ""  # the consent that decided, in words


# A consent's status as what the customer did, for a sentence ("the customer opted out (…)").
_DID: dict[str, str] = {
    ConsentStatus.OPT_IN: "opted in",
    ConsentStatus.OPT_OUT: "opted out",
    ConsentStatus.SEEN: "saw the question but did not answer",
    ConsentStatus.NOT_SEEN: "has not seen the question yet",
}


def eligibility_explain(point, *, channel: str, purpose: DataUsePurpose, on: date) -> Explanation:
    """Why the contact point may, or may not, be contacted for the purpose on the date."""
    _points(channel)
    reasons = []
    party = Party.objects.get(pk=point.party_id)  # as stored now, not as the caller loaded it
    if party.erased_at:
        reasons.append(f"the customer's data was erased on request on {party.erased_at:%Y-%m-%d}")
    if party.status != PartyStatus.ACTIVE:
        reasons.append(f"party {party.pk} was merged into party {party.merged_into_id}")
    if not point.is_active:
        reasons.append("the contact point is deactivated")
    if point.validity == Validity.INVALID:
        reasons.append(f"the contact point is invalid ({point.validity_reason or 'failed validation'})")
    if channel == Channel.SMS and getattr(point, "phone_type", "") == PhoneType.FIXED:
        reasons.append("a fixed line cannot receive SMS")
    preferences = PrivacyPreference.objects.filter(party_id=party.pk).first()
    if preferences and preferences.do_not_process:
        reasons.append("the customer asked us not to process their data")
    if preferences and preferences.do_not_solicit and purpose.legal_basis not in SOLICIT_EXEMPT:
        reasons.append("the customer asked not to be solicited")
    _, kind = _points(channel)
    own = ContactPointConsent.objects.filter(
        in_effect(on), point_kind=kind, point_id=point.pk, purpose=purpose
    ).first()
    general = ContactPointTypeConsent.objects.filter(
        in_effect(on), party_id=party.pk, channel=channel, purpose=purpose
    ).first()
    decided = own or general
    status = decided.status if decided else ""
    where = "this contact point's own consent" if own else f"the party's {channel} consent"
    said = f"({where}, {decided.captured_at:%Y-%m-%d}, {decided.capture_source})" if decided else ""
    consent = f"{ConsentStatus(status).label.lower()} {said}" if decided else "no consent recorded"
    if purpose.requires_opt_in and status != ConsentStatus.OPT_IN:
        reasons.append(
            f"{purpose.name} needs an opt-in; the customer {_DID[status]} {said}"
            if decided
            else f"{purpose.name} needs an opt-in; none is recorded for the customer"
        )
    elif not purpose.requires_opt_in and status == ConsentStatus.OPT_OUT:
        reasons.append(f"the customer opted out {said}")
    return Explanation(eligible=not reasons, reasons=reasons, consent=consent)


def suppression_reason(point, *, channel: str, purpose: DataUsePurpose) -> str:
    """A short reason for a row of the suppression list, from what the list query loaded
    (``party``, ``dnp``, ``dns`` and ``consent`` annotations)."""
    if point.party.erased_at:
        return "erased on request"
    if point.party.status != PartyStatus.ACTIVE:
        return "merged into another party"
    if not point.is_active:
        return "contact point deactivated"
    if point.validity == Validity.INVALID:
        return "contact point invalid"
    if channel == Channel.SMS and getattr(point, "phone_type", "") == PhoneType.FIXED:
        return "fixed line"
    if point.dnp:
        return "do not process"
    if point.dns and purpose.legal_basis not in SOLICIT_EXEMPT:
        return "do not solicit"
    if point.consent == ConsentStatus.OPT_OUT:
        return "opted out"
    return "no opt-in"


def suppression_rows(*, channel: str, purpose: DataUsePurpose, on: date) -> QuerySet:
    flags = PrivacyPreference.objects.filter(party_id=OuterRef("party_id"))
    return (
        suppressed_points(channel=channel, purpose=purpose, on=on)
        .select_related("party")
        .annotate(
            dnp=Exists(flags.filter(do_not_process=True)), dns=Exists(flags.filter(do_not_solicit=True))
        )
    )
