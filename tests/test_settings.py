"""Settings come from the environment; production refuses to start half-configured."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys

import pytest
from django.core.exceptions import ImproperlyConfigured

from c360.env import env_bool, env_int
from tests.workers import ROOT


def _manage(*args: str, **env: str) -> subprocess.CompletedProcess:
    clean = {
        k: v
        for k, v in os.environ.items()
        if k
        not in {"SECRET_KEY", "DEBUG", "ALLOWED_HOSTS", "DJANGO_SETTINGS_MODULE", "DJANGO_ALLOW_ASYNC_UNSAFE"}
    }
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_a_malformed_boolean_fails_loudly_with_its_name(monkeypatch):
    monkeypatch.setenv("DEBUG", "maybe")
    with pytest.raises(ImproperlyConfigured, match="DEBUG='maybe' is not a boolean"):
        env_bool("DEBUG", False)


def test_a_malformed_number_fails_loudly_with_its_name(monkeypatch):
    monkeypatch.setenv("C360_UPLOAD_MAX_BYTES", "lots")
    with pytest.raises(ImproperlyConfigured, match="C360_UPLOAD_MAX_BYTES='lots'"):
        env_int("C360_UPLOAD_MAX_BYTES", 1)


def test_production_settings_pass_the_deploy_check():
    result = _manage(
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        DJANGO_SETTINGS_MODULE="c360.settings.production",
        DEBUG="0",
        SECRET_KEY=secrets.token_urlsafe(60),
        ALLOWED_HOSTS="c360.example.com",
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


def test_production_settings_refuse_to_start_without_a_secret_key():
    result = _manage(
        "check", DJANGO_SETTINGS_MODULE="c360.settings.production", ALLOWED_HOSTS="c360.example.com"
    )
    assert result.returncode != 0
    assert "SECRET_KEY (or SECRET_KEY_FILE) must be set" in result.stderr


def test_production_settings_read_the_secret_key_from_a_file(tmp_path):
    key_file = tmp_path / "secret"
    key_file.write_text(secrets.token_urlsafe(60) + "\n")
    result = _manage(
        "check",
        DJANGO_SETTINGS_MODULE="c360.settings.production",
        SECRET_KEY_FILE=str(key_file),
        ALLOWED_HOSTS="c360.example.com",
    )
    assert result.returncode == 0, result.stderr


def test_a_bad_database_url_names_the_variable():
    result = _manage("check", DATABASE_URL="nosuchdb://x")
    assert result.returncode != 0
    assert "DATABASE_URL='nosuchdb://x' cannot be parsed" in result.stderr
