"""Segments: saved filters over parties, their members, and their export.

Members are the active customers (not merged away, not erased, not "do not process" nor "do
not profile": putting someone in a segment is profiling them) for whom every filter that is
set holds. Filters left empty match everyone.

- country: the party has an active postal address in that country (ISO code);
- source system: the party has a source record from that system;
- valid email: the party has (or has no) active email address whose validity is "valid" or
  "verified";
- opted in on a channel for a purpose: the party's consent for the channel and purpose is
  "opted in" and in effect today, or one of its contact points of that channel has its own
  opt-in for the purpose in effect today (the export then decides point by point);
- lifetime value and order count, at least / at most: see ``LTV``; a party without orders has
  a lifetime value of 0 and 0 orders, so "at most" filters include it;
- last engagement on or after / before a date: the party's most recent touch point of any kind
  (order, case, visit, email interaction, …), the date in the server's time zone; a party with
  no touch point has no last engagement and matches neither;
- membership tier: the party has an active membership of that tier (case-insensitive).

Every filter is an EXISTS (or, for the figures, one grouped subquery over engagements) on
indexed columns, so counting is one query and nothing is stored per party.

The export is the segment's members who are eligible for a channel and purpose on a date:
exactly the eligibility download (``consents.services.eligibility.eligible_csv_rows``)
narrowed to the members, so opted-out, suppressed, erased and "do not contact" customers are
left out by the same rules.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import date, datetime, time
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import (
    Count,
    DecimalField,
    Exists,
    Field,
    OuterRef,
    Q,
    QuerySet,
    Sum,
    Value,
)
from django.db.models.functions import Coalesce
from django.utils import timezone

from c360.kernel.setting_changes import model_labels, setting_changes_record, setting_values
from consents.models import (
    ConsentStatus,
    ContactPointConsent,
    ContactPointTypeConsent,
    DataUsePurpose,
    EmailFilter,
    PrivacyPreference,
    Segment,
)
from consents.services.eligibility import (
    ELIGIBLE_CSV_HEADER,
    POINTS,
    eligible_csv_rows,
    eligible_points,
    in_effect,
)
from parties.models import (
    ContactPointAddress,
    ContactPointEmail,
    Engagement,
    EngagementType,
    Membership,
    MembershipStatus,
    Party,
    PartyStatus,
    SourceRecord,
    Validity,
)
from parties.selectors_engagement import counted_order

# Lifetime value: the amounts of the party's orders, less the amounts of its returns (refunds).
# A cancelled order never happened (parties.selectors_engagement.counted_order, as on the party
# page). Amounts are summed as recorded, in whatever currency the source wrote them: the party
# page shows them per currency, a segment threshold compares the plain sum (no conversion).
LTV = (
    "sum of the amounts of orders (cancelled orders not counted) minus the amounts of returns; "
    "order count = number of orders, cancelled ones not counted"
)
_MONEY = DecimalField(max_digits=16, decimal_places=2)
SEGMENT_SETTING = "consents.segment"  # its history (c360.kernel.setting_changes), per segment
SEGMENT_HISTORY_FIELDS = ("name", "description", *Segment.FILTER_FIELDS)


def _ltv_expression():
    returned = Coalesce(
        Sum("amount", filter=Q(engagement_type=EngagementType.RETURN)), Value(Decimal(0)), output_field=_MONEY
    )
    return Coalesce(Sum("amount", filter=counted_order()), Value(Decimal(0)), output_field=_MONEY) - returned


def party_totals() -> QuerySet:
    """Per party that has orders or returns: ``party_id``, ``ltv`` and ``orders`` — one grouped
    query over the engagements of those two kinds."""
    return (
        Engagement.objects.filter(engagement_type__in=[EngagementType.ORDER, EngagementType.RETURN])
        .order_by()
        .values("party_id")
        .annotate(ltv=_ltv_expression(), orders=Count("pk", filter=counted_order()))
    )


def _between(name: str, low, high) -> Q:
    """Parties whose figure ``name`` lies in [low, high]. Parties without orders or returns
    have 0: when 0 is in the range, they are members, so the condition is written as "not
    among the parties whose figure is outside the range"."""
    inside, outside = Q(), Q()
    if low is not None:
        inside &= Q(**{f"{name}__gte": low})
        outside |= Q(**{f"{name}__lt": low})
    if high is not None:
        inside &= Q(**{f"{name}__lte": high})
        outside |= Q(**{f"{name}__gt": high})
    zero_inside = (low is None or low <= 0) and (high is None or high >= 0)
    if zero_inside:
        return ~Q(pk__in=party_totals().filter(outside).values("party_id"))
    return Q(pk__in=party_totals().filter(inside).values("party_id"))


