"""Issue 19, item 7: a consent or preference change asked of a merged party's id is applied to
its survivor by the ledger service (``_party_for_change``), whoever calls it: the services,
the grid's batch (``consent_set_many``), the preference form, the API and a consent file. No
caller resolves the merge itself. (The service and the one-cell form and the API consent POST
are in ``test_unmerge_keeps_later_decisions.py``.)"""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.management import call_command
from django.urls import reverse

from consents.models import ConsentEvent, ContactPointConsent, ContactPointTypeConsent, PrivacyPreference
from consents.services.ledger import (
    Actor,
    ConsentChange,
    consent_set_many,
    ledger_check,
    point_consent_set,
    preferences_set,
)
from parties.models import ContactPointEmail, Party, PartyStatus, SourceRecord
from parties.services.merge import party_merge
from tests.factories import PartyFactory, SourceRecordFactory, SourceSystemFactory

pytestmark = pytest.mark.django_db
FORM = Actor(kind="user", label="test")


@pytest.fixture
def merged():
    survivor, other = PartyFactory(), PartyFactory()
    party_merge(party_ids=[survivor.pk, other.pk], survivor_id=survivor.pk)
    return survivor, other


def _status(party, channel="email", purpose="newsletter"):
    row = ContactPointTypeConsent.objects.filter(party=party, channel=channel, purpose__code=purpose).first()
    return row.status if row else None


def _names_asked_id(survivor, other, key):
    entry = ConsentEvent.objects.filter(party=survivor, key=key).latest("pk")
    return f"asked of party {other.pk}, which was merged into party {survivor.pk}" in entry.evidence


def _nothing_on(party):
    return (
        not ContactPointTypeConsent.objects.filter(party=party).exists()
        and not PrivacyPreference.objects.filter(party=party).exists()
        and not ConsentEvent.objects.filter(party=party).exclude(actor_label__startswith="merge").exists()
    )


def test_the_batch_service_applies_every_change_to_the_survivor(merged):
    survivor, other = merged

    rows = consent_set_many(
        party_id=other.pk,
        capture_source="phone call",
        actor=FORM,
        changes=[
            ConsentChange("email", "newsletter", "opt_out"),
            ConsentChange("sms", "marketing", "opt_in"),
        ],
    )

    assert {row.party_id for row in rows} == {survivor.pk}
    assert (_status(survivor), _status(survivor, "sms", "marketing")) == ("opt_out", "opt_in")
    assert _names_asked_id(survivor, other, "email/newsletter")
    assert _names_asked_id(survivor, other, "sms/marketing")
    assert _nothing_on(other)
    assert ledger_check() == []


def test_the_preferences_service_applies_the_change_to_the_survivor(merged):
    survivor, other = merged

    row = preferences_set(
        party_id=other.pk, actor=FORM, changes={"do_not_solicit": True}, capture_source="letter"
    )

    assert row.party_id == survivor.pk
    assert PrivacyPreference.objects.get(party=survivor).do_not_solicit
    assert _names_asked_id(survivor, other, "preferences")
    assert _nothing_on(other)


def test_a_contact_points_consent_asked_of_the_merged_id_is_the_survivors(merged):
    survivor, other = merged
    email = ContactPointEmail.objects.create(
        party=survivor, raw_value="a@example.org", normalized="a@example.org"
    )

    row = point_consent_set(
        party_id=other.pk,
        point_kind="email",
        point_id=email.pk,
        purpose="newsletter",
        status="opt_out",
        capture_source="link",
        actor=FORM,
    )

    assert row.party_id == survivor.pk
    assert ContactPointConsent.objects.get(point_id=email.pk).party_id == survivor.pk


def test_the_grid_saves_several_changes_on_the_survivor_and_says_so(role_client, merged):
    survivor, other = merged

    response = role_client("marketing").post(
        reverse("consents:consent_change", args=[other.pk]),
        {"change": ["email|newsletter|opt_out", "sms|marketing|opt_in"], "capture_source": "phone call"},
        follow=True,
    )

    text = response.content.decode()
    assert f"on party {survivor.pk} (party {other.pk} was merged into party {survivor.pk})" in text
    assert "2 changes, recorded in the ledger" in text
    assert (_status(survivor), _status(survivor, "sms", "marketing")) == ("opt_out", "opt_in")
    assert _nothing_on(other)
    assert response.redirect_chain[-1][0] == reverse("consents:preferences", args=[survivor.pk])


def test_the_preference_form_saves_on_the_survivor_and_says_so(role_client, merged):
    survivor, other = merged

    response = role_client("marketing").post(
        reverse("consents:preferences_change", args=[other.pk]),
        {"capture_source": "phone", "do_not_track": "on", "contact_frequency": ""},
        follow=True,
    )

    text = response.content.decode()
    assert f"Preferences saved on party {survivor.pk} (party {other.pk} was merged into party" in text
    assert PrivacyPreference.objects.get(party=survivor).do_not_track
    assert _nothing_on(other)
    assert response.redirect_chain[-1][0] == reverse("consents:preferences", args=[survivor.pk])


def test_the_api_changes_preferences_of_the_survivor(role_client, merged):
    survivor, other = merged

    response = role_client("marketing").patch(
        f"/api/v1/parties/{other.pk}/preferences/",
        {"do_not_profile": True, "capture_source": "crm"},
        content_type="application/json",
    )

    assert response.status_code == 200, response.content
    assert response.json()["party_id"] == survivor.pk
    assert PrivacyPreference.objects.get(party=survivor).do_not_profile
    assert _nothing_on(other)


FILE = (
    "Customer ID,Channel,List,Subscribed,Date,Source\n"
    "{key},email,newsletter,opt_out,2026-10-01,email platform\n"
)


@pytest.mark.parametrize("record_left_behind", [False, True])
def test_a_consent_file_naming_a_merged_customer_changes_the_survivor(tmp_path, record_left_behind):
    # given a customer whose two parties were merged; a merge moves the source records to the
    # survivor, but a record may still name the merged party (record_left_behind)
    crm = SourceSystemFactory(name="CRM", default_region="DE", date_order="YMD")
    other = SourceRecordFactory(source_system=crm, source_key="CRM-7").party
    survivor = PartyFactory()
    party_merge(party_ids=[survivor.pk, other.pk], survivor_id=survivor.pk)
    if record_left_behind:
        SourceRecord.objects.filter(source_key="CRM-7").update(party=other)
    assert Party.objects.get(pk=other.pk).status == PartyStatus.MERGED

    path = tmp_path / "consents.csv"
    path.write_text(FILE.format(key="CRM-7"))
    call_command("import_source", str(path), source="CRM", kind="consents", sync=True, verbosity=0)

    assert _status(survivor) == "opt_out"
    assert _nothing_on(other)
    entry = ConsentEvent.objects.get(party=survivor, key="email/newsletter")
    assert entry.import_line == 2
    assert _names_asked_id(survivor, other, "email/newsletter") == record_left_behind
    assert ledger_check() == []
    assert (
        dt.datetime(2026, 10, 1, tzinfo=dt.UTC)
        <= ContactPointTypeConsent.objects.get(party=survivor).captured_at
    )
