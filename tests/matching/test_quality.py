"""Steward quality (issue 18, item 17): known-answer pairs in the queue, blind second reviews,
each steward's agreement rate."""

from __future__ import annotations

import io

import pytest
from django.urls import reverse
from django.utils import timezone

from c360.kernel.roles import DATA_STEWARD
from matching.models import (
    CheckKind,
    Label,
    MatchRun,
    MatchSuggestion,
    PairDecision,
    QualityCheck,
    RunStatus,
    SuggestionStatus,
    TrainingLabel,
)
from matching.services.decisions import suggestion_reject
from matching.services.quality import (
    KnownAnswerRefused,
    QualityError,
    _seed,
    known_answers_seed_from_truth,
    quality_checks_sync,
    second_review_answer,
    second_review_next,
    second_reviews_sample,
    steward_agreement,
)
from matching.services.review import suggestion_merge
from parties.models import Party, PartyEvent
from tests.factories import PartyFactory, SourceRecordFactory, SourceSystemFactory, UserFactory
from tests.matching.queue_helpers import suggestion_for

pytestmark = pytest.mark.django_db


@pytest.fixture
def run():
    return MatchRun.objects.create(status=RunStatus.SUCCEEDED, full=True, finished_at=timezone.now())


def _party(family: str, source: str, key: str) -> Party:
    party = PartyFactory(family_name=family)
    SourceRecordFactory(
        party=party,
        source_system=SourceSystemFactory(name=source),
        source_key=key,
        standardized={
            "kind": "individual",
            "attributes": {"given_name": party.given_name, "family_name": family},
            "emails": [],
            "phones": [],
            "address": None,
            "identifier": None,
        },
    )
    return party


def _pair_suggestion(a: Party, b: Party) -> MatchSuggestion:
    return MatchSuggestion.objects.get(members__party=a, checks__isnull=False)


def test_agreement_rates_are_computed_from_known_answers_and_a_wrong_merge_merges_nothing(run):
    ann = UserFactory(username="ann", role=DATA_STEWARD)
    bob = UserFactory(username="bob", role=DATA_STEWARD)
    # Given two known matches and two known distincts seeded into the queue
    p = [_party("Lee", "CRM", f"K{i}") for i in range(8)]
    assert (
        _seed(
            [
                (p[0].pk, p[1].pk, Label.MATCH, 0.9),
                (p[2].pk, p[3].pk, Label.MATCH, 0.8),
                (p[4].pk, p[5].pk, Label.DISTINCT, 0.7),
                (p[6].pk, p[7].pk, Label.DISTINCT, 0.6),
            ],
            origin="truth",
            user=None,
        )
        == 4
    )
    match_1, match_2, distinct_1, distinct_2 = (_pair_suggestion(p[i], p[i + 1]) for i in (0, 2, 4, 6))
    assert all(
        s.status == SuggestionStatus.PENDING and s.run == run and s.size == 2
        for s in (match_1, match_2, distinct_1, distinct_2)
    )

    # When ann merges a known match (right) and a known distinct (wrong),
    suggestion_merge(suggestion_id=match_1.pk, user=ann)
    with pytest.raises(KnownAnswerRefused, match="nothing was merged: .* known-answer check"):
        suggestion_merge(suggestion_id=distinct_1.pk, user=ann)
    # and bob says "not a match" to a known match (wrong) and to a known distinct (right)
    suggestion_reject(suggestion_id=match_2.pk, user=bob)
    suggestion_reject(suggestion_id=distinct_2.pk, user=bob)
    from c360.celery import app
    from matching.tasks import quality_checks_sync_task

    assert app.conf.beat_schedule["quality-checks-sync"]["task"] == quality_checks_sync_task.name
    assert quality_checks_sync_task.apply().get() == 3  # the periodic sync (ann's refusal counted at once)

    # Then each has one of two right: 50 %, and the disagreement is listed with its pair
    rows = {row.steward.username: row for row in steward_agreement()}
    assert (rows["ann"].known, rows["ann"].known_agreed, rows["ann"].rate) == (2, 1, 0.5)
    assert (rows["bob"].known, rows["bob"].known_agreed, rows["bob"].rate) == (2, 1, 0.5)
    assert [c.suggestion_id for c in rows["ann"].disagreements] == [distinct_1.pk]
    assert [c.suggestion_id for c in rows["bob"].disagreements] == [match_2.pk]

    # and the data: the right merge happened, the wrong one did not (both parties still active)
    assert Party.objects.filter(pk__in=[p[0].pk, p[1].pk], status="merged").count() == 1
    assert Party.objects.filter(pk__in=[p[4].pk, p[5].pk], status="active").count() == 2
    assert PartyEvent.objects.filter(kind="merge").count() == 1
    assert MatchSuggestion.objects.get(pk=distinct_1.pk).status == SuggestionStatus.CLOSED
    # bob's wrong "not a match" no longer keeps the true duplicates apart, and teaches "match"
    assert not PairDecision.objects.filter(suggestion=match_2, is_active=True).exists()
    label = TrainingLabel.objects.get(record_a__party=p[2], record_b__party=p[3])
    assert label.label == Label.MATCH


