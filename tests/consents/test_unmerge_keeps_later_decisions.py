"""Issue 16, items 1-3: an unmerge never brings back a consent the customer withdrew after the
merge; a consent change asked of a merged party's id lands on its survivor (and says so); an
erased customer's consents and preferences cannot change again. Every caller (service,
browser form, API) behaves the same."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from consents.models import (
    ConsentEvent,
    ConsentStatus,
    ContactPointConsent,
    ContactPointTypeConsent,
    DataUsePurpose,
    PrivacyPreference,
)
from consents.services.eligibility import eligible_points
from consents.services.ledger import Actor, consent_set, ledger_check, point_consent_set, preferences_set
from parties.services.merge import party_merge, party_unmerge
from tests.factories import EmailFactory, PartyFactory

pytestmark = pytest.mark.django_db
BEFORE = dt.datetime(2025, 1, 1, tzinfo=dt.UTC)
FORM = Actor(kind="user", label="test")


def _newsletter(party, status, when=None, source="web form"):
    return consent_set(
        party_id=party.pk,
        channel="email",
        purpose="newsletter",
        status=status,
        captured_at=when,
        capture_source=source,
        actor=FORM,
    )


def _status(party, channel="email", purpose="newsletter"):
    row = ContactPointTypeConsent.objects.filter(party=party, channel=channel, purpose__code=purpose).first()
    return row.status if row else None


def _on_newsletter_list(*parties) -> set[int]:
    purpose = DataUsePurpose.objects.get(code="newsletter")
    ids = {p.pk for p in parties}
    return {
        pid
        for pid in eligible_points(channel="email", purpose=purpose, on=timezone.localdate()).values_list(
            "party_id", flat=True
        )
        if pid in ids
    }


def _two_opted_in_customers():
    survivor, other = PartyFactory(), PartyFactory()
    EmailFactory(party=survivor, raw_value="rene.mueller@example.org")
    EmailFactory(party=other, raw_value="r.mueller@example.org")
    _newsletter(survivor, "opt_in", BEFORE)
    _newsletter(other, "opt_in", BEFORE, source="shop")
    return survivor, other


def test_unmerge_keeps_a_withdrawal_made_after_the_merge_on_every_party():
    # given two opted-in customers, merged; the customer then opts out on the survivor
    survivor, other = _two_opted_in_customers()
    assert _on_newsletter_list(survivor, other) == {survivor.pk, other.pk}
    merge = party_merge(party_ids=[survivor.pk, other.pk], survivor_id=survivor.pk)
    _newsletter(survivor, "opt_out", source="unsubscribe link")

    # when the merge is undone
    party_unmerge(event_id=merge.pk)

    # then the withdrawal holds on both parties, neither is on the list, the ledger says why
    assert (_status(survivor), _status(other)) == ("opt_out", "opt_out")
    assert _on_newsletter_list(survivor, other) == set()
    assert ledger_check() == []
    why = ConsentEvent.objects.filter(party=other, key="email/newsletter").latest("pk")
    assert why.new["status"] == "opt_out"
    assert "made after the merge" in why.evidence and "stays in force" in why.evidence
    assert "as before the merge" not in why.evidence


def test_unmerge_keeps_an_opt_out_given_after_the_merge_where_nobody_had_a_row():
    # a consent row first created after the merge (no party had one) must not be deleted as
    # "not held before the merge"
    survivor, other = PartyFactory(), PartyFactory()
    merge = party_merge(party_ids=[survivor.pk, other.pk], survivor_id=survivor.pk)
    consent_set(
        party_id=survivor.pk,
        channel="sms",
        purpose="marketing",
        status="opt_out",
        capture_source="call centre",
        actor=FORM,
    )

    party_unmerge(event_id=merge.pk)

    statuses = (_status(survivor, "sms", "marketing"), _status(other, "sms", "marketing"))
    assert statuses == ("opt_out", "opt_out")
    assert ledger_check() == []


def test_unmerge_gives_an_opt_in_made_after_the_merge_to_the_survivor_only():
    survivor, other = PartyFactory(), PartyFactory()
    _newsletter(survivor, "opt_out", BEFORE)
    _newsletter(other, "opt_out", BEFORE)
    merge = party_merge(party_ids=[survivor.pk, other.pk], survivor_id=survivor.pk)
    _newsletter(survivor, "opt_in", source="web form")

    party_unmerge(event_id=merge.pk)

    # the other party may be another person: it is not opted in on the survivor's word
    assert (_status(survivor), _status(other)) == ("opt_in", "opt_out")
    assert ledger_check() == []


def test_unmerge_without_later_decisions_still_restores_exactly():
    survivor, other = PartyFactory(), PartyFactory()
    _newsletter(survivor, "opt_in", BEFORE)
    _newsletter(other, "opt_out", BEFORE + dt.timedelta(days=1))
    merge = party_merge(party_ids=[survivor.pk, other.pk], survivor_id=survivor.pk)
    assert _status(survivor) == "opt_out"

    party_unmerge(event_id=merge.pk)

    assert (_status(survivor), _status(other)) == ("opt_in", "opt_out")
    assert ledger_check() == []


def test_unmerge_keeps_a_point_consent_withdrawn_after_the_merge_with_its_point():
    survivor, other = PartyFactory(), PartyFactory()
    email = EmailFactory(party=other, raw_value="only.other@example.org")
    point_consent_set(
        party_id=other.pk,
        point_kind="email",
        point_id=email.pk,
        purpose="newsletter",
        status="opt_in",
        captured_at=BEFORE,
        capture_source="shop",
        actor=FORM,
    )
    merge = party_merge(party_ids=[survivor.pk, other.pk], survivor_id=survivor.pk)
    point_consent_set(
        party_id=survivor.pk,
        point_kind="email",
        point_id=email.pk,
        purpose="newsletter",
        status="opt_out",
        capture_source="unsubscribe link",
        actor=FORM,
    )

    party_unmerge(event_id=merge.pk)

    row = ContactPointConsent.objects.get(point_kind="email", point_id=email.pk)
    assert (row.party_id, row.status) == (other.pk, "opt_out")
    assert ledger_check() == []


def test_unmerge_keeps_do_not_preferences_switched_on_after_the_merge_on_every_party():
    survivor, other = PartyFactory(), PartyFactory()
    preferences_set(party_id=other.pk, actor=FORM, changes={"preferred_language": "fr"})
    merge = party_merge(party_ids=[survivor.pk, other.pk], survivor_id=survivor.pk)
    preferences_set(
        party_id=survivor.pk, actor=FORM, changes={"do_not_solicit": True, "preferred_language": "de-AT"}
    )

    party_unmerge(event_id=merge.pk)

    mine, theirs = (PrivacyPreference.objects.get(party=p) for p in (survivor, other))
    assert mine.do_not_solicit and theirs.do_not_solicit  # a restriction holds for both
    assert (mine.preferred_language, theirs.preferred_language) == ("de-AT", "fr")
    assert ledger_check() == []


# --- item 2: a consent change asked of a merged party's id ---------------------------------


def test_a_consent_change_on_a_merged_id_is_applied_to_the_survivor():
    survivor, other = _two_opted_in_customers()
    party_merge(party_ids=[survivor.pk, other.pk], survivor_id=survivor.pk)

    row = _newsletter(other, "opt_out", source="unsubscribe link")

    assert row.party_id == survivor.pk
    assert _status(survivor) == "opt_out"
    assert _on_newsletter_list(survivor, other) == set()
    entry = ConsentEvent.objects.filter(party=survivor, key="email/newsletter").latest("pk")
    assert f"asked of party {other.pk}, which was merged into party {survivor.pk}" in entry.evidence


def test_the_browser_form_on_a_merged_id_says_where_the_change_went(role_client):
    survivor, other = _two_opted_in_customers()
    party_merge(party_ids=[survivor.pk, other.pk], survivor_id=survivor.pk)

    response = role_client("marketing").post(
        reverse("consents:consent_change", args=[other.pk]),
        {"set": "email|newsletter|opt_out", "capture_source": "phone call"},
        follow=True,
    )

    text = response.content.decode()
    assert f"party {other.pk} was merged into party {survivor.pk}" in text
    assert _status(survivor) == "opt_out"
    assert response.redirect_chain[-1][0] == reverse("consents:preferences", args=[survivor.pk])


def test_the_api_on_a_merged_id_applies_the_change_to_the_survivor(role_client):
    survivor, other = _two_opted_in_customers()
    party_merge(party_ids=[survivor.pk, other.pk], survivor_id=survivor.pk)

    response = role_client("marketing").post(
        f"/api/v1/parties/{other.pk}/consents/",
        {"channel": "email", "purpose": "newsletter", "status": "opt_out", "capture_source": "crm"},
        content_type="application/json",
    )

    assert response.status_code == 201, response.content
    assert response.json()["party_id"] == survivor.pk
    assert _status(survivor) == "opt_out"


# --- item 3: an erased customer ------------------------------------------------------------


def _erased():
    from consents.services.erasure import party_erase

    party = PartyFactory()
    _newsletter(party, "opt_in", BEFORE)
    party_erase(party_id=party.pk, actor=None, reason="customer asked to be forgotten")
    party.refresh_from_db()
    assert party.erased_at
    return party


@pytest.mark.parametrize(
    "change",
    [
        lambda p: _newsletter(p, "opt_in"),
        lambda p: preferences_set(party_id=p.pk, actor=FORM, changes={"do_not_process": False}),
    ],
)
def test_an_erased_customers_consents_and_preferences_cannot_change(change):
    party = _erased()
    entries = ConsentEvent.objects.count()

    with pytest.raises(ValidationError, match="erased"):
        change(party)

    assert ConsentEvent.objects.count() == entries
    assert _status(party) == ConsentStatus.OPT_OUT
    assert PrivacyPreference.objects.get(party=party).do_not_process


def test_the_browser_and_api_refuse_changes_to_an_erased_customer(role_client):
    party = _erased()
    client = role_client("marketing")

    page = client.post(
        reverse("consents:consent_change", args=[party.pk]),
        {"set": "email|newsletter|opt_in", "capture_source": "phone"},
        follow=True,
    )
    form = client.post(
        reverse("consents:preferences_change", args=[party.pk]),
        {"capture_source": "phone", "contact_frequency": ""},
        follow=True,
    )
    api = client.post(
        f"/api/v1/parties/{party.pk}/consents/",
        {"channel": "email", "purpose": "newsletter", "status": "opt_in", "capture_source": "crm"},
        content_type="application/json",
    )
    api_prefs = client.patch(
        f"/api/v1/parties/{party.pk}/preferences/",
        {"do_not_process": False, "capture_source": "crm"},
        content_type="application/json",
    )

    assert "Not changed" in page.content.decode() and "erased" in page.content.decode()
    assert "erased" in form.content.decode()
    assert api.status_code == 400 and "erased" in api.content.decode()
    assert api_prefs.status_code == 400 and "erased" in api_prefs.content.decode()
    assert _status(party) == ConsentStatus.OPT_OUT
    assert PrivacyPreference.objects.get(party=party).do_not_process


# --- an older decision never replaces a newer one, whoever sends it ------------------------


def test_a_late_consent_file_cannot_bring_back_an_opt_in_withdrawn_since(tmp_path):
    from django.core.management import call_command

    from parties.models import ImportJob, ImportRejection
    from tests.factories import SourceRecordFactory, SourceSystemFactory

    crm = SourceSystemFactory(name="CRM", default_region="DE", date_order="YMD")
    party = SourceRecordFactory(source_system=crm, source_key="CRM-1").party
    _newsletter(party, "opt_out", dt.datetime(2026, 6, 1, tzinfo=dt.UTC), source="unsubscribe link")
    path = tmp_path / "old-export.csv"
    path.write_text(
        "Customer ID,Channel,List,Subscribed,Date,Source\n"
        "CRM-1,email,newsletter,opt_in,2025-03-01,old shop export\n"
        "CRM-1,email,newsletter,seen,2026-11-01,old shop export\n"
    )

    call_command("import_source", str(path), source="CRM", kind="consents", sync=True, verbosity=0)

    assert _status(party) == "opt_out"
    job = ImportJob.objects.latest("pk")
    reasons = list(ImportRejection.objects.filter(job=job).order_by("line").values_list("line", "reason"))
    assert [line for line, _ in reasons] == [2, 3]
    assert "older than the opted out captured 2026-06-01" in reasons[0][1]
    assert "no decision" in reasons[1][1]
    assert ledger_check() == []


def test_the_api_refuses_an_opt_in_older_than_the_opt_out_in_force(role_client):
    party = PartyFactory()
    _newsletter(party, "opt_out", dt.datetime(2026, 6, 1, tzinfo=dt.UTC), source="unsubscribe link")

    response = role_client("marketing").post(
        f"/api/v1/parties/{party.pk}/consents/",
        {
            "channel": "email",
            "purpose": "newsletter",
            "status": "opt_in",
            "capture_source": "crm",
            "captured_at": "2025-01-01T00:00:00Z",
        },
        content_type="application/json",
    )

    assert response.status_code == 400
    assert "older decision never replaces a newer one" in response.content.decode()
    assert _status(party) == "opt_out"


def test_an_erased_customers_preference_page_offers_no_change(role_client):
    party = _erased()

    page = role_client("marketing").get(reverse("consents:preferences", args=[party.pk]))

    text = page.content.decode()
    assert page.status_code == 200 and 'data-testid="erased-notice"' in text
    assert "Opt in</button>" not in text and "Save preferences" not in text
