"""Sessions (issue 20, item 4): an idle timeout and an absolute lifetime, and "sign out
everywhere" for a user and for an administrator acting on a user. Time passes by moving the
timestamps a session holds, not by sleeping."""

from __future__ import annotations

from datetime import timedelta
from importlib import import_module

import pytest
from django.conf import settings as django_settings
from django.contrib.auth.models import Group, User
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from c360.accounts.models import AuthEvent, AuthEventKind, UserSession
from c360.accounts.services import SEEN, STARTED
from c360.api_tokens import api_token_create

pytestmark = pytest.mark.django_db

LOGIN = "/accounts/login/"
HOME = "/"
SECURITY = "/accounts/security/"


def _signed_in_client(username, address="198.51.100.4", agent="Browser/1") -> Client:
    client = Client(HTTP_USER_AGENT=agent, REMOTE_ADDR=address)
    response = client.post(LOGIN, {"username": username, "password": "pw-for-tests"})
    assert response.status_code == 302, response.content[:500]
    return client


def _is_signed_in(client) -> bool:
    response = client.get(HOME)
    return response.status_code == 200


def _age(client, *, started_ago=None, seen_ago=None) -> None:
    """Move the session's clock: it started / was last seen that long ago."""
    session = client.session
    now = timezone.now().timestamp()
    if started_ago is not None:
        session[STARTED] = now - started_ago.total_seconds()
    if seen_ago is not None:
        session[SEEN] = now - seen_ago.total_seconds()
    session.save()


def _store_has(key: str) -> bool:
    return import_module(django_settings.SESSION_ENGINE).SessionStore().exists(key)


def test_a_sign_in_registers_its_session(steward):
    client = _signed_in_client("t-steward", agent="Firefox/140")
    row = UserSession.objects.get(user=steward)
    assert row.session_key == client.session.session_key  # the key login() rotated to
    assert (
        row.method == "password" and row.client_address == "198.51.100.4" and row.user_agent == "Firefox/140"
    )


def test_a_sign_in_clears_the_users_rows_of_sessions_past_their_limits(steward, marketer):
    abandoned = _signed_in_client("t-steward")
    other_person = _signed_in_client("t-marketing")
    UserSession.objects.update(last_seen_at=timezone.now() - timedelta(hours=2))
    _signed_in_client("t-steward")
    assert not UserSession.objects.filter(session_key=abandoned.session.session_key).exists()
    assert UserSession.objects.filter(user=steward).count() == 1
    assert UserSession.objects.filter(user=marketer).count() == 1  # not the steward's to clear
    _age(abandoned, seen_ago=timedelta(hours=2))
    assert not _is_signed_in(abandoned)  # and the abandoned session itself is over
    assert other_person


def test_signing_out_deletes_the_sessions_row(steward):
    client = _signed_in_client("t-steward")
    client.post("/accounts/logout/")
    assert not UserSession.objects.filter(user=steward).exists()


def test_an_idle_session_ends_with_a_message_on_the_sign_in_page(steward, settings):
    settings.C360_SESSION_IDLE_MINUTES = 30
    client = _signed_in_client("t-steward")
    _age(client, seen_ago=timedelta(minutes=29))
    assert _is_signed_in(client)  # 29 minutes: still on

    _age(client, seen_ago=timedelta(minutes=31))
    response = client.get(HOME, follow=True)
    assert response.redirect_chain[-1][0].startswith(LOGIN)
    assert "Your session ended after 30 minutes without activity" in response.content.decode()
    assert not _is_signed_in(client)
    [expired] = AuthEvent.objects.filter(kind=AuthEventKind.SESSION_EXPIRED)
    assert expired.user == steward and "idle" in expired.detail
    assert not AuthEvent.objects.filter(kind=AuthEventKind.SIGN_OUT).exists()  # recorded as expired only
    assert not UserSession.objects.filter(user=steward).exists()


def test_a_busy_session_ends_at_its_absolute_lifetime(steward, settings):
    settings.C360_SESSION_MAX_HOURS = 8
    client = _signed_in_client("t-steward")
    _age(client, started_ago=timedelta(hours=7, minutes=59), seen_ago=timedelta(seconds=1))
    assert _is_signed_in(client)
    _age(client, started_ago=timedelta(hours=8, minutes=1), seen_ago=timedelta(seconds=1))
    response = client.get(HOME, follow=True)
    assert "Your session ended after 8 hours" in response.content.decode()
    assert AuthEvent.objects.get(kind=AuthEventKind.SESSION_EXPIRED).detail == "older than 8 hours"