def test_an_automatic_merge_leaves_a_known_distinct_pair_for_a_steward(run):
    a, b = _party("Ng", "CRM", "A"), _party("Ng", "CRM", "B")
    _seed([(a.pk, b.pk, Label.DISTINCT, 0.8)], origin="decisions", user=None)
    suggestion = _pair_suggestion(a, b)
    with pytest.raises(KnownAnswerRefused, match="left for a steward"):
        suggestion_merge(suggestion_id=suggestion.pk, user=None, automatic=True)
    assert MatchSuggestion.objects.get(pk=suggestion.pk).status == SuggestionStatus.PENDING
    assert QualityCheck.objects.get().answered_at is None


def test_the_truth_file_seeds_known_matches_and_hard_distincts_as_ordinary_suggestions(run):
    # Given a truth file: two parties of entity E1 (one customer), E2 and E3 sharing a family name
    _party("Brandt", "CRM", "1")
    _party("Brandt", "Shop", "9")
    _party("Otto", "CRM", "2")
    _party("Otto", "Shop", "3")
    truth = "source,source_key,entity_id\nCRM,1,E1\nShop,9,E1\nCRM,2,E2\nShop,3,E3\n"

    made = known_answers_seed_from_truth(handle=io.StringIO(truth), count=2, user=None, seed=1)

    assert made == 2
    checks = {c.expected: c for c in QualityCheck.objects.select_related("suggestion")}
    assert set(checks) == {Label.MATCH, Label.DISTINCT}
    for check in checks.values():
        # what a steward's queue shows of a suggestion is what a run would have written
        s = check.suggestion
        assert (s.status, s.run_id, s.size, s.kind) == ("pending", run.pk, 2, "individual")
        assert s.evidence["family_name"]["agreement"] == "same"
        assert check.kind == CheckKind.KNOWN_ANSWER and check.origin == "truth"
    # seeding again finds nothing new to seed: the pairs wait in the queue already
    with pytest.raises(QualityError, match="knows no pending two-party suggestion"):
        known_answers_seed_from_truth(handle=io.StringIO(truth), count=2)
    with pytest.raises(QualityError, match="line 1: the header must be source,source_key,entity_id"):
        known_answers_seed_from_truth(handle=io.StringIO("a,b\n"), count=2)
    with pytest.raises(QualityError, match="line 2, column source: no source system named 'ERP'"):
        known_answers_seed_from_truth(handle=io.StringIO("source,source_key,entity_id\nERP,1,E\n"), count=2)


