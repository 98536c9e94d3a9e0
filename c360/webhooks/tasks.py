"""Celery tasks of the webhooks: thin callers of services."""

from celery import shared_task
from django.core.cache import cache


@shared_task(name="webhooks.dispatch")
def dispatch_task() -> dict:
    """Number committed events, fan them out, send each subscriber's delivery task (after each
    commit that wrote events, and every few seconds by beat)."""
    from c360.webhooks.services.dispatch import webhooks_dispatch

    return webhooks_dispatch()


@shared_task(name="webhooks.send")
def send_task(subscriber_id: int) -> dict:
    """Deliver to one subscriber for up to a minute; sent again when work is left."""
    from c360.webhooks.services.delivery import deliveries_send
    from c360.webhooks.services.dispatch import SEND_QUEUED_KEY, send_soon

    cache.delete(SEND_QUEUED_KEY.format(subscriber_id))  # events from now on send another
    result = deliveries_send(subscriber_id=subscriber_id)
    if result.more:
        send_soon(subscriber_id)
    return {
        "delivered": result.delivered,
        "failed": result.failed,
        "dead": result.dead,
        "rested": result.rested,
    }
