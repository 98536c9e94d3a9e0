"""The authentication audit (issue 20, item 3): each event written with who, when and from
where; the administrators' page (filters, hostile parameters, CSV) and the API list."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from c360.accounts.audit import auth_event_record
from c360.accounts.models import AuthEvent, AuthEventKind, UserSession
from c360.api_tokens import api_token_create

pytestmark = pytest.mark.django_db

LOGIN = "/accounts/login/"
AUDIT = "/accounts/audit/"
API = "/api/v1/auth-events/"


def _sign_in(client, username, password, address="198.51.100.4", path=LOGIN):
    return client.post(
        path,
        {"username": username, "password": password},
        REMOTE_ADDR=address,
        HTTP_USER_AGENT="TestBrowser/1",
    )


def _events(kind):
    return list(AuthEvent.objects.filter(kind=kind).order_by("id"))


def test_a_sign_in_with_a_password_is_recorded_with_who_when_and_where(client, steward):
    before = timezone.now()
    assert _sign_in(client, "t-steward", "pw-for-tests").status_code == 302
    [event] = _events(AuthEventKind.SIGN_IN)
    assert event.user == steward and event.username == "t-steward" and event.method == "password"
    assert event.client_address == "198.51.100.4" and event.user_agent == "TestBrowser/1"
    assert before <= event.at <= timezone.now()


def test_a_sign_in_on_the_admins_page_is_recorded_too(client, administrator):
    response = _sign_in(client, "t-admin", "pw-for-tests", path="/admin/login/?next=/admin/")
    assert response.status_code == 302
    [event] = _events(AuthEventKind.SIGN_IN)
    assert event.user == administrator and event.detail == "the admin's sign-in page"


def test_a_failed_sign_in_records_the_username_tried_never_the_password(client, steward):
    _sign_in(client, "t-steward", "Secret-Guess-1")
    _sign_in(client, "nobody-" + "x" * 300, "Secret-Guess-2")
    known, unknown = _events(AuthEventKind.SIGN_IN_FAILED)
    assert known.user == steward and known.username == "t-steward" and known.method == "password"
    assert known.client_address == "198.51.100.4"
    assert unknown.user is None and unknown.username == ("nobody-" + "x" * 300)[:150]
    for row in AuthEvent.objects.values():
        assert "Secret-Guess" not in str(row)


def test_a_lockout_is_recorded_once_when_it_begins(client, steward, settings):
    for n in range(settings.C360_LOGIN_FAILURE_LIMIT + 5):
        _sign_in(client, "t-steward", f"guess-{n}")
    [locked] = _events(AuthEventKind.LOCKED_OUT)
    assert locked.user == steward and locked.client_address == "198.51.100.4"
    assert "15 minutes" in locked.detail
    failures = _events(AuthEventKind.SIGN_IN_FAILED)
    assert len(failures) == settings.C360_LOGIN_FAILURE_LIMIT + 5
    assert failures[-1].detail == "refused: locked out"  # tries while locked out are refused, and said so


def test_signing_out_is_recorded(client, steward):
    _sign_in(client, "t-steward", "pw-for-tests")
    client.post("/accounts/logout/", REMOTE_ADDR="198.51.100.9")
    [event] = _events(AuthEventKind.SIGN_OUT)
    assert event.user == steward and event.client_address == "198.51.100.9"


def test_tokens_created_and_revoked_on_the_page_are_recorded_with_the_administrator(
    role_client, administrator
):
    client = role_client("administrator")
    client.post("/api-tokens/", {"name": "crm-sync", "role": "Data steward"}, REMOTE_ADDR="203.0.113.8")
    client.post("/api-tokens/crm-sync/revoke/", REMOTE_ADDR="203.0.113.8")
    [created] = _events(AuthEventKind.TOKEN_CREATED)
    [revoked] = _events(AuthEventKind.TOKEN_REVOKED)
    for event in (created, revoked):
        assert event.username == "api:crm-sync" and event.actor == administrator
        assert event.actor_label == "t-admin" and event.client_address == "203.0.113.8"
        assert "c360_" not in event.detail  # never the token


def test_tokens_created_and_revoked_by_the_command_are_recorded(capsys):
    call_command("api_token", "create", "--name", "shop-feed", "--role", "Marketing")
    key = capsys.readouterr().out.strip()
    call_command("api_token", "revoke", "--name", "shop-feed")
    [created] = _events(AuthEventKind.TOKEN_CREATED)
    [revoked] = _events(AuthEventKind.TOKEN_REVOKED)
    assert created.actor_label == revoked.actor_label == "manage.py api_token"
    assert created.username == "api:shop-feed" and "Marketing" in created.detail
    for row in AuthEvent.objects.values():
        assert key not in str(row) and key[5:20] not in str(row)


# --- the page ------------------------------------------------------------------------------


def test_only_administrators_see_the_audit_page(role_client):
    assert role_client("steward").get(AUDIT).status_code == 403
    assert role_client("marketing").get(AUDIT).status_code == 403
    assert role_client("administrator").get(AUDIT).status_code == 200


def test_the_page_filters_by_user_kind_days_and_address(role_client, steward, marketer):
    old = auth_event_record(AuthEventKind.SIGN_IN, user=steward, method="password")
    AuthEvent.objects.filter(pk=old.pk).update(
        at=timezone.now() - timedelta(days=40), client_address="192.0.2.1"
    )
    auth_event_record(AuthEventKind.SIGN_IN_FAILED, username="t-marketing")
    auth_event_record(AuthEventKind.SIGN_OUT, user=steward)
    client = role_client("administrator")

    def shown(**params):
        response = client.get(AUDIT, params)
        assert response.status_code == 200
        return [e.pk for e in response.context["page"].object_list]

    all_ids = shown()
    assert len(all_ids) == 4 and all_ids == sorted(all_ids, reverse=True)  # newest first
    assert set(shown(username="MARKET")) == set(
        AuthEvent.objects.filter(username="t-marketing").values_list("pk", flat=True)
    )
    assert shown(kind="sign_out") == list(
        AuthEvent.objects.filter(kind="sign_out").values_list("pk", flat=True)
    )
    assert shown(client_address="192.0.2.") == [old.pk]
    day = (timezone.now() - timedelta(days=40)).date().isoformat()
    assert shown(since=day, until=day) == [old.pk]
    assert old.pk not in shown(since=timezone.now().date().isoformat())
    assert shown(user=steward.pk) == list(
        AuthEvent.objects.filter(user=steward).order_by("-at", "-id").values_list("pk", flat=True)
    )


@pytest.mark.parametrize(
    ("params", "named"),
    [
        ({"kind": "teleported"}, "Kind"),
        ({"since": "99999-01-01"}, "From"),
        ({"until": "10" * 30}, "To"),
        ({"user": str(10**30)}, "User id"),
        ({"user": "٣"}, "User id"),
        ({"username": "x" * 10_000}, "User"),
        ({"client_address": "1" * 65}, "Address"),
    ],
)
def test_hostile_parameters_get_a_400_naming_them(role_client, params, named):
    response = role_client("administrator").get(AUDIT, params)
    assert response.status_code == 400
    assert f"{named}:" in response.context["problem"]


def test_a_nul_in_a_parameter_is_a_400_not_a_database_error(role_client):
    response = role_client("administrator").get(AUDIT + "?username=a%00b")
    assert response.status_code == 400 and "NUL" in response.content.decode()


def test_the_last_day_of_the_calendar_is_no_error(role_client):
    assert (
        role_client("administrator").get(AUDIT, {"until": "9999-12-31", "since": "0001-01-01"}).status_code
        == 200
    )


def test_the_csv_export_is_filtered_and_formula_safe(role_client):
    auth_event_record(AuthEventKind.SIGN_IN_FAILED, username="=cmd|' /C calc'!A0")
    auth_event_record(AuthEventKind.SIGN_IN_FAILED, username="@SUM(1+1)")
    auth_event_record(AuthEventKind.SIGN_OUT, username="someone")
    response = role_client("administrator").get(AUDIT, {"kind": "sign_in_failed", "format": "csv"})
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode("utf-8-sig"))))
    assert rows[0][:3] == ["at (UTC)", "event", "username"]
    usernames = {row[2] for row in rows[1:]}
    assert usernames == {"'=cmd|' /C calc'!A0", "'@SUM(1+1)"}


def test_the_audit_cannot_be_edited_or_deleted_in_the_admin(admin_client):
    event = auth_event_record(AuthEventKind.SIGN_OUT, username="someone")
    assert admin_client.get(reverse("admin:accounts_authevent_changelist")).status_code == 200
    assert admin_client.get(reverse("admin:accounts_authevent_add")).status_code == 403
    admin_client.post(reverse("admin:accounts_authevent_delete", args=[event.pk]), {"post": "yes"})
    admin_client.post(reverse("admin:accounts_authevent_change", args=[event.pk]), {"username": "x"})
    assert AuthEvent.objects.get(pk=event.pk).username == "someone"


def test_everyones_name_leads_to_the_security_page_and_administrators_on_to_the_audit(role_client):
    steward_page = role_client("steward").get("/").content.decode()
    assert 'data-testid="nav-security"' in steward_page and AUDIT not in steward_page
    assert AUDIT not in role_client("steward").get("/accounts/security/").content.decode()
    assert AUDIT in role_client("administrator").get("/accounts/security/").content.decode()


# --- the API -------------------------------------------------------------------------------


def _api(role):
    _, key = api_token_create(name=f"{role.lower().replace(' ', '-')}-reader", role=role)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return client


def test_the_api_lists_events_for_administrators_only(steward):
    auth_event_record(AuthEventKind.SIGN_IN, user=steward, method="password")
    assert _api("Data steward").get(API).status_code == 403
    response = _api("Administrator").get(API, {"kind": "sign_in"})
    assert response.status_code == 200
    [row] = response.json()["results"]
    assert row["user"] == steward.pk and row["username"] == "t-steward" and row["kind"] == "sign_in"
    assert set(row) == {
        "id", "kind", "at", "user", "username", "actor", "actor_label", "method",
        "client_address", "user_agent", "detail",
    }  # fmt: skip


def test_the_api_filters_by_time_and_refuses_odd_values(steward):
    old = auth_event_record(AuthEventKind.SIGN_IN, user=steward)
    AuthEvent.objects.filter(pk=old.pk).update(at=timezone.now() - timedelta(days=3))
    new = auth_event_record(AuthEventKind.SIGN_OUT, user=steward)
    client = _api("Administrator")
    since = (timezone.now() - timedelta(days=1)).isoformat()
    ids = [r["id"] for r in client.get(API, {"since": since, "username": "t-steward"}).json()["results"]]
    assert ids == [new.pk]
    newest_first = [
        r["id"] for r in client.get(API, {"ordering": "-id", "user": steward.pk}).json()["results"]
    ]
    assert newest_first == [new.pk, old.pk]
    for params in (
        {"kind": "teleported"},
        {"since": "0001-01-01T00:00:00+05:00"},
        {"until": "not a time"},
        {"user": str(10**30)},
    ):
        response = client.get(API, params)
        assert response.status_code == 400, params
        assert response.json()["detail"].startswith("Invalid input")


def test_the_schema_describes_the_list(role_client):
    schema = role_client("administrator").get("/api/schema/", {"format": "json"}).json()
    operation = schema["paths"]["/api/v1/auth-events/"]["get"]
    assert {p["name"] for p in operation["parameters"]} >= {
        "kind",
        "since",
        "until",
        "username",
        "user",
        "cursor",
    }
    assert "AuthEventKindEnum" in schema["components"]["schemas"]


def test_a_company_sign_in_is_recorded_as_oidc(client, steward):
    # the way mozilla-django-oidc's callback signs in: django's login() with the OIDC backend
    client.force_login(steward, backend="c360.accounts.oidc.CompanyOIDCBackend")
    [event] = _events(AuthEventKind.SIGN_IN)
    assert event.user == steward and event.method == "oidc"
    assert UserSession.objects.get(user=steward).method == "oidc"