def test_last_seen_is_written_at_most_once_a_minute(steward):
    client = _signed_in_client("t-steward")
    row = UserSession.objects.get(user=steward)
    UserSession.objects.filter(pk=row.pk).update(last_seen_at=row.last_seen_at - timedelta(hours=1))
    client.get(HOME)  # within the minute: no write
    assert UserSession.objects.get(pk=row.pk).last_seen_at < row.last_seen_at
    _age(client, seen_ago=timedelta(seconds=61))
    client.get(HOME)
    assert UserSession.objects.get(pk=row.pk).last_seen_at >= row.last_seen_at


def test_a_session_whose_key_changes_keeps_its_row(steward):
    client = _signed_in_client("t-steward")
    old_key = client.session.session_key
    session = client.session
    session.cycle_key()  # as a password change does (update_session_auth_hash)
    session.save()
    client.cookies[django_settings.SESSION_COOKIE_NAME] = session.session_key
    assert _is_signed_in(client)
    [row] = UserSession.objects.filter(user=steward)
    assert row.session_key == session.session_key != old_key


def test_the_security_page_lists_ones_own_sessions_only(steward, marketer):
    mine = _signed_in_client("t-steward", address="198.51.100.1", agent="Laptop/1")
    _signed_in_client("t-steward", address="198.51.100.2", agent="Phone/2")
    _signed_in_client("t-marketing", address="198.51.100.3", agent="Other/3")
    page = mine.get(SECURITY)
    assert page.status_code == 200
    text = page.content.decode()
    assert "Laptop/1" in text and "Phone/2" in text and "Other/3" not in text
    assert "this session" in text


def test_sign_out_other_sessions_keeps_this_one(steward):
    here = _signed_in_client("t-steward")
    there = _signed_in_client("t-steward", address="203.0.113.50")
    here.post(reverse("accounts:security_sign_out"), {"scope": "others"})
    assert _is_signed_in(here)
    response = there.get(HOME)
    assert response.status_code == 302 and response["Location"].startswith(LOGIN)
    assert list(UserSession.objects.filter(user=steward).values_list("session_key", flat=True)) == [
        here.session.session_key
    ]
    event = AuthEvent.objects.get(kind=AuthEventKind.SESSIONS_ENDED)
    assert event.user == steward and event.actor is None and event.detail == "1 session ended, this one kept"


def test_sign_out_everywhere_ends_every_session_and_not_another_users(steward, marketer):
    here = _signed_in_client("t-steward")
    there = _signed_in_client("t-steward", address="203.0.113.50")
    other_person = _signed_in_client("t-marketing")
    other_key = other_person.session.session_key
    response = here.post(reverse("accounts:security_sign_out"), {"scope": "all"}, follow=True)
    assert "signed out everywhere" in response.content.decode()
    assert not _is_signed_in(here) and not _is_signed_in(there)
    assert not UserSession.objects.filter(user=steward).exists()
    # the other person is untouched
    assert _is_signed_in(other_person) and _store_has(other_key)
    assert UserSession.objects.filter(user=marketer, session_key=other_key).exists()
    assert AuthEvent.objects.get(kind=AuthEventKind.SESSIONS_ENDED).detail == "2 sessions ended"
    assert not AuthEvent.objects.filter(kind=AuthEventKind.SIGN_OUT).exists()


def test_an_administrator_signs_a_user_out_everywhere(steward, marketer, administrator):
    victim_a = _signed_in_client("t-steward")
    victim_b = _signed_in_client("t-steward", address="203.0.113.60")
    bystander = _signed_in_client("t-marketing")
    admin = _signed_in_client("t-admin")
    page = admin.get(reverse("accounts:user_sessions", args=[steward.pk]))
    assert page.status_code == 200 and 'data-testid="sign-out-everywhere"' in page.content.decode()
    admin.post(reverse("accounts:user_sessions", args=[steward.pk]), REMOTE_ADDR="192.0.2.77")
    assert not _is_signed_in(victim_a) and not _is_signed_in(victim_b)
    assert _is_signed_in(bystander) and _is_signed_in(admin)
    event = AuthEvent.objects.get(kind=AuthEventKind.SESSIONS_ENDED)
    assert event.user == steward and event.actor == administrator and event.method == "admin"
    assert event.detail == "2 sessions ended"


