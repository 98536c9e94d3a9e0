"""The merge queue, the review page, and the party history pages, through the test client."""

from __future__ import annotations

import pytest
from django.urls import reverse

from matching.models import MatchSuggestion, SuggestionStatus
from parties import models as m
from tests.matching.queue_helpers import suggestion_for
from tests.parties.customers import customer_copies

pytestmark = pytest.mark.django_db


@pytest.fixture
def queue():
    c = customer_copies()
    m.ContactPointAddress.objects.create(
        party=c.shop,
        raw_value="x",
        line1="Hauptstr. 1",
        city="Berlin",
        postal_code="10115",
        country="DE",
        normalized="hauptstr 1|10115|berlin|de",
    )
    m.Engagement.objects.create(
        party=c.employer, engagement_type="case", status="open", occurred_at=c.crm.created_at
    )
    first = suggestion_for([c.crm.pk, c.shop.pk], score=0.91)
    second = suggestion_for([c.pos.pk, c.employer.pk], score=0.62)
    return c, first, second


def _rows(response) -> list[int]:
    return [s.pk for s in response.context["page"]]


@pytest.mark.parametrize(
    "query, expected",
    [
        ("", ["first", "second"]),
        ("q=schmidt", ["first", "second"]),
        ("q=0151+234+5678", ["first"]),  # a phone number written the national way
        ("q=%2B49+151+2345678", ["first"]),
        ("q=pos@example", ["second"]),
        ("country=de", ["first"]),
        ("score_min=0.8", ["first"]),
        ("kind=mixed", ["second"]),
        ("order=risk", ["second", "first"]),  # a Gold member and an open case beat an open order
        ("assigned=mine", []),
    ],
)
def test_the_queue_filters_and_orders(role_client, queue, query, expected):
    _, first, second = queue
    named = {"first": first.pk, "second": second.pk}
    response = role_client("steward").get(reverse("matching:suggestions") + "?" + query)
    assert response.status_code == 200
    assert _rows(response) == [named[n] for n in expected]


def test_the_queue_by_source_system_and_the_counts(role_client, queue):
    c, first, _ = queue
    shop = m.SourceSystem.objects.get(name="Shop")
    response = role_client("steward").get(reverse("matching:suggestions") + f"?source={shop.pk}")
    assert _rows(response) == [first.pk]
    assert response.context["counts"].pending == 2
    assert b"decided today by me" in response.content


def test_marketing_may_not_open_the_queue(role_client, queue):
    _, first, _ = queue
    client = role_client("marketing")
    assert client.get(reverse("matching:suggestions")).status_code == 403
    assert client.get(reverse("matching:review", args=[first.pk])).status_code == 403
    decide = reverse("matching:review_decide", args=[first.pk])
    assert client.post(decide, {"action": "merge"}).status_code == 403


def test_the_review_page_shows_the_cluster_side_by_side(role_client, queue):
    c, first, _ = queue
    response = role_client("steward").get(reverse("matching:review", args=[first.pk]))
    content = response.content.decode()
    assert response.status_code == 200
    assert "Anna" in content and "Anne" in content and "CRM" in content and "Shop" in content
    given = next(r for r in response.context["sheet"].rows if r.attribute == "given_name")
    assert given.differs and given.choices == ["Anna", "Anne"]
    assert 'name="value_given_name"' in content
    assert "Golden record after the merge" in content


def test_the_preview_flags_conflicts_for_the_ticked_members(role_client, queue):
    c, first, _ = queue
    m.SourceRecord.objects.filter(source_key="C-1").update(
        standardized={
            "kind": "individual",
            "attributes": {"given_name": "Anna", "family_name": "Schmidt", "birth_date": "1981-01-01"},
        }
    )
    response = role_client("steward").post(
        reverse("matching:review_preview", args=[first.pk]),
        {"members": [c.crm.pk, c.shop.pk], "survivor": c.shop.pk, "value_given_name": "Anna"},
    )
    content = response.content.decode()
    assert (
        f"Different birth dates: 1980-05-17 (party #{c.shop.pk}, Shop), 1981-01-01 (party #{c.crm.pk}, CRM)"
    ) in content
    assert f"Survivor: Anne Schmidt #{c.shop.pk}" in content
    assert "steward override" in content  # the chosen given name


