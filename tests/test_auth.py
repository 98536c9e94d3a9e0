"""Every page needs a login; the login page works; CSRF is enforced."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from tests.factories import PartyFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("path", ["/", "/parties/", "/parties/sources/", "/parties/sources/new/"])
def test_it_sends_anonymous_visitors_to_the_login_page(client, path):
    response = client.get(path)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_it_requires_a_login_for_a_party_page(client):
    party = PartyFactory()
    response = client.get(reverse("parties:detail", args=[party.pk]))
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_it_logs_a_user_in_and_out(client, steward):
    response = client.post(reverse("login"), {"username": "t-steward", "password": "pw-for-tests"})
    assert response.status_code == 302 and response["Location"] == reverse("home")
    home = client.get(reverse("home"))
    assert b"Data steward" in home.content
    client.post(reverse("logout"))
    assert client.get(reverse("home")).status_code == 302


def test_it_tells_a_user_whose_password_is_wrong(client, steward):
    response = client.post(reverse("login"), {"username": "t-steward", "password": "nope"})
    assert response.status_code == 200
    assert b"didn&#x27;t match" in response.content or b"didn't match" in response.content


def test_it_rejects_a_post_without_a_csrf_token(administrator):
    client = Client(enforce_csrf_checks=True)
    client.force_login(administrator)
    response = client.post(reverse("parties:source_create"), {"name": "X"})
    assert response.status_code == 403


def test_the_health_check_needs_no_login(client):
    response = client.get("/healthz")
    assert response.status_code == 200 and response.json() == {"status": "ok"}


def test_an_unknown_page_is_a_clean_404(client, steward):
    client.force_login(steward)
    response = client.get("/parties/999999/")
    assert response.status_code == 404
    assert b"Not found" in response.content