def test_pending_suggestions_the_truth_knows_become_checks_as_they_are(run):
    # Given two pending suggestions of the matcher: one pair the truth says is one customer, one
    # it says is two (a false positive), and a three-party cluster (left alone)
    same = [_party("Kay", "CRM", f"S{i}") for i in range(2)]
    twins = [_party("Day", "CRM", f"T{i}") for i in range(2)]
    trio = [_party("Ray", "CRM", f"R{i}") for i in range(3)]
    right = suggestion_for([p.pk for p in same])
    wrong = suggestion_for([p.pk for p in twins])
    suggestion_for([p.pk for p in trio])
    truth = (
        "source,source_key,entity_id\nCRM,S0,E1\nCRM,S1,E1\nCRM,T0,E2\nCRM,T1,E3\n"
        "CRM,R0,E4\nCRM,R1,E4\nCRM,R2,E4\n"
    )

    assert known_answers_seed_from_truth(handle=io.StringIO(truth), count=2) == 2

    # Then they are checks as they are: no new suggestion, ids and scores kept
    assert MatchSuggestion.objects.count() == 3
    assert dict(QualityCheck.objects.values_list("suggestion_id", "expected")) == {
        right.pk: Label.MATCH,
        wrong.pk: Label.DISTINCT,
    }
    # and the matcher's false positive can no longer be merged by mistake
    ann = UserFactory(username="ann", role=DATA_STEWARD)
    with pytest.raises(KnownAnswerRefused):
        suggestion_merge(suggestion_id=wrong.pk, user=ann)
    assert Party.objects.filter(pk__in=[p.pk for p in twins], status="active").count() == 2
    suggestion_merge(suggestion_id=right.pk, user=ann)
    quality_checks_sync()
    row = steward_agreement()[0]
    assert (row.steward, row.known, row.known_agreed) == (ann, 2, 1)


def test_only_pairs_a_run_would_suggest_are_seeded(run, monkeypatch):
    from matching.services import quality

    lee = [_party("Lee", "CRM", f"L{i}") for i in range(2)]
    ito = [_party("Ito", "CRM", f"I{i}") for i in range(2)]
    truth = "source,source_key,entity_id\nCRM,L0,E1\nCRM,L1,E1\nCRM,I0,E2\nCRM,I1,E3\n"
    # the model scores the unmerged match 0.93 and the look-alike strangers 0.02: a 0.02 in the
    # queue would give the check away
    monkeypatch.setattr(
        quality,
        "_pair_scores",
        lambda pairs: {pair: 0.93 if set(pair) == {lee[0].pk, lee[1].pk} else 0.02 for pair in pairs},
    )
    assert known_answers_seed_from_truth(handle=io.StringIO(truth), count=2) == 1
    check = QualityCheck.objects.select_related("suggestion").get()
    assert (check.expected, round(check.suggestion.score, 2)) == (Label.MATCH, 0.93)
    assert [round(x, 2) for x in check.suggestion.members.values_list("score", flat=True)] == [0.93, 0.93]
    assert {i.pk for i in ito}.isdisjoint(check.suggestion.members.values_list("party_id", flat=True))


def test_a_blind_second_review_counts_toward_the_first_stewards_agreement(role_client, steward):
    ann = UserFactory(username="first-decider", role=DATA_STEWARD)  # a name no party can carry
    merged = suggestion_for([PartyFactory().pk, PartyFactory().pk])
    rejected = suggestion_for([PartyFactory().pk, PartyFactory().pk])
    suggestion_merge(suggestion_id=merged.pk, user=ann)
    suggestion_reject(suggestion_id=rejected.pk, user=ann)

    # When an administrator samples ann's decisions for a second review
    assert second_reviews_sample(count=5, steward_id=ann.pk) == 2
    # Then ann is never asked about her own; another steward is, blind
    assert second_review_next(user=ann) is None
    client = role_client("steward")
    page = client.get(reverse("matching:second_review")).content.decode()
    assert "2 waiting" in page and "Same customer" in page
    assert "first-decider" not in page and "Merged" not in page and "Not a match" not in page

    # When the second steward says "same customer" to both
    for _ in range(2):
        check = second_review_next(user=steward)
        client.post(reverse("matching:second_review_decide"), {"check": check.pk, "answer": "match"})

    # Then ann's merge agrees, her "not a match" does not; nothing in the data changed
    row = {r.steward.username: r for r in steward_agreement()}["first-decider"]
    assert (row.reviewed, row.reviewed_agreed, row.rate) == (2, 1, 0.5)
    assert [c.suggestion_id for c in row.disagreements] == [rejected.pk]
    assert MatchSuggestion.objects.get(pk=rejected.pk).status == SuggestionStatus.REJECTED
    with pytest.raises(QualityError, match="answered already"):
        second_review_answer(check_id=check.pk, user=steward, answer="distinct")
    with pytest.raises(QualityError, match="their own decision"):
        second_review_answer(check_id=check.pk, user=ann, answer="distinct")


