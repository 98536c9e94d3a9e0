"""Reads of the parties app: what pages and the API show. Filtering lives here, not in views."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from django.db.models import Count, Exists, OuterRef, Prefetch, Q, QuerySet

from parties.models import (
    ContactPointAddress,
    ContactPointEmail,
    ContactPointPhone,
    Party,
    PartyStatus,
    SourceRecord,
    SourceSystem,
    Validity,
)


@dataclass
class AttentionItem:
    title: str
    count: int
    detail: str
    url: str = ""
    tone: str = "warn"  # warn | info | ok


@dataclass
class AttentionSummary:
    parties_active: int = 0
    parties_merged: int = 0
    source_records: int = 0
    source_systems: int = 0
    items: list[AttentionItem] = field(default_factory=list)
    sources: list[SourceSystem] = field(default_factory=list)


def attention_summary(*, user) -> AttentionSummary:
    """The home page's figures and the things that need someone's attention, for the pages
    this user may open."""
    summary = AttentionSummary()
    if not user.has_perm("parties.view_party"):
        return summary
    counts = Party.objects.aggregate(
        active=Count("pk", filter=Q(status=PartyStatus.ACTIVE)),
        merged=Count("pk", filter=Q(status=PartyStatus.MERGED)),
    )
    summary.parties_active, summary.parties_merged = counts["active"], counts["merged"]
    summary.source_records = SourceRecord.objects.count()
    summary.source_systems = SourceSystem.objects.count()

    invalid_emails = ContactPointEmail.objects.filter(validity=Validity.INVALID, is_active=True)
    invalid_phones = ContactPointPhone.objects.filter(validity=Validity.INVALID, is_active=True)
    unreachable = party_search(Party.objects.active(), reachability="none").count()
    summary.items = [
        AttentionItem(
            "Invalid email addresses",
            invalid_emails.count(),
            "Addresses that failed the syntax check on import.",
            "?contact=invalid_email",
        ),
        AttentionItem(
            "Invalid phone numbers",
            invalid_phones.count(),
            "Numbers that are not valid for their country.",
            "?contact=invalid_phone",
        ),
        AttentionItem(
            "Parties nobody can contact",
            unreachable,
            "Active parties with no active email, phone or address.",
            "?reachability=none",
        ),
    ]
    if user.has_perm("parties.view_importjob"):
        from datetime import timedelta

        from django.urls import reverse
        from django.utils import timezone

        from parties.models import ImportJob, ImportStatus

        failed = ImportJob.objects.filter(
            status=ImportStatus.FAILED, created_at__gte=timezone.now() - timedelta(days=7)
        )
        summary.items.append(
            AttentionItem(
                "Failed imports this week",
                failed.count(),
                "Import jobs that stopped with an error; retry them after fixing the cause.",
                reverse("parties:imports"),
            )
        )
    if summary.source_systems == 0:
        summary.items.append(
            AttentionItem(
                "No source systems yet", 0, "Register a source system and import its customers.", tone="info"
            )
        )
    if user.has_perm("parties.view_sourcesystem"):
        summary.sources = list(
            SourceSystem.objects.annotate(record_count=Count("records")).order_by("trust_rank")
        )
    return summary


def party_search(
    queryset: QuerySet[Party], *, q: str = "", reachability: str = "", contact: str = ""
) -> QuerySet[Party]:
    """Narrow parties by a free-text query (part of a name, or exactly an email, phone in any
    format, identifier, source key, postal code or party id, as the search box looks them up)
    and by data-quality conditions. Used by the list page's filter set."""
    if q:
        from django.conf import settings

        from parties.search import party_exact_lookups
        from parties.services.standardize import collapse

        text = collapse(q)
        condition = Q(display_name__icontains=text) | Q(organization_name__icontains=text)
        for _label, party_ids in party_exact_lookups(text, settings.C360_PHONE_REGION):
            condition |= Q(pk__in=party_ids.order_by())
        queryset = queryset.filter(condition)
    if reachability == "none":
        queryset = queryset.filter(
            ~Exists(ContactPointEmail.objects.filter(party=OuterRef("pk"), is_active=True)),
            ~Exists(ContactPointPhone.objects.filter(party=OuterRef("pk"), is_active=True)),
            ~Exists(ContactPointAddress.objects.filter(party=OuterRef("pk"), is_active=True)),
        )
    if contact == "invalid_email":
        queryset = queryset.filter(
            Exists(ContactPointEmail.objects.filter(party=OuterRef("pk"), validity=Validity.INVALID))
        )
    elif contact == "invalid_phone":
        queryset = queryset.filter(
            Exists(ContactPointPhone.objects.filter(party=OuterRef("pk"), validity=Validity.INVALID))
        )
    return queryset


