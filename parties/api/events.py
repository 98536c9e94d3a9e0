"""``GET /api/v1/events/``: the change-event feed for systems that cannot receive webhooks.

A reader keeps the last id it processed and asks ``?after=<id>``; ids only grow and an event
never appears below an id already read (see ``ChangeEvent``), so polling misses nothing.
Delivery to a reader is at least once: it may see an event again after a crash of its own
before it stored the id, and should ignore ids it already processed."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from c360.kernel.api import has_perms
from c360.kernel.params import BadParameter, parse_id
from parties.models import ChangeEventType
from parties.selectors_events import FEED_LIMIT, FEED_LIMIT_MAX, change_events_after

PARAMETERS = {"after", "type", "party", "limit"}


class ChangeEventOut(serializers.Serializer):
    id = serializers.IntegerField(help_text="The event id: ids only grow; dedupe by it.")
    type = serializers.ChoiceField(choices=ChangeEventType.choices)
    party_id = serializers.IntegerField(help_text="The party it is about (a merge's survivor).")
    party_ids = serializers.ListField(
        child=serializers.IntegerField(), help_text="Every party it is about (merged, restored, new)."
    )
    occurred_at = serializers.DateTimeField()
    actor = serializers.CharField(help_text="A user name, 'import #N', a rule, or 'system'.")
    data = serializers.DictField(help_text="Ids, statuses and field names; never a customer's values.")


class FeedOut(serializers.Serializer):
    events = ChangeEventOut(many=True)
    last_id = serializers.IntegerField(help_text="Ask next with after=last_id.")
    has_more = serializers.BooleanField(help_text="More events are waiting: ask again at once.")


class ChangeEventFeed(APIView):
    """Change events after a cursor, oldest first (see the module's docstring)."""

    permission_classes = [has_perms("parties.view_changeevent")]

    @extend_schema(
        parameters=[
            OpenApiParameter("after", int, description="Events with an id above this (default 0)."),
            OpenApiParameter(
                "type",
                str,
                many=True,
                enum=ChangeEventType.values,
                description="Only these types (repeat the parameter for several).",
            ),
            OpenApiParameter("party", int, description="Only events about this party."),
            OpenApiParameter(
                "limit", int, description=f"At most this many (default {FEED_LIMIT}, max {FEED_LIMIT_MAX})."
            ),
        ],
        responses=FeedOut,
    )
    def get(self, request):
        unknown = sorted(set(request.query_params) - PARAMETERS)
        if unknown:
            raise BadParameter(unknown[0], f"unknown parameter (known: {', '.join(sorted(PARAMETERS))})")
        after = parse_id(request.query_params.get("after"), name="after", minimum=0) or 0
        party = parse_id(request.query_params.get("party"), name="party")
        limit = (
            parse_id(request.query_params.get("limit"), name="limit", maximum=FEED_LIMIT_MAX) or FEED_LIMIT
        )
        types = request.query_params.getlist("type")
        bad = [t for t in types if t not in ChangeEventType.values]
        if bad:
            raise BadParameter(
                "type", f"{bad[0]!r} is not an event type (known: {', '.join(ChangeEventType.values)})"
            )
        page = change_events_after(after=after, types=types, party_id=party, limit=limit)
        return Response(FeedOut(page).data)
