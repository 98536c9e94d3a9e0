"""Company sign-in's settings come from the environment and fail loudly when half-set."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from tests.workers import ROOT

SHOW = (
    "from django.conf import settings as s; import json; print(json.dumps([s.C360_OIDC_ROLE_MAP, "
    "s.CONTENT_SECURITY_POLICY['DIRECTIVES']['form-action'], s.C360_OIDC_SCOPES, s.C360_LOCAL_LOGIN]))"
)
CONFIGURED = {
    "C360_OIDC_ISSUER": "https://id.example.com/realms/corp/",
    "C360_OIDC_CLIENT_ID": "c360-steward",
    "C360_OIDC_CLIENT_SECRET": "s3cret",
    "C360_OIDC_ROLE_MAP": "c360-stewards=Data steward; c360-admins=Administrator;c360-stewards=Marketing",
}


def _shell(**env: str) -> subprocess.CompletedProcess:
    clean = {
        k: v for k, v in os.environ.items() if not k.startswith("C360_OIDC_") and k != "C360_LOCAL_LOGIN"
    }
    return subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", SHOW],
        cwd=ROOT,
        env={**clean, "DJANGO_SETTINGS_MODULE": "c360.settings.test", **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_the_role_map_is_read_and_the_provider_may_end_a_sign_out():
    result = _shell(**CONFIGURED, C360_LOCAL_LOGIN="off")
    assert result.returncode == 0, result.stderr
    role_map, form_action, scopes, local_login = json.loads(result.stdout.strip().splitlines()[-1])
    assert role_map == {"c360-stewards": ["Data steward", "Marketing"], "c360-admins": ["Administrator"]}
    assert form_action == ["'self'", "https://id.example.com"]
    assert (scopes, local_login) == ("openid email profile", False)


def test_without_an_issuer_company_sign_in_is_off_and_the_policy_unchanged():
    result = _shell()
    assert result.returncode == 0, result.stderr
    role_map, form_action, _, local_login = json.loads(result.stdout.strip().splitlines()[-1])
    assert (role_map, form_action, local_login) == ({}, ["'self'"], True)


def test_a_role_map_naming_an_unknown_role_fails_at_start():
    result = _shell(**{**CONFIGURED, "C360_OIDC_ROLE_MAP": "c360-admins=Superuser"})
    assert result.returncode != 0
    assert "C360_OIDC_ROLE_MAP: 'c360-admins=Superuser' is not group=role" in result.stderr


def test_an_issuer_without_its_client_fails_at_start():
    result = _shell(C360_OIDC_ISSUER="https://id.example.com")
    assert result.returncode != 0
    assert "C360_OIDC_CLIENT_ID, C360_OIDC_CLIENT_SECRET and C360_OIDC_ROLE_MAP must be too" in result.stderr
