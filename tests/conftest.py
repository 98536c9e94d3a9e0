from __future__ import annotations

import pytest

from c360.kernel.roles import ADMINISTRATOR, DATA_STEWARD, MARKETING
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


@pytest.fixture
def role_groups(transactional_db):
    """Transactional tests flush the database afterwards, data-migration rows included: put
    the role groups back by running the data migration's own function."""
    import importlib

    from django.apps import apps

    importlib.import_module("parties.migrations.0002_role_groups").create_role_groups(apps, None)
    importlib.import_module("parties.migrations.0004_import_role_permissions").grant(apps, None)
    importlib.import_module("parties.migrations.0011_survivorship_role_permissions").grant(apps, None)
    importlib.import_module("parties.migrations.0024_change_event_role_permissions").grant(apps, None)
    importlib.import_module("consents.migrations.0002_purposes_and_role_permissions").seed(apps, None)
    importlib.import_module("consents.migrations.0004_privacy_request_role_permissions").grant(apps, None)
    importlib.import_module("consents.migrations.0006_erasure_role_permissions").grant(apps, None)
    importlib.import_module("consents.migrations.0008_segment_role_permissions").grant(apps, None)
    importlib.import_module("consents.migrations.0010_pending_file_erasure_role_permissions").grant(
        apps, None
    )
    importlib.import_module("c360.migrations.0002_api_token_role_permissions").grant(apps, None)
    # c360.0004 granted them as the c360 app's; since c360.0008 they are the dashboard app's
    from c360.kernel.role_grants import role_permissions_grant

    dashboard_grants = importlib.import_module("c360.migrations.0004_dashboard_role_permissions").GRANTS
    role_permissions_grant(apps, "dashboard", dashboard_grants)
    importlib.import_module("c360.migrations.0005_login_lockout_role_permissions").grant(apps, None)
    importlib.import_module("c360.accounts.migrations.0003_auth_audit_role_permissions").grant(apps, None)
    importlib.import_module("c360.webhooks.migrations.0002_webhook_role_permissions").grant(apps, None)
    importlib.import_module("matching.migrations.0002_role_permissions").grant(apps, None)
    importlib.import_module("matching.migrations.0005_run_role_permissions").grant(apps, None)
    importlib.import_module("matching.migrations.0008_chunk_decision_settings_permissions").grant(apps, None)
    importlib.import_module("matching.migrations.0012_oversized_block_permissions").grant(apps, None)


@pytest.fixture(autouse=True)
def _no_queued_marks_from_other_tests():
    """Marks that say "a task is already queued" live in the shared cache (a file cache or
    Redis), which outlives a test's database: one left by an earlier test (whose task no worker
    ever ran) made *Find pairs to label* queue nothing in the next. Each test starts without."""
    from django.core.cache import cache

    from c360.dashboard.services import REFRESH_NOW_KEY, REFRESH_SOON_KEY
    from matching.services.training import REFRESH_EXHAUSTED_KEY, REFRESH_QUEUED_KEY, REFRESH_RUNNING_KEY

    keys = [REFRESH_NOW_KEY, REFRESH_SOON_KEY, REFRESH_QUEUED_KEY, REFRESH_RUNNING_KEY, REFRESH_EXHAUSTED_KEY]
    cache.delete_many(keys)
    yield
    cache.delete_many(keys)
