"""Every named URL of the project, as each role, with odd parameters — digits of other scripts
(``²``, ``٣``), numbers too large for the database, NUL characters and very long text — in the
path, the query string, form bodies and API bodies. A page may refuse them (400, a form
error, a message and a redirect, a 404), but nothing may answer 5xx.

Each request runs in a savepoint that is rolled back, so every request sees the same data
(an erasure or a merge sent by the crawl does not change what the next request finds)."""

from __future__ import annotations

import io
import json
import logging
import sys
import time

import pytest
from django.db import transaction
from django.http import QueryDict
from django.urls import NoReverseMatch, get_resolver, reverse
from django.utils.datastructures import MultiValueDict

from c360.api_tokens import api_token_create
from c360.kernel.roles import ADMINISTRATOR
from matching.models import MatchRun
from parties import models as m
from parties.services.merge import party_merge
from parties.services.outbox import party_updated_event
from tests.factories import PartyFactory, SourceRecordFactory
from tests.matching.queue_helpers import suggestion_for
from tests.parties.customers import customer_copies

HUGE = 10**30
ODD = {
    "superscript two": "²",
    "Arabic-Indic three": "٣",
    "10**30": str(HUGE),
    "NUL": "a\x00b",
    "10,000 characters": "x" * 10_000,
}
# Each parameter in turn gets these; "٣" (which int() reads as 3) goes with all of them at once.
ODD_EACH = [v for k, v in ODD.items() if k != "Arabic-Indic three"]
PATH_ODD = {"10**30": str(HUGE), "superscript two": "²", "Arabic-Indic three": "٣"}
SENTINEL = 86_753_090  # stands for an id while reversing; replaced by the real or odd value

# Pages that only the role owning them reaches; a full crawl of Django's admin (about 165 routes)
# adds nothing of ours but time, so the admin gets its changelists and change pages only.
ADMIN_KEEP = ("_changelist", "_change", "_add", ":index", ":autocomplete")
SKIP = {"logout"}  # would end the session the crawl runs in


def _routes() -> list[tuple[str, list[str]]]:
    """Every named route: (name with its namespaces, its keyword arguments)."""
    found: dict[str, list[str]] = {}

    def walk(resolver, namespace: str) -> None:
        for key in list(resolver.reverse_dict.keys()):
            if isinstance(key, str):
                for possibility, *_ in resolver.reverse_dict.getlist(key):
                    for _format, params in possibility:
                        found.setdefault(namespace + key, list(params))
        for name, (_prefix, sub) in resolver.namespace_dict.items():
            walk(sub, f"{namespace}{name}:")

    walk(get_resolver(), "")
    return sorted(
        (name, params)
        for name, params in found.items()
        if name not in SKIP and (not name.startswith("admin:") or name.endswith(ADMIN_KEEP))
    )


INT_KWARGS = {"pk", "id", "event_id", "object_id", "content_type_id"}


