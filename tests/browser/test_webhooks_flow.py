"""An administrator registers a webhook subscriber in a real browser, pointing at a real HTTP
receiver this test starts; a customer's email is added, the delivery is sent, and the
subscriber's page shows it delivered with the receiver's 200. Pause and redeliver are clicked
once each (issue 21, item 2)."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.contrib.auth import get_user_model
from playwright.sync_api import expect

from c360.webhooks.models import Delivery, DeliveryStatus, Subscriber, SubscriberStatus
from c360.webhooks.services.delivery import deliveries_send
from c360.webhooks.services.dispatch import webhooks_dispatch
from c360.webhooks.services.signing import SIGNATURE_HEADER, signature_verify
from parties.services.contact_points import contact_point_add
from parties.services.users import demo_users_ensure
from tests.browser.helpers import screenshots_dir, sign_in
from tests.factories import PartyFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SHOTS = screenshots_dir()


@pytest.fixture
def receiver():
    """A local HTTP server answering every POST with 200 and keeping (headers, body)."""
    received: list[tuple[dict[str, str], bytes]] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802 (http.server's name)
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            received.append((dict(self.headers.items()), body))
            self.send_response(200)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/c360-hooks", received
    server.shutdown()
    server.server_close()


def _shot(page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / name), full_page=True)


def test_an_administrator_registers_a_subscriber_and_reads_its_delivery_log(page, receiver):
    url, received = receiver
    demo_users_ensure()
    admin = get_user_model().objects.get(username="admin")
    ada = PartyFactory(given_name="Ada", family_name="Lovelace", display_name="Ada Lovelace")
    sign_in(page, "admin", "admin-demo")

    # given: the Webhooks page, reached from the navigation, and its registration form
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Webhooks").click()
    expect(page.get_by_role("heading", name="Webhooks", exact=True)).to_be_visible()
    page.get_by_role("link", name="Register a subscriber").click()
    page.get_by_label("Name").fill("CRM sync")
    page.get_by_label("URL").fill("ftp://crm.example.com/in")
    page.get_by_label("Contact point added").check()
    page.get_by_label("Consent changed").check()
    page.get_by_role("button", name="Register").click()
    expect(page.locator(".has-error")).to_contain_text("is not an http:// or https:// address")
    assert not Subscriber.objects.exists()
    page.get_by_label("URL").fill(url)
    expect(page.get_by_label("Contact point added")).to_be_checked()  # kept after the refusal
    _shot(page, "webhooks-register.png")
    page.get_by_role("button", name="Register").click()
    expect(page.locator(".msg-success")).to_contain_text("CRM sync” registered")
    hook = Subscriber.objects.get()
    assert hook.event_types == ["consent.changed", "contact_point.added"]
    expect(page.get_by_test_id("delivery-log")).to_contain_text("No deliveries yet")

    # the secret is masked until Show
    expect(page.get_by_test_id("secret-value")).to_be_hidden()
    page.get_by_test_id("secret").get_by_text("Show").click()
    expect(page.get_by_test_id("secret-value")).to_have_text(hook.secret)

    # when: an email is added to a customer, and the deliveries are sent
    contact_point_add(party_id=ada.pk, kind="email", value="ada@example.com", actor=admin)
    webhooks_dispatch()
    sent = deliveries_send(subscriber_id=hook.pk, budget_seconds=20)
    assert sent.delivered == 1 and sent.codes == [200]
    ((headers, body),) = received
    assert signature_verify(secret=hook.secret, body=body, header=headers[SIGNATURE_HEADER])
    delivery = Delivery.objects.get()
    assert delivery.event_type == "contact_point.added" and delivery.party_id == ada.pk

    # then: the log shows it delivered, with the receiver's 200
    page.reload()
    row = page.get_by_test_id("delivery")
    expect(row).to_have_count(1)
    expect(row).to_contain_text("contact_point.added")
    expect(row.locator(".badge")).to_have_text("delivered")
    expect(row.locator("td").nth(5)).to_have_text("200")
    expect(row.get_by_role("link", name=str(ada.pk))).to_have_attribute("href", f"/parties/{ada.pk}/")
    expect(page.get_by_test_id("count-delivered")).to_have_text("1")

    # pause: nothing more is sent; the log stays
    page.get_by_role("button", name="Pause").click()
    expect(page.locator(".msg-success")).to_contain_text("is paused")
    expect(page.get_by_test_id("subscriber-status")).to_have_text("Paused")
    hook.refresh_from_db()
    assert hook.status == SubscriberStatus.PAUSED

    # redeliver: the delivery is pending again, and waits while the subscriber is paused
    page.get_by_role("button", name=f"Redeliver event {delivery.sequence}").click()
    expect(page.locator(".msg-success")).to_contain_text(f"Event #{delivery.sequence} is queued")
    expect(page.get_by_test_id("delivery")).to_contain_text("waits: paused")
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.PENDING
    assert deliveries_send(subscriber_id=hook.pk).delivered == 0 and len(received) == 1

    # resume: the waiting delivery goes again, answered with 200 once more
    page.get_by_role("button", name="Resume").click()
    expect(page.get_by_test_id("subscriber-status")).to_have_text("Active")
    assert deliveries_send(subscriber_id=hook.pk, budget_seconds=20).delivered == 1 and len(received) == 2
    page.reload()
    row = page.get_by_test_id("delivery")
    expect(row.locator(".badge")).to_have_text("delivered")
    expect(row.locator("td").nth(4)).to_have_text("2")  # attempts
    expect(row.locator("td").nth(5)).to_have_text("200")
    expect(page.get_by_test_id("setting-changes")).to_contain_text("paused")
    _shot(page, "webhooks-delivery-log.png")

    # the list: its counts and status
    page.get_by_role("link", name="Webhooks", exact=True).first.click()
    listed = page.locator("tr[data-subscriber='CRM sync']")
    expect(listed).to_contain_text("Active")
    expect(listed.locator("td.num").nth(1)).to_have_text("1")  # delivered
    _shot(page, "webhooks-list.png")
