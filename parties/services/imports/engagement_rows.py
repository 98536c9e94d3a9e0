"""The "engagements" file kind: touch points (orders, cases, returns, visits, email and SMS
interactions, survey answers, events attended) of customers already imported.

Each row names its customer (see ``party_refs``: source key, email or phone) and the touch
point's id in the file's source system. (source system, type, external id) is the key: a
file imported again creates nothing new, updates the touch points whose values changed and
leaves the others alone. Columns the mapping does not use go into the touch point's
``attributes``, under their header, together with an ``attributes`` JSON column if mapped.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime

from django.utils import timezone

from parties.extensions import BatchResult, ImportKind
from parties.models import (
    Engagement,
    EngagementChannel,
    EngagementType,
    ImportJob,
    SourceSystem,
)
from parties.services.imports.mapping import Columns
from parties.services.imports.party_refs import (
    REFERENCE_COLUMNS,
    REFERENCE_SYNONYMS,
    RowError,
    attributes_read,
    batch_rows_read,
    choice_read,
    choice_words,
    datetime_read,
    decimal_read,
    integer_read,
    mapped_columns,
    rows_touch,
    text_read,
)
from parties.services.imports.readers import RawRow

COLUMNS = (
    *REFERENCE_COLUMNS,
    "external_id",
    "engagement_type",
    "occurred_at",
    "channel",
    "status",
    "amount",
    "currency",
    "nps_score",
    "attributes",
)
SYNONYMS: dict[str, Sequence[str]] = {
    **REFERENCE_SYNONYMS,
    "external_id": [
        "id",
        "touch point id",
        "engagement id",
        "order id",
        "order number",
        "order no",
        "transaction id",
        "ticket id",
        "case id",
        "case number",
        "interaction id",
        "event id",
        "response id",
        "reference",
    ],
    "engagement_type": [
        "type",
        "kind",
        "touch point type",
        "touchpoint type",
        "engagement",
        "activity",
        "activity type",
        "interaction type",
        "event type",
    ],
    "occurred_at": [
        "date",
        "time",
        "timestamp",
        "datetime",
        "date time",
        "occurred",
        "when",
        "created at",
        "order date",
        "event date",
        "datum",
    ],
    "channel": ["medium", "via", "kanal"],
    "status": ["state", "order status", "case status"],
    "amount": ["total", "value", "revenue", "order total", "order value", "price", "betrag"],
    "currency": ["currency code", "ccy", "waehrung", "währung"],
    "nps_score": ["nps", "score", "rating", "nps rating", "likelihood to recommend"],
    "attributes": ["extra", "details", "metadata", "json"],
}
TYPE_WORDS = choice_words(
    EngagementType,
    {
        EngagementType.ORDER: ["purchase", "sale", "transaction", "invoice", "order placed"],
        EngagementType.CASE: ["ticket", "support ticket", "support", "complaint", "service case"],
        EngagementType.RETURN: ["refund", "returned"],
        EngagementType.WEB_VISIT: [
            "visit",
            "web session",
            "session",
            "website visit",
            "page view",
            "pageview",
        ],
        EngagementType.EMAIL_INTERACTION: [
            "email",
            "e-mail",
            "email open",
            "email opened",
            "email click",
            "email clicked",
            "newsletter",
        ],
        EngagementType.SMS_INTERACTION: ["sms", "text", "text message"],
        EngagementType.SURVEY_RESPONSE: ["survey", "nps", "nps response", "feedback"],
        EngagementType.EVENT_ATTENDANCE: [
            "event",
            "attendance",
            "event attendance",
            "attended event",
            "webinar",
        ],
    },
)
CHANNEL_WORDS = choice_words(
    EngagementChannel,
    {
        EngagementChannel.WEB: [
            "online",
            "website",
            "internet",
            "web shop",
            "webshop",
            "ecommerce",
            "e-commerce",
        ],
        EngagementChannel.APP: ["mobile", "mobile app", "ios", "android"],
        EngagementChannel.STORE: ["in store", "in-store", "shop", "pos", "retail", "branch"],
        EngagementChannel.PHONE: ["call", "telephone", "call centre", "call center", "hotline"],
        EngagementChannel.EMAIL: ["e-mail"],
        EngagementChannel.SMS: ["text"],
        EngagementChannel.MAIL: ["post", "letter", "postal", "direct mail"],
        EngagementChannel.SOCIAL: ["social media", "facebook", "instagram", "linkedin", "x", "twitter"],
    },
)
# What a row sets on a touch point; a re-import compares exactly these.
VALUE_FIELDS = (
    "party_id",
    "source_record_id",
    "channel",
    "occurred_at",
    "status",
    "amount",
    "currency",
    "nps_score",
    "attributes",
)


def _currency(text: str) -> str:
    if not text:
        return ""
    import pycountry

    code = text.upper()
    if len(code) != 3 or pycountry.currencies.get(alpha_3=code) is None:
        raise RowError("currency", text, "not an ISO 4217 currency code (three letters, e.g. EUR, USD)")
    return code


def engagement_values(
    row: Mapping[str, str],
    raw_values: Mapping[str, str],
    *,
    mapped: set[str],
    source: SourceSystem,
    now: datetime,
) -> dict:
    """A row's touch point, without its customer; raises ``RowError`` naming the column."""
    external_id = text_read(row.get("external_id", ""), "external_id", max_length=100)
    if not external_id:
        raise RowError(
            "external_id",
            "",
            "no external id: the touch point's id in its source "
            "system is what makes a re-import update it rather than "
            "add it again",
        )
    engagement_type = choice_read(
        row.get("engagement_type", ""), TYPE_WORDS, "engagement_type", "touch point type"
    )
    if not row.get("occurred_at"):
        raise RowError("occurred_at", "", "no date: when did it happen?")
    occurred_at = datetime_read(row["occurred_at"], "occurred_at", date_order=source.date_order, now=now)
    channel = choice_read(row["channel"], CHANNEL_WORDS, "channel", "channel") if row.get("channel") else ""
    nps_score = integer_read(row.get("nps_score", ""), "nps_score", low=0, high=10)
    if nps_score is not None and engagement_type != EngagementType.SURVEY_RESPONSE:
        raise RowError(
            "nps_score",
            row["nps_score"],
            f"an NPS score belongs to a survey response, not to a {engagement_type.replace('_', ' ')}",
        )
    return {
        "external_id": external_id,
        "engagement_type": engagement_type,
        "occurred_at": occurred_at,
        "channel": channel,
        "status": text_read(row.get("status", ""), "status", max_length=32),
        "amount": decimal_read(row.get("amount", ""), "amount", places=2, max_digits=14),
        "currency": _currency(row.get("currency", "")),
        "nps_score": nps_score,
        "attributes": attributes_read(row, raw_values, mapped),
    }