class World:
    """The data the crawl's normal ids point at: a customer in three copies, a merge, a
    suggestion, an import job, a segment and an API token."""

    def __init__(self, user, media) -> None:
        from consents.services.segments import segment_create
        from parties.services.imports.jobs import import_file_store, import_job_create

        copies = customer_copies()
        self.party, self.other = copies.crm, copies.shop
        self.record = m.SourceRecord.objects.filter(party=self.party).first()
        self.source = self.record.source_system
        self.email = m.ContactPointEmail.objects.filter(party=self.party).first()
        a, b = PartyFactory(), PartyFactory()
        SourceRecordFactory(party=a, source_system=self.source)
        SourceRecordFactory(party=b, source_system=self.source)
        self.merge = party_merge(party_ids=[a.pk, b.pk], survivor_id=a.pk, reason="crawl")
        self.survivor = a
        self.suggestion = suggestion_for([self.party.pk, self.other.pk])
        self.run = MatchRun.objects.first()
        content = b"id,first_name,last_name,email\n1,Ann,Lee,a@example.com\n"
        stored = import_file_store(stream=io.BytesIO(content), original_name="crawl.csv")
        self.job = import_job_create(
            source=self.source, kind="parties", stored_name=stored, original_name="crawl.csv", user=user
        )
        self.segment = segment_create(name="Crawl segment", filters={}, user=user)
        # a webhook subscriber with one delivery in its log (the merge above made no event for
        # it: it came before the subscriber)
        from c360.webhooks.models import Delivery
        from c360.webhooks.services.dispatch import webhooks_dispatch
        from c360.webhooks.services.subscribers import subscriber_create

        self.subscriber = subscriber_create(name="Crawl hook", url="https://hooks.example.com/in", actor=user)
        party_updated_event(party_id=self.party.pk, fields=["given_name"], actor=user)
        webhooks_dispatch()
        self.delivery = Delivery.objects.get(subscriber=self.subscriber)
        self.token, _ = api_token_create(name="crawl-client", role=ADMINISTRATOR)

    def path_ids(self, name: str) -> dict[str, object]:
        """The route's keyword arguments, pointing at existing rows."""
        ids: dict[str, object] = {
            "pk": self.party.pk,
            "kind": "email",
            "which": "eligible",
            "name": self.token.name,
            "app_label": "parties",
            "object_id": self.party.pk,
            "content_type_id": 1,
            "id": 1,
        }
        by_prefix = [
            (("parties:import", "api:import"), self.job.pk),
            (("parties:source_edit", "api:source-system"), self.source.pk),
            (("matching:review", "matching:suggestion", "api:suggestion"), self.suggestion.pk),
            (("matching:run_detail",), self.run.pk),
            (("consents:segment",), self.segment.pk),
            (("api:merge",), self.merge.pk),
            (("api:contact-point",), self.email.pk),
            (("parties:unmerge",), self.survivor.pk),
            (("api:webhook-delivery",), self.delivery.pk),
            (("webhooks:", "api:webhook"), self.subscriber.pk),
        ]
        for prefixes, pk in by_prefix:
            if name.startswith(prefixes):
                ids["pk"] = pk
                break
        ids["event_id"] = self.merge.pk
        ids["subscriber_id"], ids["delivery_id"] = self.subscriber.pk, self.delivery.pk
        if name == "parties:import_template":
            ids["kind"] = "parties"
        return ids

    def get_params(self, name: str) -> dict[str, str]:
        """Sensible values for every query parameter some page reads (each page ignores the
        ones it does not know)."""
        params = {
            "q": "anna",
            "page": "1",
            "source": str(self.source.pk),
            "field": "email",
            "reason": "invalid",
            "type": "order",
            "kind": "individual",
            "status": "active",
            "country": "DE",
            "order": "score",
            "score_min": "0.5",
            "score_max": "1",
            "created_after": "2026-01-01",
            "created_before": "2026-12-31",
            "assigned": "mine",
            "reachability": "none",
            "contact": "invalid_email",
            "channel": "email",
            "purpose": "newsletter",
            "on": "2026-06-01",
            "lookup": "anna@example.com",
            "source_system": self.source.name,
            "source_key": self.record.source_key,
            "name": "Anna",
            "email": "anna@example.com",
            "phone": "+491512345678",
            "postal_code": "10115",
            "updated_since": "2026-01-01T00:00:00Z",
            "created_since": "2026-01-01T00:00:00Z",
            "party": str(self.party.pk),
            "page_size": "10",
            "ordering": "id",
            "polling": "1",
            "waiting": "1",
            "p": "1",
            "o": "1",
            "format": "json",
            "lang": "en",
            "next": "/",
            "term": "an",
            "app_label": "parties",
            "model_name": "party",
            "field_name": "merged_into",
        }
        if name == "api:import-list":
            params["status"], params["kind"] = "succeeded", "parties"
        elif name == "api:suggestion-list":
            params["status"] = "pending"
        return params

    def post_bodies(self, name: str) -> list[dict]:
        """Form bodies a page's own forms send (the crawl spoils one field at a time)."""
        party, other, sugg = self.party.pk, self.other.pk, self.suggestion.pk
        bodies = {
            "parties:override": [
                {"attribute": "given_name", "value": "Anna", "reason": "typo"},
                {"attribute": "given_name", "remove": "1"},
            ],
            "parties:split": [{"records": [str(self.record.pk)], "reason": "not the same person"}],
            "parties:contact_point": [
                {
                    "action": "correct",
                    "kind": "email",
                    "point": str(self.email.pk),
                    "value": "ann@example.org",
                    "region": "DE",
                },
                {"action": "deactivate", "kind": "email", "point": str(self.email.pk), "reason": "gone"},
                {
                    "action": "add",
                    "kind": "phone",
                    "value": "+49 151 2345679",
                    "usage": "home",
                    "region": "DE",
                },
            ],
            "parties:unmerge": [{"reason": "a mistake"}],
            "parties:import_new": [{"source_system": str(self.source.pk), "kind": "parties"}],
            "matching:training_answer": [{"label": "match", "pair": "1"}],
            "matching:queue_claim": [{"q": "anna", "score_min": "0.5", "source": str(self.source.pk)}],
            "matching:queue_bulk_merge": [
                {"selected": [str(sugg)], "confirm": "no", "q": "anna"},
                {"scope": "above", "score_at_least": "0.95"},
            ],
            "matching:review_preview": [
                {"members": [str(party), str(other)], "survivor": str(party), "value_given_name": "Anna"}
            ],
            "matching:review_decide": [
                {
                    "action": "merge",
                    "members": [str(party), str(other)],
                    "survivor": str(party),
                    "value_given_name": "Anna",
                    "q": "anna",
                },
                {"action": "reject_member", "party": str(other)},
            ],
            "matching:suggestion_reject": [{"party": str(other), "page": "2"}],
            "consents:consent_change": [
                {"set": "email|newsletter|opt_out", "capture_source": "phone call", "evidence": "ticket 12"}
            ],
            "consents:preferences_change": [
                {
                    "capture_source": "phone call",
                    "preferred_language": "de",
                    "interests": "running",
                    "preferred_channel": "email",
                    "contact_frequency": "monthly",
                    "do_not_profile": "on",
                }
            ],
            "consents:erase": [{"request_reference": "PRIV-1", "confirm": str(party)}],
            "consents:segment_create": [
                {
                    "name": "New one",
                    "description": "d",
                    "country": "DE",
                    "source_system": str(self.source.pk),
                    "ltv_min": "1",
                    "orders_min": "1",
                    "consent_channel": "email",
                    "consent_purpose": "1",
                }
            ],
            "api_tokens": [{"name": "crm-sync", "role": ADMINISTRATOR}],
            "webhooks:create": [
                {"name": "Crawl 2", "url": "https://two.example.com/in", "event_types": "party.updated"}
            ],
            "webhooks:edit": [
                {"name": "Crawl hook", "url": "https://hooks.example.com/in", "event_types": "party.merged"}
            ],
            "login": [{"username": "t-steward", "password": "wrong"}],
        }
        bodies["consents:segment_edit"] = bodies["consents:segment_create"]
        return bodies.get(name, [{}])

    def api_bodies(self, name: str) -> list[tuple[str, dict]]:
        """(method, JSON body) the API's writes take."""
        return {
            "api:party-contact-points": [
                ("post", {"kind": "email", "value": "x@example.com", "usage": "home", "region": "DE"})
            ],
            "api:contact-point-detail": [
                ("patch", {"value": "y@example.com", "region": "DE", "verified": True})
            ],
            "api:contact-point-deactivate": [("post", {"reason": "gone"})],
            "api:merge-unmerge": [("post", {"reason": "a mistake"})],
            "api:suggestion-decide": [
                (
                    "post",
                    {
                        "decision": "merge",
                        "survivor_id": self.party.pk,
                        "party_ids": [self.party.pk, self.other.pk],
                    },
                ),
                ("post", {"decision": "not_a_match", "party_id": self.other.pk}),
            ],
            "api:party-consents": [
                (
                    "post",
                    {
                        "channel": "email",
                        "purpose": "newsletter",
                        "status": "opt_out",
                        "capture_source": "web form",
                        "evidence": "e",
                    },
                )
            ],
            "api:party-preferences": [
                (
                    "patch",
                    {
                        "do_not_profile": True,
                        "preferred_language": "de",
                        "interests": ["running"],
                        "capture_source": "web form",
                    },
                )
            ],
            "api:party-erasure": [("post", {"request_reference": "PRIV-1", "confirm": self.party.pk})],
            "api:webhook-list": [
                (
                    "post",
                    {
                        "name": "Crawl 3",
                        "url": "https://three.example.com/in",
                        "event_types": ["party.split"],
                    },
                )
            ],
            "api:webhook-detail": [("patch", {"name": "Crawl hook", "event_types": ["party.erased"]})],
        }.get(name, [])


