"""What every API view shares: permissions named like the UI's, one error shape, pagination.

Errors are always ``{"detail": "…", "errors": {field: [messages]}}`` (``errors`` only for
validation errors), whatever raised them."""

from __future__ import annotations

from typing import Any

import django_filters
from django import forms
from django.contrib.auth.views import redirect_to_login
from rest_framework import exceptions
from rest_framework.pagination import CursorPagination
from rest_framework.permissions import BasePermission
from rest_framework.renderers import TemplateHTMLRenderer
from rest_framework.views import exception_handler


def has_perms(*perms: str) -> type[BasePermission]:
    """A permission class requiring the Django permissions the matching UI pages require."""

    class HasPerms(BasePermission):
        message = f"Your role does not allow this (needs {', '.join(perms)})."

        def has_permission(self, request, view) -> bool:
            return bool(request.user and request.user.is_authenticated and request.user.has_perms(perms))

    return HasPerms


def api_exception_handler(exc: Exception, context: dict[str, Any]):
    request = context.get("request")
    if (isinstance(exc, exceptions.NotAuthenticated) and request is not None
            and isinstance(getattr(request, "accepted_renderer", None), TemplateHTMLRenderer)):
        # The API's HTML pages (its docs) send a visitor who is not signed in to the sign-in
        # page, as every other page does; the schema itself answers 401.
        return redirect_to_login(request.get_full_path())
    response = exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, exceptions.ValidationError):
        errors = exc.detail if isinstance(exc.detail, dict) else {"non_field_errors": exc.detail}
        first = next(iter(errors.items()), None)
        summary = f"{first[0]}: {' '.join(map(str, first[1]))}" if first else "invalid input"
        response.data = {"detail": f"Invalid input — {summary}", "errors": errors}
    elif isinstance(response.data, dict) and "detail" in response.data:
        response.data = {"detail": str(response.data["detail"])}
    return response


class IdCursorPagination(CursorPagination):
    """Stable pages over a growing table: ordered by id, so rows added between pages are not
    missed or repeated."""

    ordering = "pk"
    page_size = 100
    page_size_query_param = "page_size"
    max_page_size = 1000


class IdFilter(django_filters.NumberFilter):
    """A filter on an id: a whole number a database column can hold (else a 400 naming it)."""

    field_class = forms.IntegerField

    def __init__(self, *args, **kwargs) -> None:
        kwargs.setdefault("min_value", 1)
        kwargs.setdefault("max_value", 2**63 - 1)
        super().__init__(*args, **kwargs)