def test_the_admin_action_signs_users_out_everywhere(steward, marketer):
    victim = _signed_in_client("t-steward")
    bystander = _signed_in_client("t-marketing")
    superuser = User.objects.create_superuser("root", password="pw-for-tests")
    admin = Client()
    admin.force_login(superuser)
    response = admin.post(
        reverse("admin:auth_user_changelist"),
        {"action": "sign_out_everywhere", "_selected_action": [steward.pk]},
        follow=True,
    )
    assert "Signed out everywhere: t-steward (1 session ended)." in response.content.decode()
    assert not _is_signed_in(victim) and _is_signed_in(bystander)
    assert AuthEvent.objects.get(kind=AuthEventKind.SESSIONS_ENDED).actor == superuser


def test_a_non_administrator_cannot_end_another_users_sessions(steward, marketer):
    victim = _signed_in_client("t-marketing")
    attacker = _signed_in_client("t-steward")
    url = reverse("accounts:user_sessions", args=[marketer.pk])
    assert attacker.get(url).status_code == 403
    assert attacker.post(url).status_code == 403
    # the security page only ever ends one's own sessions, whatever is posted
    attacker.post(reverse("accounts:security_sign_out"), {"scope": "others", "user": marketer.pk})
    assert _is_signed_in(victim)
    assert not AuthEvent.objects.filter(kind=AuthEventKind.SESSIONS_ENDED, user=marketer).exists()


def test_an_administrator_may_not_sign_out_a_superuser(administrator):
    superuser = User.objects.create_superuser("root", password="pw-for-tests")
    root = _signed_in_client("root")
    admin = _signed_in_client("t-admin")
    assert admin.post(reverse("accounts:user_sessions", args=[superuser.pk])).status_code == 403
    assert _is_signed_in(root)


def test_api_tokens_are_not_sessions_and_survive_sign_out_everywhere(administrator):
    _, key = api_token_create(name="crm-sync", role="Administrator", created_by=administrator)
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    here = _signed_in_client("t-admin")
    here.post(reverse("accounts:security_sign_out"), {"scope": "all"})
    assert api.get("/api/v1/parties/").status_code == 200


def test_a_session_ended_elsewhere_whose_row_is_gone_ends_at_its_next_request(steward):
    client = _signed_in_client("t-steward")
    UserSession.objects.filter(user=steward).delete()  # as "sign out everywhere" does, store aside
    _age(client, seen_ago=timedelta(seconds=61))
    assert not _is_signed_in(client)


def test_a_session_from_before_the_rows_gets_one(steward):
    client = Client()
    client.force_login(steward)
    UserSession.objects.all().delete()
    session = client.session
    for key in list(session.keys()):
        if key.startswith("_c360_"):
            del session[key]
    session.save()
    assert _is_signed_in(client)
    assert UserSession.objects.filter(user=steward, session_key=client.session.session_key).exists()


def test_two_users_at_once_never_touch_each_others_sessions(steward, marketer):
    a1, a2 = _signed_in_client("t-steward"), _signed_in_client("t-steward")
    b1, b2 = _signed_in_client("t-marketing"), _signed_in_client("t-marketing")
    b1.post(reverse("accounts:security_sign_out"), {"scope": "others"})
    a1.post(reverse("accounts:security_sign_out"), {"scope": "all"})
    assert not _is_signed_in(a1) and not _is_signed_in(a2)
    assert _is_signed_in(b1) and not _is_signed_in(b2)
    assert UserSession.objects.filter(user=marketer).count() == 1
    assert not UserSession.objects.filter(user=steward).exists()


def test_the_security_page_leads_to_two_step_sign_in_and_administrators_to_the_sign_in_settings(client):
    """Nothing linked to /accounts/two-factor/ or the sign-in settings: people had to know the URLs."""
    from c360.kernel.roles import ADMINISTRATOR, MARKETING
    from tests.factories import UserFactory

    marketing = UserFactory(username="mia")
    marketing.groups.add(Group.objects.get(name=MARKETING))
    client.force_login(marketing)
    page = client.get("/accounts/security/").content.decode()
    assert 'href="/accounts/two-factor/"' in page and "Set up two-step sign-in" in page
    assert "sign-in-settings-link" not in page

    admin = UserFactory(username="ada")
    admin.groups.add(Group.objects.get(name=ADMINISTRATOR))
    client.force_login(admin)
    page = client.get("/accounts/security/").content.decode()
    assert 'href="/accounts/sign-in-settings/"' in page
