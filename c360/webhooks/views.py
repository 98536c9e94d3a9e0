"""The administrators' webhook pages: subscribers, their secrets, and their delivery logs.
Thin: every change is a service of ``services/subscribers.py``."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from c360.kernel.setting_changes import setting_changes_list
from c360.webhooks.forms import DeliveryFilterForm, SubscriberForm
from c360.webhooks.models import Delivery, Subscriber
from c360.webhooks.selectors import EVENT_TYPE_GROUPS, deliveries_of, subscribers_with_counts
from c360.webhooks.services import subscribers as svc
from c360.webhooks.services.signing import SIGNATURE_HEADER, TOLERANCE_SECONDS

MANAGE = "webhooks.manage_webhooks"
LOG_PAGE_SIZE = 50
LOG_PARAMETERS = ("status", "type", "page")

# How a receiver checks a delivery (the scheme of services/signing.py); shown on the page.
VERIFY_SNIPPET = f'''import hashlib
import hmac
import os
import time

# this subscriber's secret (whsec_…), kept out of the code
SECRET = os.environ["C360_WEBHOOK_SECRET"]


def verify(body: bytes, header: str, tolerance: int = {TOLERANCE_SECONDS}) -> bool:
    """body: the raw request body; header: the {SIGNATURE_HEADER} header."""
    try:
        parts = dict(item.split("=", 1) for item in header.split(","))
        timestamp, given = int(parts["t"]), parts["v1"]
    except (ValueError, KeyError):
        return False
    if abs(time.time() - timestamp) > tolerance:
        return False  # too old: a replayed delivery
    message = str(timestamp).encode() + b"." + body
    expected = hmac.new(SECRET.encode(), message, hashlib.sha256).hexdigest()
    return hmac.compare_digest(given, expected)
'''


def _subscriber(pk: int) -> Subscriber:
    try:
        return Subscriber.objects.get(pk=pk)
    except Subscriber.DoesNotExist as exc:
        raise Http404(f"No webhook subscriber with id {pk}.") from exc


@require_GET
@permission_required(MANAGE, raise_exception=True)
def subscriber_list(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "webhooks/subscriber_list.html",
        {"subscribers": subscribers_with_counts(), "now": timezone.now()},
    )


@permission_required(MANAGE, raise_exception=True)
def subscriber_create(request: HttpRequest) -> HttpResponse:
    form = SubscriberForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            subscriber = svc.subscriber_create(actor=request.user, **form.cleaned_data)
        except ValidationError as exc:
            form.apply_errors(exc)
        else:
            messages.success(
                request,
                f"Subscriber “{subscriber.name}” registered: it receives the events from now on. "
                "Give its secret to the receiving system.",
            )
            return redirect("webhooks:detail", pk=subscriber.pk)
    return render(request, "webhooks/subscriber_form.html", {"form": form, "groups": EVENT_TYPE_GROUPS})


@permission_required(MANAGE, raise_exception=True)
def subscriber_edit(request: HttpRequest, pk: int) -> HttpResponse:
    subscriber = _subscriber(pk)
    initial = {"name": subscriber.name, "url": subscriber.url, "event_types": subscriber.event_types}
    form = SubscriberForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            subscriber = svc.subscriber_update(
                subscriber_id=subscriber.pk, actor=request.user, **form.cleaned_data
            )
        except ValidationError as exc:
            form.apply_errors(exc)
        else:
            messages.success(request, f"Subscriber “{subscriber.name}” saved.")
            return redirect("webhooks:detail", pk=subscriber.pk)
    return render(
        request,
        "webhooks/subscriber_form.html",
        {"form": form, "groups": EVENT_TYPE_GROUPS, "subscriber": subscriber},
    )


@require_GET
@permission_required(MANAGE, raise_exception=True)
def subscriber_detail(request: HttpRequest, pk: int) -> HttpResponse:
    subscriber = _subscriber(pk)
    counts = subscribers_with_counts().get(pk=subscriber.pk)
    filters = DeliveryFilterForm(request.GET)
    statuses: list[str] = []
    types: list[str] = []
    if filters.is_valid():  # a value that is not a choice: the form says so, the log is not narrowed
        statuses = [filters.cleaned_data["status"]] if filters.cleaned_data["status"] else []
        types = [filters.cleaned_data["type"]] if filters.cleaned_data["type"] else []
    paginator = Paginator(
        deliveries_of(subscriber_id=subscriber.pk, statuses=statuses, types=types), LOG_PAGE_SIZE
    )
    page = paginator.get_page(request.GET.get("page"))
    kept = QueryDict(mutable=True)
    for name in ("status", "type"):
        if request.GET.get(name):
            kept[name] = request.GET[name]
    return render(
        request,
        "webhooks/subscriber_detail.html",
        {
            "subscriber": subscriber,
            "counts": counts,
            "filters": filters,
            "filtered": bool(statuses or types),
            "page_obj": page,
            "paginator": paginator,
            "filter_query": kept.urlencode(),
            "back": request.GET.urlencode(),
            "snippet": VERIFY_SNIPPET,
            "signature_header": SIGNATURE_HEADER,
            "changes": setting_changes_list(setting=svc.SETTING, object_id=subscriber.pk),
        },
    )


def _back_to_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """The subscriber's page, with the log's filters and page it was posted from (only those)."""
    given = QueryDict(request.POST.get("back", ""))
    kept = QueryDict(mutable=True)
    for name in LOG_PARAMETERS:
        value = given.get(name, "")
        if value and len(value) <= 40 and value.isprintable():
            kept[name] = value
    url = reverse("webhooks:detail", args=[pk])
    return redirect(f"{url}?{kept.urlencode()}#log" if kept else f"{url}#log")


@require_POST
@permission_required(MANAGE, raise_exception=True)
def subscriber_pause(request: HttpRequest, pk: int) -> HttpResponse:
    subscriber = svc.subscriber_pause(subscriber_id=_subscriber(pk).pk, actor=request.user)
    messages.success(
        request, f"“{subscriber.name}” is paused: nothing is sent to it; its events wait until it is resumed."
    )
    return redirect("webhooks:detail", pk=pk)


@require_POST
@permission_required(MANAGE, raise_exception=True)
def subscriber_resume(request: HttpRequest, pk: int) -> HttpResponse:
    subscriber = svc.subscriber_resume(subscriber_id=_subscriber(pk).pk, actor=request.user)
    messages.success(request, f"“{subscriber.name}” is active again: its waiting events are sent now.")
    return redirect("webhooks:detail", pk=pk)


@require_POST
@permission_required(MANAGE, raise_exception=True)
def subscriber_rotate_secret(request: HttpRequest, pk: int) -> HttpResponse:
    subscriber = svc.subscriber_secret_rotate(subscriber_id=_subscriber(pk).pk, actor=request.user)
    messages.success(
        request,
        f"“{subscriber.name}” has a new secret: deliveries are signed with it from now on. "
        "Give it to the receiving system; the old one no longer verifies.",
    )
    return redirect("webhooks:detail", pk=pk)


@require_POST
@permission_required(MANAGE, raise_exception=True)
def subscriber_delete(request: HttpRequest, pk: int) -> HttpResponse:
    subscriber = _subscriber(pk)
    svc.subscriber_delete(subscriber_id=subscriber.pk, actor=request.user)
    messages.success(request, f"Subscriber “{subscriber.name}” and its delivery log are deleted.")
    return redirect("webhooks:list")


@require_POST
@permission_required(MANAGE, raise_exception=True)
def delivery_redeliver(request: HttpRequest, pk: int, delivery_id: int) -> HttpResponse:
    if not Delivery.objects.filter(pk=delivery_id, subscriber_id=_subscriber(pk).pk).exists():
        raise Http404(f"Subscriber {pk} has no delivery {delivery_id}.")
    delivery = svc.delivery_redeliver(delivery_id=delivery_id, actor=request.user)
    messages.success(request, f"Event #{delivery.sequence} is queued to be sent again now.")
    return _back_to_detail(request, pk)
