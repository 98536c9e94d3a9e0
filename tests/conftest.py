from __future__ import annotations

import pytest

from c360.roles import ADMINISTRATOR, DATA_STEWARD, MARKETING
from tests.factories import UserFactory

ROLE_USERS = {"steward": DATA_STEWARD, "marketing": MARKETING, "administrator": ADMINISTRATOR}


@pytest.fixture
def steward(db):
    return UserFactory(username="t-steward", role=DATA_STEWARD)


@pytest.fixture
def marketer(db):
    return UserFactory(username="t-marketing", role=MARKETING)


@pytest.fixture
def administrator(db):
    return UserFactory(username="t-admin", role=ADMINISTRATOR, is_staff=True)


@pytest.fixture
def role_client(client, steward, marketer, administrator):
    """``role_client("steward")`` → a test client logged in as a user of that role."""
    users = {"steward": steward, "marketing": marketer, "administrator": administrator}

    def login(role: str):
        client.force_login(users[role])
        return client

    return login
