"""Registering and changing webhook subscribers (page, API and admin call these)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from urllib.parse import urlsplit

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from c360.kernel.params import text_problem
from c360.kernel.setting_changes import setting_changes_record
from c360.webhooks.models import Delivery, DeliveryStatus, Subscriber, SubscriberStatus
from c360.webhooks.services.signing import secret_generate
from parties.models import ChangeEventType
from parties.services.outbox import change_events_sequence

SETTING = "webhook subscriber"


def _clean(
    *, name: str, url: str, event_types: Sequence[str], exclude_pk: int | None = None
) -> dict[str, Any]:
    errors: dict[str, str] = {}
    name = (name or "").strip()
    url = (url or "").strip()
    problem = text_problem(name, max_length=100)
    if not name:
        errors["name"] = "a name is required"
    elif problem:
        errors["name"] = problem
    elif Subscriber.objects.filter(name__iexact=name).exclude(pk=exclude_pk or 0).exists():
        errors["name"] = f"a subscriber named {name!r} exists already"
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 (a port out of range or not a number raises ValueError here)
        malformed = ""
    except ValueError as exc:  # "http://[::1/": an unclosed IPv6 address
        parts, malformed = urlsplit(""), str(exc)
    if not url:
        errors["url"] = "a URL is required"
    elif len(url) > 500:
        errors["url"] = f"at most 500 characters (got {len(url)})"
    elif malformed:
        errors["url"] = f"{url[:80]!r} is not a valid URL ({malformed})"
    elif parts.scheme not in ("http", "https") or not parts.hostname:
        errors["url"] = f"{url[:80]!r} is not an http:// or https:// address with a host"
    elif parts.username or parts.password:
        errors["url"] = "no user name or password in the URL: the signature authenticates deliveries"
    elif any(ord(c) < 33 or ord(c) == 127 for c in url):
        errors["url"] = "spaces and control characters are not allowed in the URL"
    types = list(dict.fromkeys(event_types or []))
    unknown = [t for t in types if t not in ChangeEventType.values]
    if unknown:
        errors["event_types"] = (
            f"unknown event type {unknown[0]!r} (known: {', '.join(ChangeEventType.values)})"
        )
    if errors:
        raise ValidationError(errors)
    return {"name": name, "url": url, "event_types": sorted(types)}


def _shown(subscriber: Subscriber) -> dict[str, Any]:
    return {
        "name": subscriber.name,
        "url": subscriber.url,
        "event_types": ", ".join(subscriber.event_types) or "all",
        "status": subscriber.status,
    }


@transaction.atomic
def subscriber_create(*, name: str, url: str, event_types: Sequence[str] = (), actor=None) -> Subscriber:
    """A new subscriber, active, with a new secret; it receives the events that happen from now
    on (not the past ones: the pull feed has those)."""
    values = _clean(name=name, url=url, event_types=event_types)
    change_events_sequence()
    from parties.models import ChangeEventSequence

    last = ChangeEventSequence.objects.filter(pk=1).values_list("last", flat=True).first() or 0
    try:
        with transaction.atomic():  # two people registering one name at once: the second is told
            subscriber = Subscriber.objects.create(
                **values, secret=secret_generate(), cursor=last, created_by=actor
            )
    except IntegrityError:
        raise ValidationError({"name": f"a subscriber named {values['name']!r} exists already"}) from None
    setting_changes_record(
        setting=SETTING, before={}, after=_shown(subscriber), user=actor, object_id=subscriber.pk
    )
    return subscriber


@transaction.atomic
def subscriber_update(
    *, subscriber_id: int, name: str, url: str, event_types: Sequence[str] = (), actor=None
) -> Subscriber:
    subscriber = Subscriber.objects.select_for_update().get(pk=subscriber_id)
    before = _shown(subscriber)
    values = _clean(name=name, url=url, event_types=event_types, exclude_pk=subscriber.pk)
    for field, value in values.items():
        setattr(subscriber, field, value)
    try:
        with transaction.atomic():
            subscriber.save()
    except IntegrityError:
        raise ValidationError({"name": f"a subscriber named {values['name']!r} exists already"}) from None
    setting_changes_record(
        setting=SETTING, before=before, after=_shown(subscriber), user=actor, object_id=subscriber.pk
    )
    return subscriber


@transaction.atomic
def subscriber_pause(*, subscriber_id: int, actor=None) -> Subscriber:
    """No delivery is tried while paused; events still queue up for it (nothing is lost)."""
    subscriber = Subscriber.objects.select_for_update().get(pk=subscriber_id)
    before = _shown(subscriber)
    subscriber.status = SubscriberStatus.PAUSED
    subscriber.save(update_fields=["status", "updated_at"])
    setting_changes_record(
        setting=SETTING, before=before, after=_shown(subscriber), user=actor, object_id=subscriber.pk
    )
    return subscriber


@transaction.atomic
def subscriber_resume(*, subscriber_id: int, actor=None) -> Subscriber:
    """Deliveries go on, at once, oldest first; the time it was paused does not count against
    the retry window."""
    subscriber = Subscriber.objects.select_for_update().get(pk=subscriber_id)
    before = _shown(subscriber)
    now = timezone.now()
    subscriber.status = SubscriberStatus.ACTIVE
    subscriber.resumed_at, subscriber.resume_at, subscriber.failure_streak = now, None, 0
    subscriber.save(update_fields=["status", "resumed_at", "resume_at", "failure_streak", "updated_at"])
    Delivery.objects.filter(subscriber=subscriber, status=DeliveryStatus.PENDING).update(next_attempt_at=now)
    setting_changes_record(
        setting=SETTING, before=before, after=_shown(subscriber), user=actor, object_id=subscriber.pk
    )
    _dispatch_after_commit()
    return subscriber


@transaction.atomic
def subscriber_secret_rotate(*, subscriber_id: int, actor=None) -> Subscriber:
    subscriber = Subscriber.objects.select_for_update().get(pk=subscriber_id)
    subscriber.secret = secret_generate()
    subscriber.save(update_fields=["secret", "updated_at"])
    setting_changes_record(
        setting=SETTING,
        before={"secret": "(old)"},
        after={"secret": "(new)"},
        user=actor,
        object_id=subscriber.pk,
    )
    return subscriber


@transaction.atomic
def subscriber_delete(*, subscriber_id: int, actor=None) -> None:
    """The subscriber and its delivery log go; the events stay (the feed has them)."""
    subscriber = Subscriber.objects.select_for_update().get(pk=subscriber_id)
    setting_changes_record(
        setting=SETTING, before=_shown(subscriber), after={}, user=actor, object_id=subscriber.pk
    )
    subscriber.deliveries.all().delete()
    subscriber.delete()


@transaction.atomic
def delivery_redeliver(*, delivery_id: int, actor=None) -> Delivery:
    """Send the delivery again, now (a dead one is given a new retry window; a delivered one
    is sent once more: receivers ignore event ids they have seen)."""
    delivery = Delivery.objects.select_for_update().get(pk=delivery_id)
    now = timezone.now()
    delivery.status, delivery.next_attempt_at, delivery.created_at = DeliveryStatus.PENDING, now, now
    # the log shows the new try, not the last one's answer (attempts keep counting)
    delivery.delivered_at, delivery.response_code, delivery.error = None, None, ""
    delivery.save(
        update_fields=["status", "next_attempt_at", "created_at", "delivered_at", "response_code", "error"]
    )
    Subscriber.objects.filter(pk=delivery.subscriber_id).update(resume_at=None)
    _dispatch_after_commit()
    return delivery


def _dispatch_after_commit() -> None:
    from c360.webhooks.services.dispatch import dispatch_soon

    transaction.on_commit(dispatch_soon)