class Reads:
    """Which parameter names a request reads (query string and form body alike), so that the
    crawl spoils those, one at a time, and not the many names a page ignores."""

    ALL = "*"

    def __init__(self) -> None:
        self.names: set[str] | None = None

    def install(self, monkeypatch) -> None:
        reads = self

        def note(name):
            if reads.names is not None:
                reads.names.add(name)

        # Only the request's own (immutable) dictionaries, read by our code: building one, a
        # view's copy, or items() (which looks every key up) reads every key without meaning to.
        def keyed(method):
            def wrapped(self, key, *args, **kwargs):
                caller = sys._getframe(1).f_code.co_filename
                if not self._mutable and not caller.endswith("datastructures.py"):
                    note(key)
                return method(self, key, *args, **kwargs)

            return wrapped

        def every(method):
            def wrapped(self, *args, **kwargs):
                if not self._mutable:
                    note(Reads.ALL)
                return method(self, *args, **kwargs)

            return wrapped

        for attr in ("__getitem__", "get", "getlist", "__contains__"):
            monkeypatch.setattr(QueryDict, attr, keyed(getattr(MultiValueDict, attr)))
        for attr in ("items", "dict", "keys", "__iter__"):  # not lists: copy() and urlencode() use it
            monkeypatch.setattr(QueryDict, attr, every(getattr(MultiValueDict, attr)))

    def record(self):
        reads = self

        class Recording:
            def __enter__(self):
                reads.names = set()
                return reads.names

            def __exit__(self, *exc):
                reads.names = None

        return Recording()


