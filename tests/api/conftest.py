from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from c360.api_tokens import api_token_create
from c360.kernel.roles import ADMINISTRATOR, DATA_STEWARD, MARKETING

ROLES = {"steward": DATA_STEWARD, "marketing": MARKETING, "administrator": ADMINISTRATOR}


@pytest.fixture
def api(db):
    """``api("steward")`` → an API client sending a fresh token of that role."""
    made = {}

    def client(role: str) -> APIClient:
        if role not in made:
            _, key = api_token_create(name=f"{role}-client", role=ROLES[role])
            made[role] = key
        c = APIClient()
        c.credentials(HTTP_AUTHORIZATION=f"Token {made[role]}")
        return c

    return client
