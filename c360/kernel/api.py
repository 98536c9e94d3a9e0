"""What every API view shares: permissions named like the UI's, one error shape, pagination.

Errors are always ``{"detail": "…", "errors": {field: [messages]}}`` (``errors`` only for
validation errors), whatever raised them."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import exceptions, parsers, serializers
from rest_framework.pagination import CursorPagination
from rest_framework.permissions import BasePermission
from rest_framework.renderers import TemplateHTMLRenderer
from rest_framework.views import exception_handler

from c360.kernel.params import ID_MAX, BadParameter, parse_id, query_problems


def has_perms(*perms: str) -> type[BasePermission]:
    """A permission class requiring the Django permissions the matching UI pages require."""

    class HasPerms(BasePermission):
        message = f"Your role does not allow this (needs {', '.join(perms)})."

        def has_permission(self, request, view) -> bool:
            return bool(request.user and request.user.is_authenticated and request.user.has_perms(perms))

    return HasPerms


def validation(exc: DjangoValidationError) -> exceptions.ValidationError:
    """A service's ValidationError as the API's 400 (field → messages)."""
    if hasattr(exc, "error_dict"):
        return exceptions.ValidationError(
            {field: [m for e in errors for m in e.messages] for field, errors in exc.error_dict.items()}
        )
    return exceptions.ValidationError({"non_field_errors": exc.messages})


def api_exception_handler(exc: Exception, context: dict[str, Any]):
    request = context.get("request")
    if (
        isinstance(exc, exceptions.NotAuthenticated)
        and request is not None
        and isinstance(getattr(request, "accepted_renderer", None), TemplateHTMLRenderer)
    ):
        # The API's HTML pages (its docs) send a visitor who is not signed in to the sign-in
        # page, as every other page does; the schema itself answers 401.
        return redirect_to_login(request.get_full_path())
    if isinstance(exc, BadParameter):  # c360.kernel.params: a bad id or text in a parameter
        exc = exceptions.ValidationError({exc.name: [f"{exc.problem}."]})
    elif isinstance(exc, DjangoValidationError):  # a service refused: the one place it becomes a 400
        exc = validation(exc)
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


class IdField(serializers.IntegerField):
    """An id in a request body: a whole number a database column can hold, written with the
    digits 0-9 (``"٣"`` or ``10**30`` is a 400 naming the field, not a database error)."""

    def __init__(self, **kwargs) -> None:
        kwargs.setdefault("min_value", 1)
        kwargs.setdefault("max_value", ID_MAX)
        super().__init__(**kwargs)

    def to_internal_value(self, data):
        try:
            return parse_id(
                data,
                name=self.field_name or "id",
                required=True,
                minimum=self.min_value,
                maximum=self.max_value,
            )
        except BadParameter as exc:
            raise serializers.ValidationError(f"{exc.problem}.") from None


def _nul_path(data) -> str | None:
    """Where a NUL character sits in parsed JSON (``mapping.name``), or None. Iterative: the
    depth of the document is not bounded by Python's stack."""
    stack = [(data, "")]
    while stack:
        value, path = stack.pop()
        if isinstance(value, str):
            if "\x00" in value:
                return path or "body"
        elif isinstance(value, dict):
            for key, item in value.items():
                if "\x00" in key:
                    return f"{path}.{key!r}" if path else repr(key)
                stack.append((item, f"{path}.{key}" if path else key))
        elif isinstance(value, list):
            stack.extend((item, f"{path}[{i}]") for i, item in enumerate(value))
    return None


class JSONField(serializers.JSONField):
    """DRF's JSONField, refusing what :class:`JSONParser` refuses in a body: nesting too deep to
    read and a NUL character. A multipart or form request sends the value as JSON text, which
    no parser has read yet (``{"source_key": [[[[…]]]]}`` 5,000 levels deep was a 500)."""

    def to_internal_value(self, data):
        try:
            value = super().to_internal_value(data)
        except RecursionError:
            raise serializers.ValidationError("the JSON is nested too deeply to read.") from None
        where = _nul_path(value)
        if where is not None:
            where = "" if where == "body" else f"{where} "
            raise serializers.ValidationError(
                f"{where}contains a NUL character (\\u0000), which text may not contain."
            )
        return value


class JSONParser(parsers.JSONParser):
    """DRF's JSON parser, refusing what no field may hold wherever it is in the body: a NUL
    character (``\\u0000``; PostgreSQL refuses it in text and in jsonb), and nesting too deep to
    read (a 400, not a RecursionError)."""

    def parse(self, stream, media_type=None, parser_context=None):
        try:
            data = super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise exceptions.ParseError("JSON parse error - the document is nested too deeply.") from None
        where = _nul_path(data)
        if where is not None:
            raise exceptions.ParseError(
                f"JSON parse error - {where} contains a NUL character (\\u0000), which text may not contain."
            )
        return data


class FormParser(parsers.FormParser):
    """DRF's form parser, refusing a NUL character in any field (a 400 naming it): a related
    field looked up by name would reach PostgreSQL with it."""

    def parse(self, stream, media_type=None, parser_context=None):
        data = super().parse(stream, media_type, parser_context)
        problems = query_problems(data)
        if problems:
            name, problem = next(iter(problems.items()))
            raise exceptions.ParseError(f"Form parse error - {name}: {problem}")
        return data


class MultiPartParser(parsers.MultiPartParser):
    """DRF's multipart parser (uploads: the request's upload handlers still apply), refusing a
    NUL character in any field other than the files."""

    def parse(self, stream, media_type=None, parser_context=None):
        parsed = super().parse(stream, media_type, parser_context)
        problems = query_problems(parsed.data)
        if problems:
            name, problem = next(iter(problems.items()))
            raise exceptions.ParseError(f"Multipart form parse error - {name}: {problem}")
        return parsed