class Crawl:
    def __init__(self, client, role: str) -> None:
        self.client, self.role = client, role
        self.failures: list[str] = []
        self.requests = 0

    def send(self, method: str, url: str, data=None, *, as_json: bool = False) -> int | None:
        """One request in a savepoint that is rolled back; a 5xx or an exception is a failure."""
        self.requests += 1
        atomic = transaction.atomic()
        atomic._from_testcase = True  # services' durable=True blocks may run inside it, as in a test
        with atomic:
            try:
                send = getattr(self.client, method)
                if as_json:
                    response = send(url, json.dumps(data), content_type="application/json")
                else:
                    response = send(url, data or {})
                if getattr(response, "streaming", False):
                    b"".join(response.streaming_content)
                status = response.status_code
                if status >= 500:
                    self.failures.append(f"{self.role} {method.upper()} {url[:120]} {_show(data)} → {status}")
                return status
            except Exception as exc:  # noqa: BLE001 — every exception is a 500 to the user
                self.failures.append(
                    f"{self.role} {method.upper()} {url[:120]} {_show(data)} → "
                    f"{type(exc).__name__}: {str(exc)[:160]}"
                )
                return None
            finally:
                transaction.set_rollback(True)


def _json_odd(value) -> list:
    """Odd values for one field of a JSON body, by the kind of value it takes."""
    if isinstance(value, list):
        return [[HUGE], ["²"], ["٣"], ["a\x00b"], ["x" * 10_000], "a\x00b"]
    if isinstance(value, bool):
        return ["a\x00b", HUGE]
    if isinstance(value, int):
        return [HUGE, -HUGE, "²", "٣", str(HUGE), "a\x00b"]
    return [*ODD.values(), HUGE]


def _show(data) -> str:
    if not data:
        return ""
    text = json.dumps(data, ensure_ascii=True, default=str)
    return text if len(text) < 160 else text[:150] + "…"


def _url(name: str, kwargs: dict, params: list[str], spoil: dict[str, str] | None = None) -> str | None:
    values = {k: kwargs[k] for k in params}
    sentinels = {k: SENTINEL + i for i, k in enumerate(params) if k in INT_KWARGS}
    try:
        url = reverse(name, kwargs={**values, **sentinels})
    except NoReverseMatch:
        return None
    for k, sentinel in sentinels.items():
        url = url.replace(str(sentinel), str((spoil or {}).get(k, values[k])), 1)
    return url


DEEP_ROLE = "administrator"  # holds every permission the others hold (the test checks), so it goes deep
ADMIN_PATH_ROUTE = "admin:parties_party_change"  # every change page of the admin parses its id alike