def test_merge_from_the_review_page_opens_the_next_suggestion(role_client, queue):
    c, first, second = queue
    response = role_client("steward").post(
        reverse("matching:review_decide", args=[first.pk]),
        {"action": "merge", "members": [c.crm.pk, c.shop.pk], "survivor": c.crm.pk},
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("matching:review", args=[second.pk])
    assert MatchSuggestion.objects.get(pk=first.pk).status == SuggestionStatus.MERGED
    again = role_client("steward").post(
        reverse("matching:review_decide", args=[first.pk]), {"action": "merge"}, follow=True
    )
    assert b"already handled (merged) by t-steward" in again.content


def test_skip_and_not_a_match_move_on(role_client, queue):
    _, first, second = queue
    client = role_client("steward")
    skip = client.post(reverse("matching:review_decide", args=[first.pk]), {"action": "skip"})
    assert skip["Location"] == reverse("matching:review", args=[second.pk])
    reject = client.post(reverse("matching:review_decide", args=[first.pk]), {"action": "reject"})
    assert reject["Location"] == reverse("matching:review", args=[second.pk])
    assert MatchSuggestion.objects.get(pk=first.pk).status == SuggestionStatus.REJECTED
    last = client.post(reverse("matching:review_decide", args=[second.pk]), {"action": "reject"}, follow=True)
    assert b"That was the last suggestion in this queue" in last.content


def test_a_stale_suggestion_says_so(role_client, queue):
    c, first, _ = queue
    m.ContactPointPhone.objects.create(party=c.crm, raw_value="030 1234567", normalized="+49301234567")
    response = role_client("steward").post(
        reverse("matching:review_decide", args=[first.pk]),
        {"action": "merge", "members": [c.crm.pk, c.shop.pk]},
        follow=True,
    )
    assert b"changed since this suggestion was made (phones)" in response.content
    assert b"review it again" in response.content
    assert MatchSuggestion.objects.get(pk=first.pk).status == SuggestionStatus.PENDING


def test_bulk_merge_confirms_how_many_parties_merge(role_client, queue):
    _, first, second = queue
    client = role_client("steward")
    url = reverse("matching:queue_bulk_merge")
    confirm = client.post(url, {"scope": "above", "score_at_least": "0.5"})
    assert b"2 parties will merge" in confirm.content
    assert not m.PartyEvent.objects.exists()
    shown = confirm.context["shown"]  # what the confirmation showed, posted back with it
    client.post(url, {"scope": "above", "score_at_least": "0.5", "confirm": "yes", "shown": shown})
    from matching.models import BulkMergeJob
    from matching.services.bulk import bulk_merge_job_run

    done = bulk_merge_job_run(job_id=BulkMergeJob.objects.get().pk)  # the worker's part
    assert (done.merged, done.parties_merged) == (2, 2)
    bad = client.post(url, {"scope": "above", "score_at_least": "lots"}, follow=True)
    assert b"Score: enter a number between 0 and 1" in bad.content


def test_claiming_from_the_queue(role_client, queue):
    client = role_client("steward")
    response = client.post(reverse("matching:queue_claim"), {"order": "score"}, follow=True)
    assert b"You claimed 2 suggestions" in response.content
    mine = client.get(reverse("matching:suggestions") + "?assigned=mine")
    assert len(_rows(mine)) == 2
    other = role_client("administrator").get(reverse("matching:suggestions") + "?assigned=unassigned")
    assert _rows(other) == []


def test_history_unmerge_split_and_who_may(role_client, queue):
    c, first, _ = queue
    steward = role_client("steward")
    steward.post(
        reverse("matching:review_decide", args=[first.pk]),
        {"action": "merge", "members": [c.crm.pk, c.shop.pk], "survivor": c.crm.pk},
    )
    event = m.PartyEvent.objects.get(kind="merge")
    # a merged party's page leads to its survivor
    assert steward.get(reverse("parties:detail", args=[c.shop.pk]))["Location"] == f"/parties/{c.crm.pk}/"
    history = steward.get(reverse("parties:history", args=[c.crm.pk]))
    assert b"Unmerge" in history.content and f"suggestion #{first.pk}".encode() in history.content
    unmerge_url = reverse("parties:unmerge", args=[c.crm.pk, event.pk])
    assert role_client("marketing").post(unmerge_url).status_code == 403
    steward = role_client("steward")
    unsaid = steward.post(unmerge_url, follow=True)  # the steward must say why
    assert b"not undone" in unsaid.content and m.Party.objects.get(pk=c.shop.pk).status == "merged"
    done = steward.post(unmerge_url, {"why": "different"}, follow=True)
    assert b"undone" in done.content
    assert m.Party.objects.get(pk=c.shop.pk).status == "active"
    twice = steward.post(unmerge_url, {"why": "undo"}, follow=True)
    assert b"already undone by t-steward" in twice.content

    steward.post(reverse("matching:review_decide", args=[first.pk]), {"action": "skip"})
    record = m.SourceRecord.objects.get(source_key="C-1")
    refused = steward.post(reverse("parties:split", args=[c.crm.pk]), {"records": [record.pk]}, follow=True)
    assert b"at least one source record" in refused.content


def test_overrides_from_the_party_page(role_client, queue):
    c, _, _ = queue
    steward = role_client("steward")
    url = reverse("parties:override", args=[c.crm.pk])
    bad = steward.post(url, {"attribute": "birth_date", "value": "31.02.1980"}, follow=True)
    assert b"Override not saved" in bad.content and b"not a date (YYYY-MM-DD)" in bad.content
    steward.post(url, {"attribute": "birth_date", "value": "1980-05-17", "reason": "passport"})
    page = steward.get(reverse("parties:detail", args=[c.crm.pk]))
    assert b"steward override" in page.content
    assert m.Party.objects.get(pk=c.crm.pk).birth_date.isoformat() == "1980-05-17"
    assert role_client("marketing").post(url, {"attribute": "given_name", "value": "X"}).status_code == 403


def test_survivorship_rules_are_for_administrators(role_client):
    url = reverse("parties:survivorship")
    assert role_client("steward").get(url).status_code == 200
    assert role_client("steward").post(url, {"given_name": "longest"}).status_code == 403
    data = {a: "trust_rank" for a, _ in m.GOLDEN_ATTRIBUTE_CHOICES} | {"given_name": "longest"}
    response = role_client("administrator").post(url, data, follow=True)
    assert b"1 rule changed" in response.content
    assert m.SurvivorshipRule.objects.get(attribute="given_name").rule == "longest"
    invalid = role_client("administrator").post(url, data | {"family_name": "loudest"})
    assert b"Select a valid choice" in invalid.content


def test_garbled_chosen_values_are_refused_with_the_field_named(role_client, queue):
    c, first, _ = queue
    client = role_client("steward")
    preview = client.post(
        reverse("matching:review_preview", args=[first.pk]),
        {"value_birth_date": "yesterday", "value_shoe_size": "44"},
    )
    assert preview.status_code == 200
    assert b"Birth date: &#x27;yesterday&#x27; is not a date (YYYY-MM-DD)" in preview.content
    merge = client.post(
        reverse("matching:review_decide", args=[first.pk]),
        {"action": "merge", "members": [c.crm.pk, c.shop.pk], "value_birth_date": "yesterday"},
        follow=True,
    )
    assert b"Birth date: &#x27;yesterday&#x27; is not a date" in merge.content
    assert not m.PartyEvent.objects.exists()
    unknown = client.post(
        reverse("matching:review_decide", args=[first.pk]), {"action": "explode"}, follow=True
    )
    assert b"Unknown action" in unknown.content


def test_opening_a_suggestion_claims_it_and_warns_a_colleague(role_client, queue):
    _, first, _ = queue
    role_client("steward").get(reverse("matching:review", args=[first.pk]))
    assert MatchSuggestion.objects.get(pk=first.pk).claimed_by.username == "t-steward"
    response = role_client("administrator").get(reverse("matching:review", args=[first.pk]))
    assert b"Claimed by t-steward" in response.content
    assert MatchSuggestion.objects.get(pk=first.pk).claimed_by.username == "t-steward"


def test_a_filtered_queue_stops_counting_at_the_cap(role_client, queue, monkeypatch):
    import importlib

    queue_views = importlib.import_module("matching.views.queue")
    monkeypatch.setattr(queue_views, "FILTERED_COUNT_CAP", 1)
    response = role_client("steward").get(reverse("matching:suggestions") + "?q=schmidt")
    assert b"more than 1 matches" in response.content
    assert len(_rows(response)) == 2  # the page still lists what it holds
    unfiltered = role_client("steward").get(reverse("matching:suggestions"))
    assert b"2 matches" in unfiltered.content


def test_a_merge_with_no_party_ticked_merges_nothing(role_client, queue):
    """Unticking every party and pressing Merge (or a script posting no members) merged every
    member: an empty list was read as "not given"."""
    _, first, _ = queue
    response = role_client("steward").post(
        reverse("matching:review_decide", args=[first.pk]), {"action": "merge"}, follow=True
    )
    assert b"Tick at least two parties of the suggestion to merge" in response.content
    assert MatchSuggestion.objects.get(pk=first.pk).status == SuggestionStatus.PENDING
    assert not m.PartyEvent.objects.exists()
