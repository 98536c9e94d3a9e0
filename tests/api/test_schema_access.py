"""The OpenAPI schema and its docs need a token or a login, like every page (they answered
anyone, also in production); C360_API_DOCS_PUBLIC=1 opens them."""

from __future__ import annotations

import subprocess
import sys

import pytest
from rest_framework.test import APIClient

from tests.workers import ROOT, subprocess_env

pytestmark = pytest.mark.django_db

PAGES = ["/api/schema/", "/api/docs/", "/api/redoc/"]


@pytest.mark.parametrize("path", PAGES)
def test_without_a_token_or_login_the_schema_and_docs_are_refused(client, path):
    response = client.get(path)
    if path == "/api/schema/":
        assert response.status_code == 401 and response["WWW-Authenticate"] == "Token"
        assert b"openapi" not in response.content
    else:  # a browser page: to the sign-in page, then back
        assert response.status_code == 302
        assert response["Location"] == f"/accounts/login/?next={path}"


def test_a_wrong_token_gets_no_schema():
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Token c360_not-a-token")
    assert client.get("/api/schema/", {"format": "json"}).status_code == 401


def test_a_token_of_any_role_gets_the_schema(api):
    for role in ("marketing", "steward", "administrator"):
        response = api(role).get("/api/schema/", {"format": "json"})
        assert response.status_code == 200 and response.json()["openapi"].startswith("3.")


@pytest.mark.parametrize("path", PAGES)
def test_a_signed_in_user_gets_the_schema_and_docs(client, marketer, path):
    client.force_login(marketer)
    assert client.get(path).status_code == 200


def test_a_setting_opens_them_to_anyone():
    # drf-spectacular reads the setting when its views are defined: ask a fresh process.
    script = (
        "import django; django.setup()\n"
        "from django.test import Client\n"
        "c = Client()\n"
        "print(c.get('/api/schema/', {'format': 'json'}).status_code, c.get('/api/docs/').status_code,"
        " c.get('/api/redoc/').status_code)\n"
    )
    env = {**subprocess_env(), "C360_API_DOCS_PUBLIC": "1"}
    opened = subprocess.run(
        [sys.executable, "-c", script],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    assert opened.stdout.split()[-3:] == ["200", "200", "200"]
    env["C360_API_DOCS_PUBLIC"] = "0"
    closed = subprocess.run(
        [sys.executable, "-c", script],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    assert closed.stdout.split()[-3:] == ["401", "302", "302"]
