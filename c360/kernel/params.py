"""Reading ids and free text from URL parameters, form fields and API bodies.

Python's ``str.isdigit()`` accepts characters ``int()`` refuses (``²``), ``int()`` accepts
digits of other scripts (``٣``) and numbers no database column holds (``10**30``), and
PostgreSQL refuses text with a NUL character. Every id and every piece of free text that comes
from a request goes through one of these functions, which refuse all of that with a message
naming the parameter: ``BadParameter`` is a ``BadRequest``, so a page that does not catch it
answers 400 with that message (and the API its usual error shape).
"""

from __future__ import annotations

from collections.abc import Iterable

from django.core.exceptions import BadRequest

ID_MAX = 2**63 - 1  # the largest value of a bigint (PostgreSQL) or INTEGER (SQLite) column
TEXT_MAX = 2000  # free text longer than this is refused unless a caller allows more
IDS_MAX = 10_000  # ids in one parameter list


class BadParameter(BadRequest):
    """A parameter that cannot be used, and why: ``source: '²' is not a whole number …``."""

    def __init__(self, name: str, problem: str) -> None:
        self.name, self.problem = name, problem
        super().__init__(f"{name}: {problem}.")


def _shown(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:36] + "…" + text[-1]


def parse_id(
    value: object, *, name: str, required: bool = False, minimum: int = 1, maximum: int = ID_MAX
) -> int | None:
    """A whole number written with the digits 0-9 (an int from a JSON body is taken as it is),
    between ``minimum`` and ``maximum`` (by default an id a database column can hold). Empty or
    missing: None, unless ``required``."""
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            raise BadParameter(name, "this parameter is required")
        return None
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        raise BadParameter(name, f"{_shown(value)} is not a whole number")
    if isinstance(value, str):
        text = value.strip()
        digits = text[1:] if text[:1] == "-" and minimum < 0 else text
        if not (digits.isascii() and digits.isdigit()):
            raise BadParameter(name, f"{_shown(value)} is not a whole number written with the digits 0-9")
        if len(digits.lstrip("0")) > len(str(max(abs(minimum), abs(maximum)))):
            raise BadParameter(name, f"{_shown(value)} is out of range ({minimum} to {maximum})")
        value = int(text)
    if not minimum <= value <= maximum:
        raise BadParameter(name, f"{_shown(value)} is out of range ({minimum} to {maximum})")
    return value


def parse_ids(values: Iterable[object], *, name: str, limit: int = IDS_MAX) -> list[int]:
    """Every value a whole number (see ``parse_id``; empty ones skipped), in order, without
    repeats; refused as a whole if one is not."""
    ids: list[int] = []
    for value in values:
        number = parse_id(value, name=name)
        if number is not None and number not in ids:
            ids.append(number)
            if len(ids) > limit:
                raise BadParameter(name, f"more than {limit} ids")
    return ids


def text_problem(value: str, *, max_length: int | None = TEXT_MAX) -> str | None:
    """Why ``value`` cannot be stored or searched as text (a NUL character, too long), or None."""
    if "\x00" in value:
        return "contains a NUL character (\\x00), which text may not contain"
    if max_length is not None and len(value) > max_length:
        return f"is {len(value):,} characters long; at most {max_length:,} are allowed"
    return None


def parse_text(
    value: object, *, name: str, max_length: int | None = TEXT_MAX, required: bool = False, strip: bool = True
) -> str:
    """Free text without NUL characters and at most ``max_length`` characters (None: any length);
    missing: ``""``, unless ``required``."""
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise BadParameter(name, f"{_shown(value)} is not text")
    if strip:
        value = value.strip()
    problem = text_problem(value, max_length=max_length)
    if problem:
        raise BadParameter(name, problem)
    if required and not value:
        raise BadParameter(name, "this parameter is required")
    return value


def query_problems(data) -> dict[str, str]:
    """For a ``QueryDict`` (query string or form): each parameter whose name or value contains a
    NUL character, which no page or API accepts, with what is wrong (names of 40 characters
    or more are shortened)."""
    problems = {}
    for key, values in data.lists():
        shown = key if len(key) <= 40 else key[:36] + "…"
        if "\x00" in key:
            problems[repr(shown)] = "a parameter name may not contain a NUL character (\\x00)."
        elif any("\x00" in value for value in values if isinstance(value, str)):
            problems[shown] = "contains a NUL character (\\x00), which text may not contain."
    return problems


class QueryStringCheckMiddleware:
    """Refuses, with a 400 naming the parameter, a query string with a NUL character: no page,
    filter or API list accepts one, and PostgreSQL would refuse the search or lookup it reaches
    (Django's admin and django-filter included). Bodies are checked by the pages' forms and
    ``parse_text``, and by the API's parsers (c360.kernel.api); reading a body here would consume an
    upload before its view sets its size limit."""

    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request):
        if "%00" in request.META.get("QUERY_STRING", "") or "\x00" in request.META.get("QUERY_STRING", ""):
            problems = query_problems(request.GET)
            if problems:
                text = " ".join(f"{name}: {problem}" for name, problem in problems.items())
                if request.path.startswith("/api/"):  # the API's error shape, by parameter
                    from django.http import JsonResponse

                    return JsonResponse(
                        {
                            "detail": f"Invalid input — {text}",
                            "errors": {name: [problem] for name, problem in problems.items()},
                        },
                        status=400,
                    )
                return _bad_request_page(request, BadRequest(text))
        return self.get_response(request)

    def process_exception(self, request, exception):
        """A parameter a page cannot use gets the 400 page naming it — with ``DEBUG`` on too,
        where Django would otherwise show its technical page (whose inline scripts the CSP
        blocks) to someone who only mistyped an address."""
        if isinstance(exception, BadParameter):
            return _bad_request_page(request, exception)
        return None


def _bad_request_page(request, exception: BadRequest):
    from django.shortcuts import render

    return render(request, "errors/400.html", {"problem": str(exception)}, status=400)


class IdConverter:
    """``<id:pk>`` in a URL: digits 0-9 of an id a database column can hold. Anything else
    (``10**30``) matches no URL, so it is a 404 like any id that does not exist, never a
    database error. Registered as ``id`` by c360.urls, before any app's URLs are read."""

    regex = "[0-9]{1,19}"

    def to_python(self, value: str) -> int:
        number = int(value)
        if number > ID_MAX:
            raise ValueError(f"{value} is not an id")
        return number

    def to_url(self, value: object) -> str:
        return str(value)
