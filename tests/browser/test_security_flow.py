"""Sessions and the sign-in audit in a real browser: a user sees where they are signed in and
signs out everywhere (the other browser is sent to the sign-in page); an administrator reads
the sign-in audit and filters it."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from c360.accounts.models import AuthEvent, AuthEventKind
from tests.browser.helpers import screenshots_dir, sign_in
from tests.factories import UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_user_signs_out_everywhere_and_an_administrator_reads_the_audit(
    page, browser, live_server, tmp_path
):
    shots = screenshots_dir()
    shots.mkdir(parents=True, exist_ok=True)
    UserFactory(username="sam", role="Data steward")
    UserFactory(username="ada", role="Administrator", is_staff=True)

    # Given sam signed in in two browsers, and a failed try before
    other = browser.new_context(base_url=live_server.url)
    other_page = other.new_page()
    sign_in(other_page, "sam", "wrong-password")
    sign_in(other_page, "sam", "pw-for-tests")
    sign_in(page, "sam", "pw-for-tests")

    # When sam opens Security, both sessions are listed
    page.get_by_role("link", name="Security").click()
    expect(page.get_by_test_id("sessions").locator("tbody tr")).to_have_count(2)
    expect(page.get_by_text("this session")).to_be_visible()
    page.screenshot(path=str(shots / "security-sessions.png"), full_page=True)

    # And signs out everywhere: this browser lands on the sign-in page, the other one too
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_test_id("sign-out-everywhere").click()
    expect(page.get_by_text("You are signed out everywhere, here too.")).to_be_visible()
    other_page.goto("/")
    expect(other_page).to_have_url(f"{live_server.url}/accounts/login/?next=/")
    other.close()

    # Then an administrator finds it all in the sign-in audit
    sign_in(page, "ada", "pw-for-tests")
    page.get_by_role("link", name="Security").click()
    page.get_by_role("link", name="Sign-in audit").click()
    page.get_by_label("User").fill("sam")
    page.get_by_role("button", name="Apply").click()
    table = page.get_by_test_id("audit-table")
    expect(table).to_contain_text("Signed out everywhere")
    expect(table).to_contain_text("Sign-in failed")
    page.screenshot(path=str(shots / "sign-in-audit.png"), full_page=True)
    assert AuthEvent.objects.filter(kind=AuthEventKind.SESSIONS_ENDED, username="sam").count() == 1