def _crawl_route(crawl: Crawl, world: World, reads: Reads, name: str, params: list[str], deep: bool) -> None:
    """Every request the crawl sends to one route. The deep crawl spoils each parameter in turn
    with each odd value; the others send every parameter odd at once (one request per odd
    value), which reaches each role's own branches. Django's admin gets its pages and forms
    sent once as they are and once odd (its lists' filters every way), and the ids of one of
    its change pages spoiled."""
    kwargs = world.path_ids(name)
    url = _url(name, kwargs, params)
    if url is None:
        return
    is_api, is_admin = name.startswith("api:"), name.startswith("admin:")
    int_params = [p for p in params if p in INT_KWARGS and (not is_admin or name == ADMIN_PATH_ROUTE)]
    # The path: each id in turn odd.
    for param in int_params:
        for odd in PATH_ODD.values():
            crawl.send("get", _url(name, kwargs, params, {param: odd}))
    # The query string: sent with sensible values to learn the names the page reads, then
    # those spoiled in turn (deep), then every parameter at once.
    good = world.get_params(name)
    with reads.record() as names:
        status = crawl.send("get", url, good)
    if (status not in (403, 405, 302) or is_api) and (not is_admin or name.endswith("_changelist")):
        if deep and not is_admin:
            # A page that echoes every parameter (hidden inputs carrying the queue's filters)
            # gets one name it does not know as well.
            spoilable = (names - {Reads.ALL}) | ({"unknown"} if Reads.ALL in names else set())
            for param in sorted(spoilable):
                for odd in ODD_EACH:
                    crawl.send("get", url, {**good, param: odd})
        for odd in ODD.values():
            crawl.send("get", url, dict.fromkeys(good, odd))
    # Form bodies, one field spoiled at a time (deep) or all at once.
    for body in world.post_bodies(name):
        with reads.record() as names:
            status = crawl.send("post", url, body)
        if status in (403, 405) and not is_api:
            continue
        fields = sorted((set(body) | names) - {Reads.ALL, "csrfmiddlewaretoken"})
        if deep and not is_admin:
            for param in fields:
                for odd in ODD_EACH:
                    spoiled = [odd] if isinstance(body.get(param), list) else odd
                    crawl.send("post", url, {**body, param: spoiled})
            for param in int_params:
                for odd in PATH_ODD.values():
                    crawl.send("post", _url(name, kwargs, params, {param: odd}), body)
        else:
            for odd in ["a\x00b"] if is_admin else ODD.values():
                crawl.send("post", url, dict.fromkeys(fields, odd))
    # The API's JSON bodies, likewise.
    for method, body in world.api_bodies(name):
        if deep:
            for param, value in body.items():
                for odd in _json_odd(value):
                    crawl.send(method, url, {**body, param: odd}, as_json=True)
            for param in int_params:
                for odd in PATH_ODD.values():
                    crawl.send(method, _url(name, kwargs, params, {param: odd}), body, as_json=True)
        else:
            for odd in [*ODD.values(), HUGE]:
                crawl.send(method, url, dict.fromkeys(body, odd), as_json=True)


@pytest.mark.parametrize("role", ["steward", "marketing", "administrator"])
def test_no_url_answers_5xx_to_odd_parameters(
    role, role_client, steward, marketer, administrator, settings, tmp_path, monkeypatch
):
    # Given the data the ids point at, and a client logged in with the role
    others = steward.get_all_permissions() | marketer.get_all_permissions()
    assert others <= administrator.get_all_permissions()
    monkeypatch.setattr(logging.getLogger("django.request"), "disabled", True)  # thousands of 404s
    settings.MEDIA_ROOT = tmp_path / "media"
    world = World(administrator, settings.MEDIA_ROOT)
    reads = Reads()
    reads.install(monkeypatch)
    crawl = Crawl(role_client(role), role)
    started = time.monotonic()

    # When every route is sent odd parameters
    for name, params in _routes():
        _crawl_route(crawl, world, reads, name, params, deep=role == DEEP_ROLE)

    # Then none answered 5xx
    elapsed = time.monotonic() - started
    assert crawl.requests > 500, f"only {crawl.requests} requests: the crawl lost its routes"
    assert not crawl.failures, (
        f"{len(crawl.failures)} of {crawl.requests} requests failed "
        f"({elapsed:.0f} s):\n" + "\n".join(crawl.failures[:60])
    )


# --- the inputs that answered 500 before (issue 16, item 10), one test each ------------------

ODD_DIGITS = ["²", "٣", str(HUGE)]


