"""The Content-Security-Policy in a real browser (issue 16, item 17): the main pages load without
a single violation (the ``page`` fixture fails a test on any, see conftest.py), and what used to
be inline code still works from static/js/app.js: confirmations (cancel and accept), the queue's
select-all box, the review page's "not this one", the progress bars, htmx, the admin, and the
API docs (Swagger UI and ReDoc)."""

from __future__ import annotations

import io
import re

import pytest
from playwright.sync_api import expect

from c360.api_tokens import api_token_create
from c360.kernel.roles import DATA_STEWARD
from c360.models import ApiToken
from parties.models import ContactPointEmail
from parties.services.imports.jobs import (
    import_file_store,
    import_job_create,
    import_job_run,
    import_job_start,
)
from parties.services.users import demo_users_ensure
from tests.browser.helpers import screenshots_dir
from tests.matching.queue_helpers import suggestion_for
from tests.parties.customers import customer_copies

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _shot(page, tmp_path, name: str, full_page: bool = True) -> None:
    folder = str(screenshots_dir())
    page.screenshot(path=f"{folder}/csp-{name}.png", full_page=full_page)


def _sign_in(page, username: str, password: str) -> None:
    page.goto("/accounts/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("navigation", name="Main")).to_be_visible()


def test_the_main_pages_load_under_the_policy_and_their_scripts_still_work(
    page, tmp_path, settings, csp_violations
):
    settings.MEDIA_ROOT = tmp_path / "media"
    demo_users_ensure()
    c = customer_copies()
    trio = suggestion_for([c.crm.pk, c.shop.pk, c.pos.pk], score=0.91)
    suggestion_for([c.employer.pk, c.crm.pk], score=0.55)
    content = b"customer_id,first_name,last_name,email\n1,Ann,Lee,ann@example.com\n2,Bo,Kim,bo@example.com\n"
    stored = import_file_store(stream=io.BytesIO(content), original_name="customers.csv")
    job = import_job_create(
        source=c.crm.source_records.get().source_system,
        kind="parties",
        stored_name=stored,
        original_name="customers.csv",
    )
    job = import_job_run(job_id=import_job_start(job=job, mapping=None, enqueue=False).pk)
    api_token_create(name="crm-sync", role=DATA_STEWARD)

    _sign_in(page, "admin", "admin-demo")
    page.wait_for_function("window.appReady === true")
    for path in (
        "/",
        "/parties/",
        "/parties/imports/",
        "/matching/runs/",
        "/matching/training/",
        "/consents/eligibility/",
        "/consents/segments/",
        "/dashboard/issues/",
    ):
        page.goto(path)
        expect(page.locator("main")).to_be_visible()
    _shot(page, tmp_path, "home")

    # htmx still runs (no eval needed): the segment form draws its preview on load
    page.goto("/consents/segments/new/")
    expect(page.locator("#segment-preview")).to_contain_text(re.compile(r"\d"))

    # the import's progress bar is an SVG rect as wide as the percentage
    page.goto(f"/parties/imports/{job.pk}/")
    expect(page.get_by_test_id("job-status")).to_have_text("Succeeded")
    bar = page.locator(".progress rect.bar")
    assert bar.get_attribute("width") == "100"
    assert bar.bounding_box()["width"] > 0.9 * page.locator(".progress").bounding_box()["width"]
    _shot(page, tmp_path, "import")

    # a confirmation dismissed changes nothing; accepted, the form is sent
    email = ContactPointEmail.objects.get(party=c.shop, normalized="a.schmidt@shop.example")
    page.goto(f"/parties/{c.shop.pk}/")
    asked = []
    page.once("dialog", lambda dialog: (asked.append(dialog.message), dialog.dismiss()))
    deactivate = page.locator("form[data-confirm*='a.schmidt@shop.example'] button")
    deactivate.click()
    page.wait_for_timeout(300)
    assert asked == ["Deactivate a.schmidt@shop.example? It is kept, but no longer used."]
    email.refresh_from_db()
    assert email.is_active
    page.once("dialog", lambda dialog: dialog.accept())
    deactivate.click()
    expect(page.get_by_text(re.compile("deactivated", re.IGNORECASE)).first).to_be_visible()
    email.refresh_from_db()
    assert not email.is_active
    _shot(page, tmp_path, "party")

    # the API tokens page: revoking asks first
    page.goto("/api-tokens/")
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Revoke").click()
    expect(page.get_by_text(re.compile("revoked")).first).to_be_visible()
    assert ApiToken.objects.get(name="crm-sync").revoked_at is not None

    # the Django admin: its own scripts run under the same policy
    page.goto("/admin/")
    expect(page.get_by_role("link", name="Parties").first).to_be_visible()
    page.goto(f"/admin/parties/party/{c.pos.pk}/change/")
    expect(page.locator("#party_form")).to_be_visible()
    page.goto("/admin/parties/contactpointemail/add/")
    with page.expect_popup() as lookup:
        page.locator("#lookup_id_party").click()  # raw-id lookup: a popup driven by admin JS
    lookup.value.close()
    _shot(page, tmp_path, "admin")

    # the API docs: Swagger UI draws the operations, ReDoc the reference
    page.goto("/api/docs/")
    expect(page.locator(".opblock").first).to_be_visible(timeout=30_000)
    _shot(page, tmp_path, "swagger", full_page=False)
    page.goto("/api/redoc/")
    expect(page.get_by_role("heading", name=re.compile("C360 Steward API"))).to_be_visible(timeout=30_000)
    _shot(page, tmp_path, "redoc", full_page=False)
    assert not csp_violations  # (ReDoc's logo from its CDN is refused: see conftest.py)

    # the steward's queue: "select all" ticks every suggestion, and on the review page
    # "not this one" takes just that party out of the suggestion
    page.goto("/")
    page.get_by_role("button", name="Sign out").click()
    _sign_in(page, "steward", "steward-demo")
    page.goto("/matching/suggestions/")
    boxes = page.locator("input[name=selected]")
    expect(boxes).to_have_count(2)
    page.get_by_label("Select all").check()
    assert all(box.is_checked() for box in boxes.all())
    page.get_by_label("Select all").uncheck()
    assert not any(box.is_checked() for box in boxes.all())
    _shot(page, tmp_path, "queue")

    page.goto(f"/matching/suggestions/{trio.pk}/")
    expect(page.get_by_test_id("preview")).to_contain_text("Golden record after the merge")
    member = page.locator("th.member").filter(has_text=f"#{c.pos.pk}")
    member.get_by_role("button", name="Not this one").click()
    expect(
        page.get_by_text(f"Suggestion #{trio.pk}: recorded as not a match for party {c.pos.pk}.")
    ).to_be_visible()
    trio.refresh_from_db()
    assert trio.status == "pending"
    assert set(trio.members.values_list("party_id", flat=True)) == {c.crm.pk, c.shop.pk}
    _shot(page, tmp_path, "review")


def test_markup_slipped_into_a_page_runs_no_code(page, csp_violations):
    """Should some value ever reach a page unescaped, the policy still refuses to run it: an
    inline script, an on*= handler and a javascript: link, each reported as a violation."""
    demo_users_ensure()
    _sign_in(page, "steward", "steward-demo")
    page.evaluate("""() => {
        const script = document.createElement("script");
        script.textContent = "window.pwned = 'script'";
        document.body.append(script);
        document.body.insertAdjacentHTML("beforeend",
            '<img src="/static/img/logo.svg" onload="window.pwned = \\'handler\\'">'
            + '<a id="evil" href="javascript:window.pwned = \\'link\\'">x</a>');
    }""")
    page.locator("#evil").click()
    page.wait_for_timeout(500)
    assert page.evaluate("window.pwned") is None
    events = [v for v in csp_violations if not v.startswith("console:")]
    assert sum(v.startswith("script-src-elem refused inline") for v in events) == 2, events  # script, link
    assert sum(v.startswith("script-src-attr refused inline") for v in events) == 1, events  # onload=
    csp_violations.clear()  # expected here: this test's whole point
