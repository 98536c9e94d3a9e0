"""The consents part of the party 360 page: a purpose × channel summary, the customer's
"do not …" flags, and a consent badge on each email, phone and postal address."""

from __future__ import annotations

from consents.models import (
    ConsentStatus,
    ContactPointConsent,
    ContactPointKind,
    ContactPointTypeConsent,
    DataUsePurpose,
    PrivacyPreference,
)
from parties.extensions import PartySection

# The channels whose type-level consent applies to a contact point without its own: a phone
# number is called and texted (the SMS channel's badges name their channel).
_CHANNELS_OF_POINT = {
    ContactPointKind.EMAIL: (("email", ""),),
    ContactPointKind.PHONE: (("phone", "Calls: "), ("sms", "SMS: ")),
    ContactPointKind.ADDRESS: (("mail", ""),),
}
_TONES = {
    ConsentStatus.OPT_IN: "consent-opt_in",
    ConsentStatus.OPT_OUT: "consent-opt_out",
    ConsentStatus.SEEN: "consent-seen",
}
_MARKS = {ConsentStatus.OPT_IN: "✓", ConsentStatus.OPT_OUT: "✗", ConsentStatus.SEEN: "?"}


def consent_section(user, party) -> PartySection | None:
    if not user.has_perm("consents.view_contactpointtypeconsent"):
        return None
    purposes = {p.pk: p for p in DataUsePurpose.objects.filter(is_active=True).order_by("pk")}
    by_channel = list(
        ContactPointTypeConsent.objects.filter(party_id=party.pk, purpose_id__in=purposes)
        .exclude(status=ConsentStatus.NOT_SEEN)
        .order_by("channel", "purpose_id")
    )
    summary = [(row.get_channel_display(), purposes[row.purpose_id].name, row) for row in by_channel]
    channel_status = {(row.channel, row.purpose_id): row.status for row in by_channel}
    badges: dict[tuple[str, int], list[tuple[str, str]]] = {}
    point_status: dict[tuple[str, int], dict[int, str]] = {}
    for row in ContactPointConsent.objects.filter(party_id=party.pk, purpose_id__in=purposes):
        point_status.setdefault((row.point_kind, row.point_id), {})[row.purpose_id] = row.status
    points = [
        (ContactPointKind.EMAIL, party.emails.all()),
        (ContactPointKind.PHONE, party.phones.all()),
        (ContactPointKind.ADDRESS, party.addresses.all()),
    ]
    for kind, rows in points:
        for point in rows:
            own = point_status.get((kind, point.pk), {})
            for purpose_id, purpose in purposes.items():
                # The number's or address's own consent, else each of its channels' consent.
                shown = (
                    [("", own[purpose_id])]
                    if purpose_id in own
                    else [
                        (prefix, channel_status.get((channel, purpose_id)))
                        for channel, prefix in _CHANNELS_OF_POINT[kind]
                    ]
                )
                for prefix, status in shown:
                    if status in _TONES:
                        badge = (f"{prefix}{_MARKS[status]} {purpose.name}", _TONES[status])
                        badges.setdefault((str(kind), point.pk), []).append(badge)
    return PartySection(
        title="Consents",
        template="consents/_party_section.html",
        context={
            "consent_summary": summary,
            "preferences": PrivacyPreference.objects.filter(party_id=party.pk).first(),
        },
        badges=badges,
    )