def engagement_batch_import(
    *,
    job: ImportJob,
    source: SourceSystem,
    rows: Sequence[RawRow],
    mapping: Columns,
    prepared=None,
) -> BatchResult:
    """Upsert one batch of touch points; runs inside the job's batch transaction, so a batch is
    written whole or not at all. A bad row is rejected with its line, column and reason."""
    now = timezone.now()
    mapped = mapped_columns(mapping)
    batch = batch_rows_read(
        job=job,
        source=source,
        rows=rows,
        mapping=mapping,
        values_read=lambda row, raw: engagement_values(
            row, raw.values, mapped=mapped, source=source, now=now
        ),
    )
    reject = batch.reject
    wanted: dict[tuple[str, str], tuple[int, dict]] = {}
    for line, _row, values in batch.rows:
        key = (values["engagement_type"], values["external_id"])
        if key in wanted:
            reject(
                line,
                RowError(
                    "external_id",
                    key[1],
                    f"{key[0].replace('_', ' ')} {key[1]!r} already "
                    f"appeared at line {wanted[key][0]}; this row was not imported",
                ),
            )
            continue
        wanted[key] = (line, values)

    existing = {
        (e.engagement_type, e.external_id): e
        for e in Engagement.objects.filter(
            source_system=source, external_id__in=sorted({k[1] for k in wanted})
        )
    }
    new: list[Engagement] = []
    changed: list[Engagement] = []
    unchanged: list[int] = []
    for key, (line, values) in wanted.items():
        current = existing.get(key)
        if current is None:
            new.append(Engagement(source_system=source, last_import_job_id=job.pk, **values))
        elif current.last_import_job_id == job.pk:
            reject(
                line,
                RowError(
                    "external_id",
                    key[1],
                    f"{key[0].replace('_', ' ')} {key[1]!r} already "
                    "appeared earlier in this file; this row was not imported",
                ),
            )
        elif all(getattr(current, name) == values[name] for name in VALUE_FIELDS):
            unchanged.append(current.pk)
        else:
            for name in VALUE_FIELDS:
                setattr(current, name, values[name])
            current.last_import_job_id = job.pk
            changed.append(current)
    Engagement.objects.bulk_create(new)
    Engagement.objects.bulk_update(changed, [*VALUE_FIELDS, "last_import_job_id"], batch_size=500)
    rows_touch(Engagement, unchanged, job_id=job.pk)
    rejected = batch.rejections_save()
    # Matching compares names and contact points, not touch points: no party needs re-matching,
    # and the API's party document does not include touch points.
    return BatchResult(
        created=len(new),
        updated=len(changed),
        unchanged=len(unchanged),
        rejected=rejected,
        changed_party_ids=(),
    )


ENGAGEMENTS_KIND = ImportKind(
    name="engagements",
    label="Touch points (engagements)",
    columns=COLUMNS,
    required=("external_id", "engagement_type", "occurred_at"),
    synonyms=SYNONYMS,
    handle_batch=engagement_batch_import,
    description="One row per touch point (order, case, return, web visit, email or SMS interaction, "
    "survey response, event): the customer (source key, or email or phone), its id, type, "
    "time, channel, status, amount and currency, NPS score; other columns are kept as "
    "attributes.",
    example_path="parties/examples/engagements.csv",
    # Touch points are source-system data like customer files: whoever may add them (today the
    # administrators) may import them.
    permission="parties.add_engagement",
    extra={
        "required_any": (("source_key", "email", "phone"),),
        "unmapped": "Columns mapped to no field are kept in each touch point's attributes.",
    },
)

__all__ = ["ENGAGEMENTS_KIND", "engagement_batch_import", "engagement_values"]
