"""``/api/v1/webhooks/``: webhook subscribers and their delivery logs over the API, for
administrators (``webhooks.manage_webhooks``). Thin: the services of
``services/subscribers.py`` validate and change; their refusals are 400s naming the field."""

from __future__ import annotations

from django.http import Http404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from c360.kernel.api import IdCursorPagination, has_perms
from c360.kernel.params import BadParameter
from c360.webhooks.models import Delivery, DeliveryStatus, Subscriber, SubscriberStatus
from c360.webhooks.selectors import deliveries_of, subscribers_with_counts
from c360.webhooks.services import subscribers as svc
from parties.models import ChangeEventType

MANAGE = "webhooks.manage_webhooks"
TYPES_HELP = (
    "The event types it wants (empty: all, including types added later): "
    f"{', '.join(ChangeEventType.values)}."
)


class SubscriberIn(serializers.Serializer):
    name = serializers.CharField(max_length=100, help_text="Unique (case does not matter).")
    url = serializers.CharField(
        max_length=500, help_text="http:// or https:// with a host; no user name or password in it."
    )
    event_types = serializers.ListField(
        child=serializers.CharField(max_length=40), required=False, default=list, help_text=TYPES_HELP
    )


class SubscriberOut(serializers.ModelSerializer):
    status = serializers.ChoiceField(choices=SubscriberStatus.choices, read_only=True)
    event_types = serializers.ListField(child=serializers.CharField(), help_text=TYPES_HELP)
    pending = serializers.IntegerField(read_only=True, help_text="Deliveries not yet answered with 2xx.")
    delivered = serializers.IntegerField(read_only=True)
    dead = serializers.IntegerField(read_only=True, help_text="Given up after the retry window.")

    class Meta:
        model = Subscriber
        fields = [
            "id",
            "name",
            "url",
            "event_types",
            "status",
            "pending",
            "delivered",
            "dead",
            "failing_since",
            "resume_at",
            "created_at",
            "updated_at",
        ]


class SubscriberWithSecretOut(SubscriberOut):
    secret = serializers.CharField(
        read_only=True, help_text="Signs every delivery (C360-Signature: t=…,v1=HMAC-SHA256 of 't.body')."
    )

    class Meta(SubscriberOut.Meta):
        fields = [*SubscriberOut.Meta.fields, "secret"]


class DeliveryOut(serializers.ModelSerializer):
    event_id = serializers.IntegerField(source="sequence", help_text="The event's id (as the feed gives it).")
    status = serializers.ChoiceField(choices=DeliveryStatus.choices)
    retrying = serializers.SerializerMethodField(help_text="Pending after at least one failed attempt.")

    class Meta:
        model = Delivery
        fields = [
            "id",
            "event_id",
            "event_type",
            "party_id",
            "status",
            "retrying",
            "attempts",
            "created_at",
            "next_attempt_at",
            "last_attempt_at",
            "delivered_at",
            "response_code",
            "error",
            "duration_ms",
        ]

    def get_retrying(self, delivery: Delivery) -> bool:
        return delivery.status == DeliveryStatus.PENDING and delivery.attempts > 0


class NewestFirst(IdCursorPagination):
    """The log newest first, by event id (unique in one subscriber's log): stable pages while
    deliveries are added and updated, read from the log's indexes of (subscriber, sequence) and
    (subscriber, status, sequence) — by the row's id, a status filter read 300,000 rows' worth."""

    ordering = "-sequence"


