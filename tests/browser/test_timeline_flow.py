"""A steward reads one customer's whole story on the party page: touch points, a consent change,
an email corrected and a merge on one timeline, then narrows it to consents with a chip and
back to everything (issue 21, item 6)."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone
from playwright.sync_api import expect

from consents.models import ConsentEvent, DataUsePurpose
from consents.services.erasure import party_erase
from consents.services.ledger import Actor, consent_set
from parties.models import ContactPointEmail, Engagement, PartyEvent
from parties.services.contact_points import contact_point_correct
from parties.services.merge import party_merge
from parties.services.overrides import golden_override_set
from parties.services.users import demo_users_ensure
from tests.browser.helpers import screenshots_dir, sign_in
from tests.factories import PartyFactory, SourceRecordFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _shot(page, tmp_path, name: str) -> None:
    folder = str(screenshots_dir())
    page.screenshot(path=f"{folder}/{name}.png", full_page=True)


def _grace():
    """Grace Hopper: orders and visits over a week, an opt-in then an opt-out, her email
    corrected, a duplicate merged in by the steward, her given name pinned."""
    users = get_user_model().objects
    steward, marketing = users.get(username="steward"), users.get(username="marketing")
    now = timezone.now().replace(second=0, microsecond=0)
    grace = PartyFactory(given_name="Grace", family_name="Hopper", display_name="Grace Hopper")
    twin = PartyFactory(given_name="Grace", family_name="Hoper", display_name="Grace Hoper")
    names = {"given_name": "Grace", "family_name": "Hopper"}
    SourceRecordFactory(party=grace, standardized={"kind": "individual", "attributes": names})
    email = ContactPointEmail.objects.create(
        party=grace, raw_value="grace@navy.mil", normalized="grace@navy.mil", is_primary=True
    )
    Engagement.objects.bulk_create(
        [
            Engagement(
                party=grace,
                engagement_type="order",
                occurred_at=now - dt.timedelta(days=day, hours=3),
                amount=Decimal("42.00"),
                currency="USD",
                external_id=f"ORD-{day}",
                status="delivered",
            )
            for day in (0, 2, 5)
        ]
        + [
            Engagement(
                party=grace, engagement_type="web_visit", occurred_at=now - dt.timedelta(days=day, hours=1)
            )
            for day in (1, 4)
        ]
    )
    purpose = DataUsePurpose.objects.filter(is_active=True).order_by("pk").first()
    for days, status in ((6, "opt_in"), (3, "opt_out")):
        consent_set(
            party_id=grace.pk,
            channel="email",
            purpose=purpose.code,
            status=status,
            capture_source="preference centre",
            actor=Actor.of_user(marketing),
            captured_at=now - dt.timedelta(days=days),
        )
        ConsentEvent.objects.filter(pk=ConsentEvent.objects.latest("id").pk).update(
            occurred_at=now - dt.timedelta(days=days)
        )
    contact_point_correct(kind="email", point_id=email.pk, value="grace.hopper@navy.mil", actor=marketing)
    PartyEvent.objects.filter(pk=PartyEvent.objects.latest("id").pk).update(
        created_at=now - dt.timedelta(days=2, hours=6)
    )
    merge = party_merge(party_ids=[grace.pk, twin.pk], survivor_id=grace.pk, actor=steward, score=0.93)
    PartyEvent.objects.filter(pk=merge.pk).update(created_at=now - dt.timedelta(days=1, hours=5))
    golden_override_set(party_id=grace.pk, attribute="given_name", value="Grace", actor=steward)
    return grace, twin


def test_one_timeline_tells_the_customer_s_story_and_a_chip_narrows_it(page, tmp_path):
    demo_users_ensure()
    grace, twin = _grace()
    sign_in(page, "steward", "steward-demo")

    page.goto(grace.get_absolute_url())
    timeline = page.get_by_test_id("timeline")
    for kind in ("consent", "contact", "steward"):
        expect(timeline.locator(f"[data-testid=timeline-entry][data-type={kind}]").first).to_be_visible()
    expect(timeline.get_by_test_id("engagement")).to_have_count(5)
    expect(timeline).to_contain_text(f"Merged with #{twin.pk} (score 0.93)")
    expect(timeline).to_contain_text("Email corrected")
    expect(timeline).to_contain_text("Override: given name pinned")
    expect(timeline).to_contain_text("Opted in → Opted out (via preference centre)")
    expect(timeline).not_to_contain_text("grace@navy.mil")  # values stay on the history page
    _shot(page, tmp_path, "timeline")

    page.get_by_test_id("timeline-filters").get_by_role(
        "link", name=re.compile("^Consents & preferences")
    ).click()
    expect(page).to_have_url(re.compile(r"\?type=consent"))
    expect(page.locator("#timeline [data-testid=engagement]")).to_have_count(0)
    expect(page.locator("#timeline [data-testid=timeline-entry][data-type=consent]")).to_have_count(2)
    expect(page.locator("#timeline [data-testid=timeline-entry][data-type=steward]")).to_have_count(0)
    _shot(page, tmp_path, "timeline-consents")

    page.get_by_test_id("timeline-filters").get_by_role("link", name=re.compile("^All")).click()
    expect(page.locator("#timeline [data-testid=engagement]")).to_have_count(5)
    page.locator("#timeline").get_by_role("link", name="Ledger").first.click()
    expect(page).to_have_url(re.compile(rf"/consents/parties/{grace.pk}/$"))

    # Erased on request: the timeline still tells what happened, and nothing of hers.
    party_erase(party_id=grace.pk, actor=get_user_model().objects.get(username="admin"), reason="PRIV-42")
    page.goto(grace.get_absolute_url())
    timeline = page.get_by_test_id("timeline")
    expect(timeline).to_contain_text("Erased on request")
    expect(timeline).to_contain_text("Email corrected")
    for value in ("grace", "Grace", "Hopper", "navy", "preference centre", "PRIV-42"):
        expect(timeline).not_to_contain_text(value)
    _shot(page, tmp_path, "timeline-erased")