def _day_start(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


def segment_conditions(segment: Segment, *, today: date | None = None) -> Q:
    """The segment's filters as one condition on ``Party`` (without the base rules)."""
    today = today or timezone.localdate()
    party = OuterRef("pk")
    condition = Q()
    if segment.country:
        condition &= Q(
            Exists(
                ContactPointAddress.objects.filter(
                    party_id=party, country=segment.country.upper(), is_active=True
                )
            )
        )
    if segment.source_system_id:
        condition &= Q(
            Exists(SourceRecord.objects.filter(party_id=party, source_system_id=segment.source_system_id))
        )
    if segment.valid_email:
        valid = Exists(
            ContactPointEmail.objects.filter(
                party_id=party, is_active=True, validity__in=[Validity.VALID, Validity.VERIFIED]
            )
        )
        condition &= Q(valid) if segment.valid_email == EmailFilter.VALID else ~Q(valid)
    if segment.consent_channel and segment.consent_purpose_id:
        _, point_kind = POINTS[segment.consent_channel]
        current = in_effect(today)
        condition &= Q(
            Exists(
                ContactPointTypeConsent.objects.filter(
                    current,
                    party_id=party,
                    channel=segment.consent_channel,
                    purpose_id=segment.consent_purpose_id,
                    status=ConsentStatus.OPT_IN,
                )
            )
        ) | Q(
            Exists(
                ContactPointConsent.objects.filter(
                    current,
                    party_id=party,
                    point_kind=point_kind,
                    purpose_id=segment.consent_purpose_id,
                    status=ConsentStatus.OPT_IN,
                )
            )
        )
    if segment.ltv_min is not None or segment.ltv_max is not None:
        condition &= _between("ltv", segment.ltv_min, segment.ltv_max)
    if segment.orders_min is not None or segment.orders_max is not None:
        condition &= _between("orders", segment.orders_min, segment.orders_max)
    if segment.last_engagement_after:
        condition &= Q(
            Exists(
                Engagement.objects.filter(
                    party_id=party, occurred_at__gte=_day_start(segment.last_engagement_after)
                )
            )
        )
    if segment.last_engagement_before:
        if not segment.last_engagement_after:  # else that EXISTS already says there is one
            condition &= Q(Exists(Engagement.objects.filter(party_id=party)))
        condition &= ~Q(
            Exists(
                Engagement.objects.filter(
                    party_id=party, occurred_at__gte=_day_start(segment.last_engagement_before)
                )
            )
        )
    if segment.tier:
        condition &= Q(
            Exists(
                Membership.objects.filter(
                    party_id=party, tier__iexact=segment.tier, status=MembershipStatus.ACTIVE
                )
            )
        )
    return condition


def segmentable_parties() -> QuerySet[Party]:
    """The parties any segment draws from: active, not erased, and not "do not process" or
    "do not profile"."""
    # NOT IN over a small list, hashed once: as NOT EXISTS, PostgreSQL may pick a nested loop
    # when it underestimates the parties left by the other filters (seen: 20 s instead of 2 s)
    withheld = PrivacyPreference.objects.filter(Q(do_not_process=True) | Q(do_not_profile=True))
    return Party.objects.filter(status=PartyStatus.ACTIVE, erased_at__isnull=True).exclude(
        pk__in=withheld.values("party_id")
    )


def segment_members(segment: Segment, *, today: date | None = None) -> QuerySet[Party]:
    """The segment's members now (or as of ``today``), by name. Works on unsaved segments too
    (the form's preview)."""
    return (
        segmentable_parties().filter(segment_conditions(segment, today=today)).order_by("display_name", "pk")
    )


def segment_count(segment: Segment, *, today: date | None = None) -> int:
    return segment_members(segment, today=today).order_by().count()


def _apply(segment: Segment, filters: Mapping[str, Any]) -> None:
    unknown = set(filters) - set(Segment.FILTER_FIELDS)
    if unknown:
        raise ValidationError({"__all__": f"unknown segment filters: {', '.join(sorted(unknown))}"})
    for name in Segment.FILTER_FIELDS:
        field = Segment._meta.get_field(name)
        if not isinstance(field, Field):  # FILTER_FIELDS names the model's own fields
            raise TypeError(f"Segment.{name} is not a field of its own")
        value = filters.get(name)
        if field.is_relation:
            setattr(segment, field.attname, getattr(value, "pk", value))
        elif value is None and not field.null:
            setattr(segment, name, "")
        else:
            setattr(segment, name, value)


@transaction.atomic
def segment_create(*, name: str, description: str = "", filters: Mapping[str, Any], user) -> Segment:
    """Save a new segment. ``filters`` maps ``Segment.FILTER_FIELDS`` to values; any left out
    are empty (match everyone). Raises ValidationError naming the field at fault."""
    segment = Segment(name=name.strip(), description=description.strip(), created_by=user, updated_by=user)
    _apply(segment, filters)
    segment.full_clean()
    segment.save()
    _history_record(segment, {}, user)
    return segment


@transaction.atomic
def segment_update(
    *, segment: Segment, name: str, description: str = "", filters: Mapping[str, Any], user
) -> Segment:
    """Replace a segment's name, description and filters (a filter not given is cleared). The
    history records each field that changed (the values before are read from the locked row:
    a bound form may have changed ``segment`` already)."""
    before = setting_values(Segment.objects.select_for_update().get(pk=segment.pk), SEGMENT_HISTORY_FIELDS)
    segment.name, segment.description, segment.updated_by = name.strip(), description.strip(), user
    _apply(segment, filters)
    segment.full_clean()
    segment.save()
    _history_record(segment, before, user)
    return segment


def _history_record(segment: Segment, before: Mapping[str, Any], user) -> None:
    setting_changes_record(
        setting=SEGMENT_SETTING,
        object_id=segment.pk,
        before=before,
        after=setting_values(segment, SEGMENT_HISTORY_FIELDS),
        user=user,
        labels=model_labels(Segment, SEGMENT_HISTORY_FIELDS),
    )


@transaction.atomic
def segment_delete(*, segment: Segment, user=None) -> None:
    """Delete the saved filter. Nothing else changes: membership was never stored. The settings
    history keeps what it was (every value before, none after) and who deleted it."""
    before = setting_values(segment, SEGMENT_HISTORY_FIELDS)
    setting_changes_record(
        setting=SEGMENT_SETTING,
        object_id=segment.pk,
        before=before,
        after={},
        user=user,
        labels=model_labels(Segment, SEGMENT_HISTORY_FIELDS),
    )
    segment.delete()


EXPORT_HEADER = ELIGIBLE_CSV_HEADER


def segment_export_rows(
    *, segment: Segment, channel: str, purpose: DataUsePurpose, on: date
) -> Iterator[tuple]:
    """The segment's members eligible for the channel and purpose on the date: the eligibility
    download's rows (``ELIGIBLE_CSV_HEADER``), one per eligible contact point."""
    members = segment_members(segment, today=on).order_by().values("pk")
    return eligible_csv_rows(channel=channel, purpose=purpose, on=on, party_ids=members)


def segment_eligible_count(*, segment: Segment, channel: str, purpose: DataUsePurpose, on: date) -> int:
    members = segment_members(segment, today=on).order_by().values("pk")
    return eligible_points(channel=channel, purpose=purpose, on=on).filter(party_id__in=members).count()


def segment_export_csv(*, segment: Segment, channel: str, purpose: DataUsePurpose, on: date) -> Iterator[str]:
    """The export as CSV lines for a streaming response, formula-safe like every download."""
    from parties.services.csv_export import csv_stream

    return csv_stream(
        EXPORT_HEADER, segment_export_rows(segment=segment, channel=channel, purpose=purpose, on=on)
    )