class SubscriberViewSet(
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    mixins.DestroyModelMixin,
    viewsets.ReadOnlyModelViewSet,
):
    """Webhook subscribers: register, change, pause, resume, rotate the secret, delete. The
    secret is returned when registering, reading one subscriber and rotating it."""

    lookup_value_regex = "[0-9]+"  # ids in digits 0-9 only (\d would read "٣" as 3): else a 404
    pagination_class = IdCursorPagination
    permission_classes = [has_perms(MANAGE)]
    filter_backends: list = []

    def get_queryset(self):
        return subscribers_with_counts()

    def get_serializer_class(self):
        if self.action in ("create", "update", "partial_update"):
            return SubscriberIn
        if self.action in ("retrieve", "rotate_secret"):
            return SubscriberWithSecretOut
        return SubscriberOut

    def _out(self, subscriber: Subscriber, *, secret: bool = False, code: int = status.HTTP_200_OK):
        counted = self.get_queryset().get(pk=subscriber.pk)
        serializer = SubscriberWithSecretOut if secret else SubscriberOut
        return Response(serializer(counted).data, status=code)

    @extend_schema(request=SubscriberIn, responses={201: SubscriberWithSecretOut})
    def create(self, request):
        data = SubscriberIn(data=request.data)
        data.is_valid(raise_exception=True)
        subscriber = svc.subscriber_create(actor=request.user, **data.validated_data)
        return self._out(subscriber, secret=True, code=status.HTTP_201_CREATED)

    @extend_schema(request=SubscriberIn, responses=SubscriberOut)
    def update(self, request, pk=None, partial: bool = False):
        current = self.get_object()
        data = SubscriberIn(data=request.data, partial=partial)
        data.is_valid(raise_exception=True)
        values = {
            "name": current.name,
            "url": current.url,
            "event_types": current.event_types,
            **data.validated_data,
        }
        subscriber = svc.subscriber_update(subscriber_id=current.pk, actor=request.user, **values)
        return self._out(subscriber)

    @extend_schema(request=SubscriberIn, responses=SubscriberOut)
    def partial_update(self, request, pk=None):
        return self.update(request, pk=pk, partial=True)

    def destroy(self, request, pk=None):
        svc.subscriber_delete(subscriber_id=self.get_object().pk, actor=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(request=None, responses=SubscriberOut)
    @action(detail=True, methods=["post"])
    def pause(self, request, pk=None):
        """Nothing is sent to it until it is resumed; its events wait (nothing is lost)."""
        return self._out(svc.subscriber_pause(subscriber_id=self.get_object().pk, actor=request.user))

    @extend_schema(request=None, responses=SubscriberOut)
    @action(detail=True, methods=["post"])
    def resume(self, request, pk=None):
        """Its waiting deliveries are sent now, oldest first."""
        return self._out(svc.subscriber_resume(subscriber_id=self.get_object().pk, actor=request.user))

    @extend_schema(request=None, responses=SubscriberWithSecretOut)
    @action(detail=True, methods=["post"], url_path="rotate-secret")
    def rotate_secret(self, request, pk=None):
        """A new secret, used from the next delivery on; the old one no longer verifies."""
        subscriber = svc.subscriber_secret_rotate(subscriber_id=self.get_object().pk, actor=request.user)
        return self._out(subscriber, secret=True)


SUBSCRIBER_ID = OpenApiParameter(
    "subscriber_id", OpenApiTypes.INT, OpenApiParameter.PATH, description="The subscriber's id."
)
DELIVERY_ID = OpenApiParameter(
    "id", OpenApiTypes.INT, OpenApiParameter.PATH, description="The delivery's id."
)


@extend_schema_view(
    list=extend_schema(
        parameters=[
            SUBSCRIBER_ID,
            OpenApiParameter(
                "status", str, enum=DeliveryStatus.values, description="Only deliveries in this state."
            ),
            OpenApiParameter(
                "type", str, enum=ChangeEventType.values, description="Only events of this type."
            ),
        ]
    ),
    retrieve=extend_schema(parameters=[SUBSCRIBER_ID, DELIVERY_ID]),
    redeliver=extend_schema(parameters=[SUBSCRIBER_ID, DELIVERY_ID], request=None, responses=DeliveryOut),
)
class DeliveryViewSet(viewsets.ReadOnlyModelViewSet):
    """A subscriber's delivery log, newest first: each event's status, attempts and last answer."""

    lookup_value_regex = "[0-9]+"
    serializer_class = DeliveryOut
    pagination_class = NewestFirst
    permission_classes = [has_perms(MANAGE)]
    filter_backends: list = []

    def get_queryset(self):
        subscriber_id = int(self.kwargs["subscriber_id"])
        if not Subscriber.objects.filter(pk=subscriber_id).exists():
            raise Http404(f"No webhook subscriber with id {subscriber_id}.")
        if self.action != "list":
            return Delivery.objects.filter(subscriber_id=subscriber_id)
        params = self.request.query_params
        statuses, types = params.getlist("status"), params.getlist("type")
        for name, given, known in (
            ("status", statuses, DeliveryStatus.values),
            ("type", types, ChangeEventType.values),
        ):
            bad = [value for value in given if value not in known]
            if bad:
                raise BadParameter(name, f"{bad[0][:40]!r} is not one of {', '.join(known)}")
        return deliveries_of(subscriber_id=subscriber_id, statuses=statuses, types=types)

    @action(detail=True, methods=["post"])
    def redeliver(self, request, subscriber_id=None, pk=None):
        """Send it again now (a dead one gets a new retry window)."""
        delivery = svc.delivery_redeliver(delivery_id=self.get_object().pk, actor=request.user)
        return Response(DeliveryOut(delivery).data)
