"""Imports, suggestions and merges, privacy requests, and the schema over the API."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from matching.models import MatchSuggestion, SuggestionStatus
from parties.models import EventKind, ImportJob, ImportStatus, Party, PartyEvent
from parties.services.imports.jobs import import_job_run
from parties.services.merge import party_merge
from tests.factories import SourceSystemFactory
from tests.matching.queue_helpers import suggestion_for
from tests.parties.customers import customer_copies

pytestmark = pytest.mark.django_db


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def _upload(client, content: bytes, **extra):
    return client.post(
        "/api/v1/imports/",
        {"source_system": "CRM", "file": SimpleUploadedFile("c.csv", content), **extra},
        format="multipart",
    )


def test_an_upload_starts_a_job_whose_status_and_errors_can_be_read(api, media):
    SourceSystemFactory(name="CRM")
    client = api("administrator")
    started = _upload(client, b"source_key,given_name,email\n1,Ann,ann@example.org\n,Bob,bob@x.org\n")
    assert started.status_code == 201, started.content
    job = started.json()
    assert job["status"] == "queued" and job["mapping"]["email"] == ["email"]
    import_job_run(job_id=job["id"])  # what the worker does
    done = client.get(job["url"]).json()
    assert (done["status"], done["rows_created"], done["rows_rejected"]) == ("succeeded", 1, 1)
    errors = client.get(f"{job['url']}errors/").json()
    assert errors == [
        {
            "line": 3,
            "column": "source_key",
            "value": "",
            "reason": "no source key: the row cannot be identified",
            "outcome": "row rejected",
        }
    ]


def test_uploads_are_refused_with_the_field_that_is_wrong(api, media):
    SourceSystemFactory(name="CRM")
    client = api("administrator")
    no_key = _upload(client, b"name,email\nAnn,ann@x.org\n")
    assert no_key.status_code == 400 and "source_key" in no_key.json()["errors"]["mapping"][0]
    unknown = client.post(
        "/api/v1/imports/",
        {"source_system": "Nope", "file": SimpleUploadedFile("c.csv", b"a\n")},
        format="multipart",
    )
    assert unknown.status_code == 400 and "source_system" in unknown.json()["errors"]
    assert _upload(client, b"\x00\x01binary", kind="parties").status_code == 400
    assert _upload(client, b"a\n1\n", kind="pets").json()["errors"]["kind"] == ["'pets' is not a file kind"]
    assert ImportJob.objects.filter(status=ImportStatus.QUEUED).count() == 0


def test_marketing_may_upload_consent_lists_but_not_customer_files(api, media):
    SourceSystemFactory(name="CRM")
    client = api("marketing")
    assert _upload(client, b"source_key,given_name\n1,Ann\n").status_code == 403
    consents = _upload(
        client, b"email,channel,purpose,status\nann@x.org,email,newsletter,opt_out\n", kind="consents"
    )
    assert consents.status_code == 201 and consents.json()["kind"] == "consents"
    listed = client.get("/api/v1/imports/").json()["results"]  # its own kind of job only, as on the pages
    assert [j["kind"] for j in listed] == ["consents"]
    assert client.get(consents.json()["url"]).status_code == 200
    customers = _upload(api("administrator"), b"source_key,given_name\n1,Ann\n").json()
    assert client.get(customers["url"]).status_code == 404


def test_suggestions_are_listed_filtered_and_decided_like_in_the_queue(api):
    c = customer_copies()
    high = suggestion_for([c.crm.pk, c.shop.pk], score=0.95)
    low = suggestion_for([c.pos.pk, c.employer.pk], score=0.55)
    client = api("steward")
    assert [s["id"] for s in client.get("/api/v1/suggestions/", {"score_min": 0.9}).json()["results"]] == [
        high.pk
    ]
    assert [
        s["id"] for s in client.get("/api/v1/suggestions/", {"source_system": "POS"}).json()["results"]
    ] == [low.pk]
    merged = client.post(
        f"/api/v1/suggestions/{high.pk}/decide/",
        {"decision": "merge", "survivor_id": c.crm.pk},
        format="json",
    )
    assert merged.status_code == 200 and merged.json()["status"] == "merged"
    assert merged.json()["decided_by"] == "api:steward-client"
    again = client.post(f"/api/v1/suggestions/{high.pk}/decide/", {"decision": "merge"}, format="json")
    assert again.status_code == 409
    rejected = client.post(
        f"/api/v1/suggestions/{low.pk}/decide/", {"decision": "not_a_match"}, format="json"
    )
    assert rejected.json()["status"] == SuggestionStatus.REJECTED
    assert client.post(f"/api/v1/suggestions/{low.pk}/decide/", {"decision": "maybe"}, format="json").json()[
        "errors"
    ]["decision"]
    assert api("marketing").get("/api/v1/suggestions/").status_code == 403
    assert MatchSuggestion.objects.get(pk=high.pk).status == SuggestionStatus.MERGED


def test_merges_are_listed_and_undone_by_stewards_only(api):
    c = customer_copies()
    event = party_merge(party_ids=[c.crm.pk, c.shop.pk], survivor_id=c.crm.pk)
    listed = api("steward").get("/api/v1/merges/").json()["results"]
    assert [(m["id"], m["survivor"], m["parties"], m["undone"]) for m in listed] == [
        (event.pk, c.crm.pk, sorted([c.crm.pk, c.shop.pk]), False)
    ]
    assert api("marketing").post(f"/api/v1/merges/{event.pk}/unmerge/", {}, format="json").status_code == 403
    undone = api("steward").post(
        f"/api/v1/merges/{event.pk}/unmerge/",
        {"reason": "two people", "different_customers": True},
        format="json",
    )
    assert undone.status_code == 200 and undone.json()["undone"] is True
    assert Party.objects.get(pk=c.shop.pk).status == "active"
    assert PartyEvent.objects.get(kind=EventKind.UNMERGE).actor_label == "api:steward-client"
    again = {"different_customers": False}
    assert api("steward").post(f"/api/v1/merges/{event.pk}/unmerge/", again, format="json").status_code == 409


def test_access_export_for_stewards_and_erasure_for_administrators_only(api):
    c = customer_copies()
    export = api("steward").get(f"/api/v1/parties/{c.crm.pk}/access-export/")
    assert export.status_code == 200 and export.json()["source_records"][0]["source_key"] == "C-1"
    assert api("marketing").get(f"/api/v1/parties/{c.crm.pk}/access-export/").status_code == 403
    url = f"/api/v1/parties/{c.crm.pk}/erasure/"
    assert (
        api("steward").post(url, {"request_reference": "P-1", "confirm": c.crm.pk}, format="json").status_code
        == 403
    )
    wrong = api("administrator").post(
        url, {"request_reference": "P-1", "confirm": c.crm.pk + 1000}, format="json"
    )
    assert wrong.status_code == 400 and "confirm" in wrong.json()["errors"]
    erased = api("administrator").post(url, {"request_reference": "P-1", "confirm": c.crm.pk}, format="json")
    assert erased.status_code == 200 and erased.json()["party_ids"] == [c.crm.pk]
    assert Party.objects.get(pk=c.crm.pk).erased_at is not None
    event = PartyEvent.objects.get(kind=EventKind.ERASURE)
    assert event.actor_label == "api:administrator-client" and event.reason == "P-1"


def test_the_schema_and_its_docs_are_served_without_a_cdn(client, steward):
    client.force_login(steward)  # they need a login or a token (tests/api/test_schema_access.py)
    schema = client.get("/api/schema/", {"format": "json"})
    assert schema.status_code == 200
    paths = schema.json()["paths"]
    assert "/api/v1/parties/{id}/" in paths and "/api/v1/consents/eligibility/" in paths
    assert schema.json()["components"]["securitySchemes"]["tokenAuth"]["name"] == "Authorization"
    docs = client.get("/api/docs/").content.decode()
    assert "/static/drf_spectacular_sidecar/swagger-ui-dist/" in docs and "cdn" not in docs.lower()


def test_every_error_has_the_same_shape(api):
    client = api("steward")
    assert set(client.get("/api/v1/parties/0/").json()) == {"detail"}
    assert set(client.delete("/api/v1/parties/").json()) == {"detail"}
    bad = client.get("/api/v1/suggestions/", {"score_min": "high"})
    assert (
        bad.status_code == 400
        and set(bad.json()) == {"detail", "errors"}
        and "score_min" in bad.json()["errors"]
    )


def test_lists_filter_and_order_as_documented(api, media):
    c = customer_copies()
    low = suggestion_for([c.crm.pk, c.shop.pk], score=0.6)
    high = suggestion_for([c.pos.pk, c.employer.pk], score=0.9)
    client = api("steward")
    by_score = client.get("/api/v1/suggestions/", {"ordering": "-score"}).json()["results"]
    assert [s["id"] for s in by_score] == [high.pk, low.pk]
    newest_first = client.get("/api/v1/parties/", {"ordering": "-id"}).json()["results"]
    assert [p["id"] for p in newest_first] == sorted((p["id"] for p in newest_first), reverse=True)
    event = party_merge(party_ids=[c.crm.pk, c.shop.pk], survivor_id=c.crm.pk)
    assert [m["id"] for m in client.get("/api/v1/merges/", {"party": c.shop.pk}).json()["results"]] == [
        event.pk
    ]
    assert client.get("/api/v1/merges/", {"party": c.pos.pk}).json()["results"] == []
    SourceSystemFactory(name="CRM2")
    job = _upload(api("administrator"), b"source_key,given_name\n1,Ann\n", source_system="CRM2").json()
    assert [j["id"] for j in client.get("/api/v1/imports/", {"status": "queued"}).json()["results"]] == [
        job["id"]
    ]
    assert client.get("/api/v1/imports/", {"source_system": "pos"}).json()["results"] == []
