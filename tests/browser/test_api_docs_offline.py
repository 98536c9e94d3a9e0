"""The API docs work offline (issue 18, item 12): /api/redoc/ and /api/docs/ load their
scripts, styles and fonts from this site only. Every request to another host is recorded and
refused by the test; only ReDoc's footer logo, which the page's own Content-Security-Policy
already refuses in the browser (conftest.EXPECTED_REFUSALS), is allowed to be attempted."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from parties.services.users import demo_users_ensure
from tests.browser.conftest import EXPECTED_REFUSALS
from tests.browser.helpers import sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _offline(page, live_server) -> list[str]:
    """Refuse, and list, every request that leaves the test server."""
    elsewhere: list[str] = []

    def handle(route):
        url = route.request.url
        if url.startswith(live_server.url) or url.startswith(("blob:", "data:")):
            route.continue_()
            return
        if url not in EXPECTED_REFUSALS:
            elsewhere.append(url)
        route.abort()

    page.route("**/*", handle)
    return elsewhere


def test_redoc_and_swagger_ui_need_nothing_from_another_site(page, live_server):
    demo_users_ensure()
    elsewhere = _offline(page, live_server)
    sign_in(page, "admin", "admin-demo")

    page.goto("/api/redoc/")
    expect(page.get_by_role("heading", name="C360 Steward API")).to_be_visible(timeout=20_000)
    expect(page.get_by_text("consents_eligibility_list").first).to_be_attached()
    absolute = 'document.querySelectorAll(\'link[href^="http"], script[src^="http"]\').length'
    assert page.evaluate(absolute) == 0
    font = page.evaluate("getComputedStyle(document.querySelector('h1')).fontFamily")
    assert "Montserrat" not in font and "system-ui" in font, font

    page.goto("/api/docs/")
    expect(page.locator(".swagger-ui .opblock").first).to_be_visible(timeout=20_000)

    assert not elsewhere, f"requests to other sites: {elsewhere}"