@pytest.fixture
def customer(db, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    copies = customer_copies()
    return copies


def _messages(response) -> list[str]:
    return [str(m) for m in response.wsgi_request._messages]


@pytest.mark.parametrize("source", ODD_DIGITS)
def test_dashboard_issue_list_refuses_a_source_that_is_not_an_id(role_client, source):
    response = role_client("steward").get("/dashboard/issues/", {"source": source, "field": "email"})
    assert response.status_code == 400
    assert "source:" in response.content.decode()


@pytest.mark.parametrize("param", ["field", "reason"])
def test_dashboard_issue_list_refuses_nul_in_text(role_client, param):
    response = role_client("steward").get("/dashboard/issues/", {param: "email\x00"})
    assert response.status_code == 400
    assert f"{param}: contains a NUL character" in response.content.decode()


def test_search_refuses_nul_and_searches_the_beginning_of_overlong_text(role_client, customer):
    client = role_client("steward")
    refused = client.get("/parties/search/", {"q": "anna\x00"})
    assert refused.status_code == 400
    assert "q: contains a NUL character" in refused.content.decode()
    response = client.get("/parties/search/", {"q": "a" * 10_000})
    assert response.status_code == 200
    assert "only its first 200 were searched for" in response.content.decode()


@pytest.mark.parametrize("record", ODD_DIGITS)
def test_split_refuses_records_that_are_not_ids(role_client, customer, record):
    records_before = m.SourceRecord.objects.filter(party=customer.shop).count()
    response = role_client("steward").post(f"/parties/{customer.shop.pk}/split/", {"records": [record]})
    assert response.status_code == 302
    assert any("Records:" in text for text in _messages(response))
    assert m.SourceRecord.objects.filter(party=customer.shop).count() == records_before
    assert m.Party.objects.count() == 4


@pytest.mark.parametrize("point", ODD_DIGITS)
def test_contact_point_change_refuses_a_point_that_is_not_an_id(role_client, customer, point):
    email = m.ContactPointEmail.objects.filter(party=customer.crm).get()
    response = role_client("steward").post(
        f"/parties/{customer.crm.pk}/contact-points/",
        {"action": "deactivate", "kind": "email", "point": point, "reason": "gone"},
    )
    assert response.status_code == 302
    assert any("point:" in text for text in _messages(response))
    email.refresh_from_db()
    assert email.is_active


@pytest.mark.parametrize("field", ["value", "reason"])
def test_override_refuses_nul_and_saves_nothing(role_client, customer, field):
    overrides = list(m.GoldenOverride.objects.values_list("party_id", "attribute", "value"))
    body = {"attribute": "given_name", "value": "Anja", "reason": "typo", field: "Anja\x00"}
    response = role_client("steward").post(f"/parties/{customer.crm.pk}/override/", body)
    assert response.status_code == 302
    assert any(f"{field}: contains a NUL character" in text for text in _messages(response))
    assert list(m.GoldenOverride.objects.values_list("party_id", "attribute", "value")) == overrides


def test_override_of_a_party_id_too_large_for_the_database_is_not_found(role_client, customer):
    overrides = m.GoldenOverride.objects.count()
    response = role_client("steward").post(
        f"/parties/{HUGE}/override/", {"attribute": "given_name", "value": "Anja", "reason": "typo"}
    )
    assert response.status_code == 404
    assert m.GoldenOverride.objects.count() == overrides


@pytest.mark.parametrize("selected", ODD_DIGITS)
def test_bulk_merge_refuses_selected_suggestions_that_are_not_ids(role_client, customer, selected):
    suggestion = suggestion_for([customer.crm.pk, customer.shop.pk])
    response = role_client("steward").post(
        "/matching/suggestions/merge/", {"selected": [str(suggestion.pk), selected], "confirm": "yes"}
    )
    assert response.status_code == 302
    assert any("selected:" in text for text in _messages(response))
    assert m.Party.objects.filter(status=m.PartyStatus.MERGED).count() == 0


@pytest.mark.parametrize("survivor", ODD_DIGITS)
def test_review_refuses_a_survivor_that_is_not_an_id(role_client, customer, survivor):
    suggestion = suggestion_for([customer.crm.pk, customer.shop.pk])
    client = role_client("steward")
    members = [str(customer.crm.pk), str(customer.shop.pk)]
    preview = client.post(
        f"/matching/suggestions/{suggestion.pk}/preview/", {"members": members, "survivor": survivor}
    )
    assert preview.status_code == 400
    assert "survivor:" in preview.content.decode()
    decide = client.post(
        f"/matching/suggestions/{suggestion.pk}/decide/",
        {"action": "merge", "members": members, "survivor": survivor},
    )
    assert decide.status_code == 302
    assert any("Survivor:" in text for text in _messages(decide))
    assert m.Party.objects.filter(status=m.PartyStatus.MERGED).count() == 0


@pytest.mark.parametrize("page", ODD_DIGITS)
def test_reject_from_the_queue_refuses_a_page_that_is_not_a_number(role_client, customer, page):
    suggestion = suggestion_for([customer.crm.pk, customer.shop.pk])
    response = role_client("steward").post(f"/matching/suggestions/{suggestion.pk}/reject/", {"page": page})
    assert response.status_code == 400
    assert "page:" in response.content.decode()
    suggestion.refresh_from_db()
    assert suggestion.status == "pending"


@pytest.mark.parametrize(
    ("field", "value", "said"),
    [
        ("capture_source", "phone\x00call", "capture source: contains a NUL character"),
        ("evidence", "ticket\x007", "evidence: contains a NUL character"),
        ("set", "email|news\x00letter|opt_in", "Choose a channel, a purpose and a state."),
    ],
)
def test_consent_change_refuses_nul_and_records_nothing(role_client, customer, field, value, said):
    from consents.models import ConsentEvent

    body = {
        "set": "email|newsletter|opt_in",
        "capture_source": "phone call",
        "evidence": "ticket 7",
        field: value,
    }
    response = role_client("marketing").post(f"/consents/parties/{customer.crm.pk}/consent/", body)
    assert response.status_code == 302
    assert any(said in text for text in _messages(response))
    assert not ConsentEvent.objects.filter(party=customer.crm).exists()


def test_api_lookup_refuses_nul_in_source_key(customer):
    from rest_framework.test import APIClient

    from c360.kernel.roles import DATA_STEWARD

    _, key = api_token_create(name="lookup-client", role=DATA_STEWARD)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    response = client.get("/api/v1/parties/lookup/", {"source_system": "CRM", "source_key": "C-1\x00"})
    assert response.status_code == 400
    assert response.json()["errors"] == {
        "source_key": ["contains a NUL character (\\x00), which text may not contain."]
    }
    found = client.get("/api/v1/parties/lookup/", {"source_system": "CRM", "source_key": "C-1"})
    assert found.status_code == 200
    assert found.json()["id"] == customer.crm.pk


def test_api_refuses_ids_too_large_or_in_other_scripts_and_nul_anywhere_in_json(customer):
    from rest_framework.test import APIClient

    _, key = api_token_create(name="decide-client", role=ADMINISTRATOR)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    suggestion = suggestion_for([customer.crm.pk, customer.shop.pk])
    url = f"/api/v1/suggestions/{suggestion.pk}/decide/"
    for body in (
        {"decision": "merge", "survivor_id": HUGE},
        {"decision": "merge", "survivor_id": "٣"},
        {"decision": "merge", "party_ids": [customer.crm.pk, HUGE]},
        {"decision": "not_a_match", "party_id": "²"},
    ):
        response = client.post(url, body, format="json")
        assert response.status_code == 400, body
    response = client.post(url, {"decision": "merge", "note": {"deep": ["a\x00b"]}}, format="json")
    assert response.status_code == 400
    assert "note.deep[0] contains a NUL character" in response.json()["detail"]
    erase = client.post(
        f"/api/v1/parties/{customer.crm.pk}/erasure/",
        {"request_reference": "PRIV-1", "confirm": HUGE},
        format="json",
    )
    assert erase.status_code == 400
    assert m.Party.objects.filter(status=m.PartyStatus.MERGED).count() == 0
    assert not m.Party.objects.filter(erased_at__isnull=False).exists()


def test_a_nul_in_any_query_string_is_a_400_naming_the_parameter(role_client):
    # Django's admin search reaches PostgreSQL with it; the middleware answers first.
    response = role_client("administrator").get("/admin/parties/party/", {"q": "ann\x00"})
    assert response.status_code == 400
    assert "q: contains a NUL character" in response.content.decode()


def test_api_upload_refuses_nul_in_a_form_field(customer):
    from rest_framework.test import APIClient

    from parties.models import ImportJob

    _, key = api_token_create(name="upload-client", role=ADMINISTRATOR)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    upload = io.BytesIO(b"id,first_name\n1,Ann\n")
    upload.name = "a.csv"
    response = client.post(
        "/api/v1/imports/", {"source_system": "CRM\x00", "file": upload}, format="multipart"
    )
    assert response.status_code == 400
    assert "source_system: contains a NUL character" in response.json()["detail"]
    assert not ImportJob.objects.exists()
