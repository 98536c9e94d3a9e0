"""Every operation of the API: 401 without a token, 403 for a role the pages would refuse,
and never 401/403 for a role they allow (the role matrix of the browser, restated)."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from parties.models import ContactPointEmail
from parties.services.merge import party_merge
from tests.factories import SourceSystemFactory
from tests.matching.queue_helpers import suggestion_for
from tests.parties.customers import customer_copies

pytestmark = pytest.mark.django_db

S, M, A = "steward", "marketing", "administrator"
# (method, path, roles allowed, body)
OPERATIONS = [
    ("get", "/api/v1/parties/", {S, M, A}, None),
    ("get", "/api/v1/parties/{party}/", {S, M, A}, None),
    ("get", "/api/v1/parties/lookup/?source_system=CRM&source_key=C-1", {S, M, A}, None),
    ("post", "/api/v1/parties/{party}/contact-points/", {S, M, A}, {"kind": "phone", "value": "+4930123456"}),
    ("patch", "/api/v1/contact-points/email/{email}/", {S, M, A}, {"verified": True}),
    ("post", "/api/v1/contact-points/email/{email}/deactivate/", {S, M, A}, {}),
    ("get", "/api/v1/parties/{party}/consents/", {S, M, A}, None),
    (
        "post",
        "/api/v1/parties/{party}/consents/",
        {M, A},
        {"channel": "email", "purpose": "newsletter", "status": "opt_in", "capture_source": "form"},
    ),
    ("get", "/api/v1/parties/{party}/consents/history/", {S, M, A}, None),
    (
        "patch",
        "/api/v1/parties/{party}/preferences/",
        {M, A},
        {"do_not_track": True, "capture_source": "app"},
    ),
    ("get", "/api/v1/consents/eligibility/?channel=email&purpose=newsletter&on=2026-11-24", {S, M, A}, None),
    ("get", "/api/v1/consents/suppression/?channel=email&purpose=newsletter&on=2026-11-24", {S, M, A}, None),
    ("get", "/api/v1/source-systems/", {S, A}, None),
    ("get", "/api/v1/imports/", {S, M, A}, None),  # marketing: its consent lists only
    ("get", "/api/v1/suggestions/", {S, A}, None),
    ("get", "/api/v1/suggestions/{suggestion}/", {S, A}, None),
    ("post", "/api/v1/suggestions/{suggestion}/decide/", {S, A}, {"decision": "not_a_match"}),
    ("get", "/api/v1/merges/", {S, M, A}, None),
    ("get", "/api/v1/merges/{merge}/", {S, M, A}, None),
    ("post", "/api/v1/merges/{merge}/unmerge/", {S, A}, {"different_customers": True}),
    ("get", "/api/v1/parties/{party}/access-export/", {S, A}, None),
    ("post", "/api/v1/parties/{victim}/erasure/", {A}, {"request_reference": "T-1", "confirm": "{victim}"}),
]


@pytest.fixture
def ids():
    c = customer_copies()
    SourceSystemFactory(name="Other")
    merge = party_merge(party_ids=[c.crm.pk, c.shop.pk], survivor_id=c.crm.pk)
    suggestion = suggestion_for([c.pos.pk, c.employer.pk])
    email = ContactPointEmail.objects.filter(party=c.crm).first()
    return {
        "party": c.crm.pk,
        "email": email.pk,
        "suggestion": suggestion.pk,
        "merge": merge.pk,
        "victim": c.employer.pk,
    }


def _call(client, method, path, body, ids):
    path = path.format(**ids)
    if body is not None:
        body = {
            k: (int(v.format(**ids)) if isinstance(v, str) and v.startswith("{") else v)
            for k, v in body.items()
        }
    return (
        getattr(client, method)(path, body, format="json")
        if body is not None
        else getattr(client, method)(path)
    )


@pytest.mark.parametrize(
    ("method", "path", "allowed", "body"), OPERATIONS, ids=[f"{o[0]} {o[1]}" for o in OPERATIONS]
)
def test_each_operation_refuses_anonymous_and_the_roles_the_pages_refuse(
    api, ids, method, path, allowed, body
):
    assert _call(APIClient(), method, path, body, ids).status_code == 401
    for role in (S, M, A):
        status = _call(api(role), method, path, body, ids).status_code
        if role in allowed:
            assert status not in (401, 403), (role, status)
        else:
            assert status == 403, (role, status)
