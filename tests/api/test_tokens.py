"""API tokens: shown once, stored hashed, act with their role, revocable (UI and CLI)."""

from __future__ import annotations

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse
from rest_framework.test import APIClient

from c360.api_tokens import token_hash
from c360.models import ApiToken
from parties.models import PartyEvent

pytestmark = pytest.mark.django_db

PARTIES = "/api/v1/parties/"


def test_the_command_prints_a_token_once_that_works_until_revoked(capsys):
    call_command("api_token", "create", "--name", "crm-sync", "--role", "Data steward")
    key = capsys.readouterr().out.strip()
    token = ApiToken.objects.get(name="crm-sync")
    assert key.startswith("c360_") and token.key_hash == token_hash(key) and key not in str(token.__dict__)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    assert client.get(PARTIES).status_code == 200
    assert ApiToken.objects.get(name="crm-sync").last_used_at is not None

    call_command("api_token", "revoke", "--name", "crm-sync")
    refused = client.get(PARTIES)
    assert refused.status_code == 401 and "revoked" in refused.json()["detail"]
    with pytest.raises(CommandError, match="revoked already"):
        call_command("api_token", "revoke", "--name", "crm-sync")
    with pytest.raises(CommandError, match="not a role"):
        call_command("api_token", "create", "--name", "shop", "--role", "Janitor")


def test_requests_without_or_with_a_wrong_token_get_401():
    anonymous = APIClient().get(PARTIES)
    assert anonymous.status_code == 401 and anonymous["WWW-Authenticate"] == "Token"
    assert set(anonymous.json()) == {"detail"}
    wrong = APIClient()
    wrong.credentials(HTTP_AUTHORIZATION="Token c360_nope")
    assert wrong.get(PARTIES).status_code == 401 and wrong.get(PARTIES).json()["detail"] == "Invalid token."


def test_administrators_create_and_revoke_tokens_in_the_browser(role_client):
    client = role_client("administrator")
    page = client.post(reverse("api_tokens"), {"name": "webshop", "role": "Marketing"})
    key = page.context["new_key"]
    assert page.status_code == 200 and key.encode() in page.content
    assert client.get(reverse("api_tokens")).content.count(key.encode()) == 0  # shown once only
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    assert api.get(PARTIES).status_code == 200
    client.post(reverse("api_token_revoke", args=["webshop"]))
    assert api.get(PARTIES).status_code == 401
    assert role_client("steward").get(reverse("api_tokens")).status_code == 403


def test_a_token_acts_with_its_role_and_its_writes_are_audited_with_its_name(api):
    from tests.factories import PartyFactory

    party = PartyFactory()
    created = api("marketing").post(
        f"{PARTIES}{party.pk}/contact-points/", {"kind": "email", "value": "A@B.org"}
    )
    assert created.status_code == 201 and created.json()["value"] == "a@b.org"
    assert PartyEvent.objects.get(party=party).actor_label == "api:marketing-client"
    assert api("marketing").get("/api/v1/suggestions/").status_code == 403  # no merge queue for marketing


def test_requests_per_token_are_throttled(api, settings):
    settings.C360_API_RATE = "3/minute"
    from django.core.cache import cache

    cache.clear()
    client = api("steward")
    codes = [client.get(PARTIES).status_code for _ in range(4)]
    assert codes == [200, 200, 200, 429]
    assert "throttled" in client.get(PARTIES).json()["detail"].lower()
    cache.clear()
