"""The second factor after company sign-in (issue 20, items 1 and 2): the identity provider
signs an administrator in; the site still asks for its own second factor before any page."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from c360.accounts.models import AuthEvent, AuthEventKind
from tests.accounts.test_oidc import _sign_in, provider  # noqa: F401 (the provider fixture)
from tests.accounts.test_otp import MANAGE, VERIFY, code_now, enrol

pytestmark = pytest.mark.django_db


def test_an_administrator_from_the_company_provider_enrols_and_then_gives_the_code(
    client,
    provider,  # noqa: F811
    settings,
):
    settings.C360_OTP_REQUIRED = "administrators"
    provider.add_user("grace", groups=["c360-admins"], email="grace@example.com")

    back = _sign_in(client, provider, "grace")

    assert back.status_code == 302
    first_page = client.get(back["Location"])
    assert first_page.status_code == 302 and first_page["Location"].startswith(MANAGE)
    user = get_user_model().objects.get(username="grace")
    device, _ = enrol(client, user)
    assert client.get("/parties/").status_code == 200  # the provider makes no one staff: no /admin/

    # the next company sign-in: the provider's word is not the second factor
    other = Client()
    back = _sign_in(other, provider, "grace")
    page = other.get(back["Location"])
    assert page.status_code == 302 and page["Location"].startswith(VERIFY)
    assert other.post(VERIFY, {"code": code_now(device)}).status_code == 302
    assert other.get("/").status_code == 200
    kinds = list(AuthEvent.objects.filter(user=user).order_by("id").values_list("kind", "method"))
    assert (AuthEventKind.OTP_ENROLLED, "totp") in kinds
    assert kinds[-1] == (AuthEventKind.OTP_VERIFIED, "totp")
    assert kinds.count((AuthEventKind.SIGN_IN, "oidc")) == 2