def party_list(**filters) -> QuerySet[Party]:
    return party_search(Party.objects.all(), **filters).annotate(
        source_count=Count("source_records", distinct=True)
    )


def party_detail(*, pk: int) -> Party:
    """One party with everything the 360 page shows, in a fixed number of queries."""
    return (
        Party.objects.select_related("merged_into")
        .prefetch_related(
            "emails",
            "phones",
            "addresses",
            "socials",
            "identifications",
            "memberships",
            "relationships_from__to_party",
            "relationships_to__from_party",
            Prefetch("source_records", queryset=SourceRecord.objects.select_related("source_system")),
        )
        .get(pk=pk)
    )


def party_merge_history(*, party_id: int, limit: int = 10) -> list:
    """The latest merges, unmerges and splits the party took part in."""
    from parties.models import EventKind, PartyEvent

    kinds = [EventKind.MERGE, EventKind.AUTO_MERGE, EventKind.UNMERGE, EventKind.SPLIT]
    return list(
        PartyEvent.objects.filter(parties=party_id, kind__in=kinds)
        .select_related("actor")
        .prefetch_related("parties")
        .order_by("-created_at", "-id")[:limit]
    )


def survivors_of(party_ids: Iterable[int]) -> dict[int, int]:
    """party id → the party at the end of its merge chain (itself unless merged): the one way
    merge chains are followed (pages, search, imports, consent changes). One query per level of
    merges; at most 20 levels (merge chains are short; a cycle would be corrupt data)."""
    survivor = {pk: pk for pk in party_ids}
    pending = set(survivor)
    for _ in range(20):
        if not pending:
            break
        merged = dict(
            Party.objects.filter(pk__in=pending, merged_into__isnull=False).values_list(
                "pk", "merged_into_id"
            )
        )
        for start, current in survivor.items():
            if current in merged:
                survivor[start] = merged[current]
        pending = set(merged.values())
    return survivor


def party_and_merged_ids(party_id: int) -> list[int]:
    """The party and every party merged into it, directly or through others (the other way
    along merge chains)."""
    ids, frontier = [party_id], [party_id]
    while frontier:
        frontier = list(
            Party.objects.filter(merged_into_id__in=frontier).exclude(pk__in=ids).values_list("pk", flat=True)
        )
        ids += frontier
    return ids


def party_resolve(*, pk: int) -> Party:
    """Follow ``merged_into`` from a merged party to its surviving active party."""
    party = Party.objects.get(pk=pk)
    if not party.merged_into_id:
        return party
    return Party.objects.get(pk=survivors_of([pk])[pk])


def party_history(*, party_id: int) -> list:
    """The audit trail of a party, newest first, with whether each merge can be undone."""
    from parties.models import PartyEvent

    events = list(
        PartyEvent.objects.filter(parties=party_id)
        .select_related("actor")
        .prefetch_related("reverted_by")
        .order_by("-created_at", "-id")
    )
    for event in events:
        try:
            event.undone = event.reverted_by
        except PartyEvent.DoesNotExist:
            event.undone = None
    return events
