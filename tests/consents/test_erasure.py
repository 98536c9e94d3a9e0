"""Erasure (right to be forgotten): no personal value of the customer is left in any column of
any table, nor in a stored import file; a re-import of the same person is not contactable; the
audit trail keeps that it happened, without values."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.contrib.admin.models import CHANGE, LogEntry
from django.contrib.contenttypes.models import ContentType
from django.core.management import CommandError, call_command
from django.db import connection
from django.test import TestCase
from django.urls import reverse
from django.utils import timezone

from consents.models import DataUsePurpose, ErasureTombstone, PrivacyPreference
from consents.services.eligibility import eligibility_explain, eligible_points
from consents.services.erasure import party_erase
from consents.services.ledger import Actor, consent_set, ledger_check, point_consent_set, preferences_set
from consents.services.privacy import subject_access_export
from matching.models import MatchSuggestion, SuggestionStatus
from matching.services.review import suggestion_merge
from parties.models import (
    ContactPointEmail,
    DataQualityIssue,
    EventKind,
    ImportJob,
    ImportRejection,
    Party,
    PartyEvent,
    SourceRecord,
)
from parties.services.merge import MergeRefused, party_unmerge
from parties.services.overrides import golden_override_set
from tests.factories import SourceSystemFactory
from tests.matching.helpers import trained

pytestmark = pytest.mark.django_db

HEADER = (
    "source_key,given_name,family_name,birth_date,email,phone,address_line1,city,postal_code,country,"
    "identifier_type,identifier_value\n"
)
CRM_FILE = HEADER + (
    "ZQ-CRM-7781,Zebulon,Quattlebaum,14.03.1971,zeb.quattlebaum@example.org,0171 5550199,"
    "Quattlebaumweg 17,Berlin,10115,DE,loyalty_number,LOY-99817\n"
    "ZQ-CRM-7781,Zebulon,Quattlebaum,14.03.1971,zeb.quattlebaum@example.org,,,,,,,\n"  # a repeated key
)
SHOP_FILE = HEADER + (
    "ZQ-SHOP-4410,Zebulon,Quattlebaum,14.03.1971,zeb.quattlebaum@example.org,+49 171 5550199,"
    "Quattlebaumweg 17,Berlin,10115,DE,,\n"
    "ZQ-SHOP-4411,Zebulon,Quattlebaum,,zeb.quattlebaum(at)example,,,,,,,\n"  # an invalid email
)
# What must be gone: every way the customer's values are written.
PERSONAL = [
    "Zebulon",
    "Quattlebaum",
    "zeb.quattlebaum",
    "5550199",
    "14.03.1971",
    "1971-03-14",
    "ZQ-CRM-7781",
    "ZQ-SHOP-4410",
    "ZQ-SHOP-4411",
    "LOY-99817",
    "Zeb the Quattle",
]


def value_hits(values: list[str]) -> set[tuple[str, str]]:
    """(table, column) of every cell of every table that contains one of the values."""
    hits = set()
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names(cursor):
            for column in connection.introspection.get_table_description(cursor, table):
                if connection.vendor == "postgresql" and column.type_code == 17:  # bytea
                    cell = f"encode({quote(column.name)}, 'escape')"
                else:
                    cell = f"CAST({quote(column.name)} AS TEXT)"
                condition = " OR ".join(f"LOWER({cell}) LIKE %s" for _ in values)
                cursor.execute(
                    f"SELECT COUNT(*) FROM {quote(table)} WHERE {condition}",  # noqa: S608
                    [f"%{v.lower()}%" for v in values],
                )
                if cursor.fetchone()[0]:
                    hits.add((table, column.name))
    return hits


def file_hits(root: Path, values: list[str]) -> list[str]:
    return [
        str(p)
        for p in root.rglob("*")
        if p.is_file() and any(v.lower().encode() in p.read_bytes().lower() for v in values)
    ]


def _import(tmp_path: Path, source: str, text: str, kind: str = "parties") -> ImportJob:
    path = tmp_path / f"{source}-{kind}.csv"
    path.write_text(text)
    call_command("import_source", str(path), source=source, kind=kind, sync=True, verbosity=0)
    return ImportJob.objects.latest("pk")


@pytest.fixture
def zebulon(tmp_path, settings, steward, django_capture_on_commit_callbacks):
    """Zebulon, imported from a CRM and a web shop with a trained matcher: merged from the
    queue, with consents, an override and an admin log entry — his values everywhere."""
    settings.MEDIA_ROOT = tmp_path / "media"
    trained(tmp_path, parties=150, seed=6)
    SourceSystemFactory(name="Zeta CRM", default_region="DE", date_order="DMY", trust_rank=5)
    SourceSystemFactory(name="Zeta Shop", default_region="DE", date_order="DMY", trust_rank=20)
    _import(tmp_path, "Zeta CRM", CRM_FILE)
    _import(tmp_path, "Zeta Shop", SHOP_FILE)
    call_command("rematch", "--sync", verbosity=0)
    ids = set(SourceRecord.objects.filter(source_key__startswith="ZQ-").values_list("party_id", flat=True))
    pending = MatchSuggestion.objects.filter(status=SuggestionStatus.PENDING)
    suggestion = pending.filter(members__party_id__in=ids).first()
    assert suggestion is not None, "the matcher should suggest Zebulon's copies"
    survivor = suggestion_merge(suggestion_id=suggestion.pk, user=steward).survivor_id
    absorbed = set(Party.objects.filter(merged_into_id=survivor).values_list("pk", flat=True))
    remaining = ids - absorbed - {survivor}
    for party_id in remaining:  # the third copy, if the matcher left it out: merged by hand
        from parties.services.merge import party_merge

        party_merge(party_ids=[survivor, party_id], survivor_id=survivor, actor=steward)
    actor = Actor.of_user(steward)
    consent_set(
        party_id=survivor,
        channel="email",
        purpose="newsletter",
        status="opt_in",
        capture_source="call with Zebulon Quattlebaum",
        actor=actor,
        evidence="asked from zeb.quattlebaum@example.org",
    )
    email = ContactPointEmail.objects.get(party_id=survivor, normalized="zeb.quattlebaum@example.org")
    point_consent_set(
        party_id=survivor,
        point_kind="email",
        point_id=email.pk,
        purpose="marketing",
        status="opt_in",
        capture_source="web form",
        actor=actor,
    )
    preferences_set(
        party_id=survivor,
        changes={"interests": ["quattlebaum family reunions"]},
        actor=actor,
        capture_source="survey",
    )
    golden_override_set(
        party_id=survivor,
        attribute="given_name",
        value="Zeb the Quattle",
        actor=steward,
        reason="Zebulon prefers it",
    )
    party = Party.objects.get(pk=survivor)
    LogEntry.objects.create(
        user=steward,
        content_type=ContentType.objects.get_for_model(Party),
        object_id=str(survivor),
        object_repr=str(party),
        action_flag=CHANGE,
        change_message="checked Zebulon Quattlebaum's record",
    )
    return party


def erasure_run(**kwargs):
    """``party_erase`` with what it does after commit (the stored files' changes) run: the
    test's own transaction never commits."""
    with TestCase.captureOnCommitCallbacks(execute=True):
        return party_erase(**kwargs)


def test_erasure_leaves_no_personal_value_in_any_table_or_file(
    zebulon, administrator, settings, role_client, django_capture_on_commit_callbacks
):
    before = value_hits(PERSONAL)
    must_have = {
        "parties_party",
        "parties_sourcerecord",
        "parties_contactpointemail",
        "parties_partyevent",
        "consents_consentevent",
        "matching_matchrecord",
        "matching_matchsuggestion",
        "parties_dataqualityissue",
        "parties_importrejection",
        "django_admin_log",
        "parties_goldenoverride",
        "parties_partyidentification",
    }
    assert must_have <= {table for table, _ in before}, "the fixture should spread the values everywhere"
    assert file_hits(Path(settings.MEDIA_ROOT), PERSONAL)
    merged = list(Party.objects.filter(merged_into=zebulon).values_list("pk", flat=True))

    form = {"request_reference": "PRIV-1234", "confirm": zebulon.pk}
    response = role_client("administrator").post(reverse("consents:erase", args=[merged[0]]), form)
    assert response.status_code == 302  # a merged id leads to the survivor's erasure page
    with django_capture_on_commit_callbacks(execute=True):  # the files change after commit
        response = role_client("administrator").post(reverse("consents:erase", args=[zebulon.pk]), form)

    assert response.status_code == 302
    assert value_hits(PERSONAL) == set()
    assert file_hits(Path(settings.MEDIA_ROOT), PERSONAL) == []
    assert ledger_check() == []
    erased = Party.objects.filter(pk__in=[zebulon.pk, *merged])
    assert all(p.erased_at for p in erased) and erased.count() == 1 + len(merged)
    event = PartyEvent.objects.get(kind=EventKind.ERASURE)
    assert event.party_id == zebulon.pk and event.actor == administrator and event.reason == "PRIV-1234"
    assert event.changes["counts"]["source_records"] == 3 and event.before == {}
    assert ErasureTombstone.objects.filter(erasure_event_id=event.pk).count() >= 6
    assert DataQualityIssue.objects.filter(source_record__party_id__in=[zebulon.pk, *merged]).exists()
    assert not MatchSuggestion.objects.filter(status=SuggestionStatus.PENDING, members__party_id=zebulon.pk)
    named = MatchSuggestion.objects.filter(members__party_id__in=[zebulon.pk, *merged])
    assert (
        named.exists() and not named.exclude(values_digest="", content_digest="").exists()
    )  # no digest either
    why = role_client("marketing").get(
        reverse("consents:eligibility"),
        {
            "channel": "email",
            "purpose": "newsletter",
            "on": "2026-11-24",
            "lookup": "Zeb.Quattlebaum@example.org",
        },
    )
    assert b"It belonged to a customer erased on request" in why.content
    history = role_client("administrator").get(reverse("parties:history", args=[zebulon.pk]))
    assert history.status_code == 200 and b"Erasure (right to be forgotten)" in history.content
    assert b"PRIV-1234" in history.content and b"Quattlebaum" not in history.content
    prefs = PrivacyPreference.objects.get(party=zebulon)
    assert prefs.do_not_process and prefs.do_not_solicit and prefs.interests == []


def test_an_erased_customer_imported_again_is_not_contactable(
    zebulon, tmp_path, administrator, django_capture_on_commit_callbacks
):
    party_erase(party_id=zebulon.pk, actor=administrator, reason="PRIV-1")

    with django_capture_on_commit_callbacks(execute=True):  # Zebulon comes back, and so does Ola
        _import(
            tmp_path,
            "Zeta Shop",
            SHOP_FILE.replace("ZQ-SHOP-4411", "ZQ-SHOP-9999")
            + "ZQ-OTHER-1,Ola,Nordmann,,ola@example.no,,,,,,,\n",
        )
    back = SourceRecord.objects.get(source_key="ZQ-SHOP-4410").party
    ola = SourceRecord.objects.get(source_key="ZQ-OTHER-1").party
    for party in (back, ola):
        consent_set(
            party_id=party.pk,
            channel="email",
            purpose="newsletter",
            status="opt_in",
            capture_source="newsletter sign-up",
            actor=Actor(label="test"),
        )

    email = ContactPointEmail.objects.get(party=back, normalized="zeb.quattlebaum@example.org")
    purpose = DataUsePurpose.objects.get(code="newsletter")
    eligible = set(
        eligible_points(channel="email", purpose=purpose, on=timezone.localdate()).values_list(
            "party_id", flat=True
        )
    )
    assert ola.pk in eligible and back.pk not in eligible
    explanation = eligibility_explain(email, channel="email", purpose=purpose, on=timezone.localdate())
    assert "the customer asked us not to process their data" in explanation.reasons
    flag = back.consent_events.get(actor_label="erasure tombstone")
    assert flag.evidence.startswith(f"matches a customer erased on {timezone.localdate():%Y-%m-%d}")
    assert "email address" in flag.evidence and "source system and key" in flag.evidence
    assert not ola.consent_events.filter(actor_label="erasure tombstone").exists()


def test_erased_parties_cannot_be_changed_or_erased_twice(zebulon, administrator, steward):
    merge = PartyEvent.objects.filter(kind__in=[EventKind.MERGE, EventKind.AUTO_MERGE], party=zebulon).first()
    party_erase(party_id=zebulon.pk, actor=administrator, reason="PRIV-2")

    with pytest.raises(MergeRefused, match="erased on request"):
        party_unmerge(event_id=merge.pk, actor=steward)
    with pytest.raises(Exception, match="already erased"):
        party_erase(party_id=zebulon.pk, actor=administrator)
    document = subject_access_export(party_id=zebulon.pk)  # what is left can still be exported
    assert all(r["raw_payload"] == {} for r in document["source_records"])


def test_erasure_needs_the_permission_and_a_typed_confirmation(zebulon, role_client):
    url = reverse("consents:erase", args=[zebulon.pk])
    assert role_client("marketing").get(url).status_code == 403
    form = {"request_reference": "x", "confirm": zebulon.pk}
    assert role_client("steward").post(url, form).status_code == 403

    page = role_client("administrator").get(url)
    assert page.status_code == 200 and b"cannot be undone" in page.content
    wrong = role_client("administrator").post(url, {"request_reference": "PRIV-3", "confirm": "12"})

    assert wrong.status_code == 200 and f"type {zebulon.pk} to confirm".encode() in wrong.content
    assert Party.objects.get(pk=zebulon.pk).erased_at is None
    assert not ImportRejection.objects.filter(value="[erased]").exists()


def test_the_command_shows_first_and_erases_with_yes(zebulon, capsys):
    merged = Party.objects.filter(merged_into=zebulon).first()
    call_command("erase_party", str(merged.pk), reference="PRIV-9")
    assert "Would erase party" in capsys.readouterr().out
    assert Party.objects.get(pk=zebulon.pk).erased_at is None

    call_command("erase_party", str(merged.pk), reference="PRIV-9", yes=True)
    assert f"Erased party {zebulon.pk}" in capsys.readouterr().out
    assert Party.objects.get(pk=zebulon.pk).erased_at is not None
    with pytest.raises(CommandError, match="already erased"):
        call_command("erase_party", str(zebulon.pk), reference="PRIV-9", yes=True)
    with pytest.raises(CommandError, match="There is no party 0"):
        call_command("erase_party", "0", reference="PRIV-9", yes=True)