def test_the_quality_page_shows_rates_and_disagreements_to_administrators(role_client, run):
    ann = UserFactory(username="ann", role=DATA_STEWARD)
    a, b = _party("Roe", "CRM", "A"), _party("Roe", "CRM", "B")
    _seed([(a.pk, b.pk, Label.DISTINCT, 0.8)], origin="decisions", user=None)
    suggestion = _pair_suggestion(a, b)
    with pytest.raises(KnownAnswerRefused):
        suggestion_merge(suggestion_id=suggestion.pk, user=ann)

    admin = role_client("administrator")
    page = admin.get(reverse("matching:quality")).content.decode()
    assert 'data-steward="ann"' in page and "0 of 1" in page and "<strong>0%</strong>" in page
    assert f"#{suggestion.pk}</a>" in page and "past decision" in page

    bad = admin.post(reverse("matching:quality_seed"), {"count": "many", "source": "decisions"}, follow=True)
    assert "Nothing seeded — count: &#x27;many&#x27; is not a whole number written with the digits 0-9." in (
        bad.content.decode()
    )
    odd = admin.post(reverse("matching:quality_sample"), {"count": "\u00b2"}, follow=True)  # was a 500
    assert "Nothing sampled — count: &#x27;²&#x27; is not a whole number" in odd.content.decode()
    seed = reverse("matching:quality_seed")
    none_left = admin.post(seed, {"count": "3", "source": "decisions"}, follow=True)
    assert "no past &#x27;not a match&#x27; decision between two active parties" in none_left.content.decode()
    no_file = admin.post(reverse("matching:quality_seed"), {"count": "3", "source": "truth"}, follow=True)
    assert "truth file: choose a CSV file" in no_file.content.decode()
    assert role_client("steward").get(reverse("matching:quality")).status_code == 403


def test_the_dashboard_shows_each_stewards_agreement_and_the_pairs_they_disagreed_on(role_client, run):
    """Issue 18: the dashboard (the home page) shows administrators each steward's agreement
    rate and the pairs they disagreed on; stewards, who are checked, do not see the table."""
    ann = UserFactory(username="ann", role=DATA_STEWARD)
    a, b = _party("Roe", "CRM", "A"), _party("Roe", "CRM", "B")
    _seed([(a.pk, b.pk, Label.DISTINCT, 0.8)], origin="decisions", user=None)
    suggestion = _pair_suggestion(a, b)
    with pytest.raises(KnownAnswerRefused):
        suggestion_merge(suggestion_id=suggestion.pk, user=ann)

    home = role_client("administrator").get(reverse("home")).content.decode()
    card = home[home.index('data-testid="steward-agreement"') :]
    card = card[: card.index("</section>")]
    assert "ann" in card and ">0%<" in card
    assert f'{reverse("matching:review", args=[suggestion.pk])}">#{suggestion.pk}</a>' in card
    steward_home = role_client("steward").get(reverse("home")).content.decode()
    assert 'data-testid="steward-agreement"' not in steward_home
