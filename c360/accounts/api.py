"""``GET /api/v1/auth-events/``: the authentication audit for other systems (a SIEM), read-only,
for whoever may see the audit page (``accounts.view_auth_audit``)."""

from __future__ import annotations

from django_filters.rest_framework import DjangoFilterBackend
from rest_framework import mixins, serializers, viewsets
from rest_framework.filters import OrderingFilter

from c360.accounts.filters import AuthEventApiFilter
from c360.accounts.models import AuthEvent
from c360.kernel.api import IdCursorPagination, has_perms


class AuthEventOut(serializers.ModelSerializer):
    user = serializers.IntegerField(
        source="user_id", allow_null=True, read_only=True, help_text="Whom it is about (their id), if known."
    )
    actor = serializers.IntegerField(
        source="actor_id",
        allow_null=True,
        read_only=True,
        help_text="The administrator who did it, when not the user.",
    )

    class Meta:
        model = AuthEvent
        fields = [
            "id",
            "kind",
            "at",
            "user",
            "username",
            "actor",
            "actor_label",
            "method",
            "client_address",
            "user_agent",
            "detail",
        ]
        read_only_fields = fields


class AuthEventViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    """Sign-ins, failures, lockouts, sign-outs, second factors, role changes from the identity
    provider, sessions ended and API tokens created or revoked: who, when, from where. Pages by
    cursor in the order of ids (oldest first; ``ordering=-id`` for newest first), so a reader
    polling for new entries misses none."""

    queryset = AuthEvent.objects.all()
    serializer_class = AuthEventOut
    pagination_class = IdCursorPagination
    filterset_class = AuthEventApiFilter
    filter_backends = [DjangoFilterBackend, OrderingFilter]
    ordering_fields = ["id"]
    permission_classes = [has_perms("accounts.view_auth_audit")]
