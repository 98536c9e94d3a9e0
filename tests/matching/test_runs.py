"""A full match run: block keys in the database, scored pairs, clusters as suggestions."""

from __future__ import annotations

import pytest
from django.core.management import CommandError, call_command

from matching.models import BlockKey, MatchRun, MatchSuggestion, SuggestionStatus
from matching.services.evaluation import predicted_clusters, scores_compute, truth_read
from tests.matching.helpers import trained as _trained
from tests.workers import celery_worker


@pytest.mark.django_db
def test_a_full_run_suggests_clusters_with_evidence_that_mostly_are_true_duplicates(tmp_path):
    truth = _trained(tmp_path)
    call_command("rematch", "--sync")

    run = MatchRun.objects.get()
    assert run.status == "succeeded" and run.parties_blocked > 500
    assert BlockKey.objects.count() == run.block_keys > 0
    assert 0 < run.pairs_kept <= run.candidate_pairs
    suggestions = list(MatchSuggestion.objects.prefetch_related("members"))
    assert len(suggestions) == run.clusters > 0
    first = suggestions[0]
    assert first.members.count() >= 2 and 0 < first.score <= 1
    assert set(first.evidence) >= {"given_name", "family_name", "emails", "phones"}
    assert {e["agreement"] for name, e in first.evidence.items() if name != "pairs"} <= {
        "same",
        "partial",
        "overlap",
        "different",
        "missing",
    }

    scores = scores_compute(predicted_clusters(), truth_read(truth.open()))
    assert scores.pairwise_precision > 0.8  # floors, not the exact figure: dedupe is unseeded
    assert scores.pairwise_f1 > 0.5


@pytest.mark.django_db
def test_a_newer_run_keeps_unchanged_suggestions_and_supersedes_changed_ones(tmp_path, django_user_model):
    from matching.models import MatchSuggestionMember

    _trained(tmp_path, parties=200, seed=4)
    call_command("rematch", "--sync")
    first = {
        s.pk: frozenset(s.members.values_list("party_id", flat=True))
        for s in MatchSuggestion.objects.filter(status=SuggestionStatus.PENDING)
    }
    assert len(first) >= 2
    # given: a steward holds one suggestion, and another one lost a member meanwhile
    steward = django_user_model.objects.create_user("ann")
    held, changed = sorted(first)[:2]
    MatchSuggestion.objects.filter(pk=held).update(claimed_by=steward)
    if len(first[changed]) == 2:
        extra = MatchSuggestionMember.objects.filter(suggestion_id=held).first()
        MatchSuggestionMember.objects.create(suggestion_id=changed, party_id=extra.party_id, score=0.5)
    else:
        MatchSuggestionMember.objects.filter(suggestion_id=changed).last().delete()

    call_command("rematch", "--full", "--sync")

    latest = MatchRun.objects.order_by("-pk").first()
    kept = MatchSuggestion.objects.get(pk=held)
    assert kept.status == SuggestionStatus.PENDING and kept.claimed_by == steward and kept.run == latest
    # every unchanged suggestion keeps its id; the changed one is superseded by a new one
    pending = {
        s.pk: frozenset(s.members.values_list("party_id", flat=True))
        for s in MatchSuggestion.objects.filter(status=SuggestionStatus.PENDING)
    }
    assert {pk for pk in first if pk != changed} <= set(pending)
    assert MatchSuggestion.objects.get(pk=changed).status == SuggestionStatus.SUPERSEDED
    assert first[changed] in {ids for pk, ids in pending.items() if pk > max(first)}
    assert latest.clusters == len(pending)


@pytest.mark.django_db
def test_rematch_without_a_model_fails_clearly():
    with pytest.raises(CommandError, match="no trained model yet: train the matcher first"):
        call_command("rematch", "--sync")


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_a_run_goes_through_real_workers_chunk_by_chunk(role_groups, tmp_path, monkeypatch):
    from matching.models import MatchRunChunk

    _trained(tmp_path, parties=150, seed=6)
    monkeypatch.setenv("C360_MATCHING_CHUNK_PARTIES", "40")  # the workers cut the run finely
    with celery_worker(tmp_path / "worker1.log"), celery_worker(tmp_path / "worker2.log"):
        call_command("rematch")
    run = MatchRun.objects.get()
    assert run.status == "succeeded" and run.clusters == MatchSuggestion.objects.count() > 0
    chunks = MatchRunChunk.objects.filter(run=run)
    assert chunks.filter(phase="scoring").count() == run.chunks_total >= 5
    assert all(c.done_at and c.worker.startswith("test-") for c in chunks)  # done by the workers
    assert set(run.phase_seconds) == {"fingerprinting", "scoring", "clustering"}


@pytest.mark.django_db
def test_the_suggestion_list_and_who_may_start_a_run(role_client, tmp_path):
    from django.urls import reverse

    response = role_client("steward").post(reverse("matching:run_start"), follow=True)
    assert b"Train the matcher first" in response.content and not MatchRun.objects.exists()
    assert role_client("marketing").get(reverse("matching:suggestions")).status_code == 403

    _trained(tmp_path, parties=150, seed=6)
    call_command("rematch", "--sync")
    page = role_client("steward").get(reverse("matching:suggestions"))
    assert page.status_code == 200
    shown = list(page.context["page"])
    assert shown and shown[0].score >= shown[-1].score
    assert shown[0].members.all()[0].party.display_name.encode() in page.content


@pytest.mark.django_db
def test_an_import_rematches_only_its_new_and_changed_parties(tmp_path, django_capture_on_commit_callbacks):
    import io

    from parties.models import Party, SourceSystem
    from parties.services.imports.jobs import (
        import_file_store,
        import_job_create,
        import_job_run,
        import_job_start,
    )

    _trained(tmp_path, parties=200, seed=4)
    call_command("rematch", "--sync")
    full = MatchRun.objects.get()
    assert full.full and full.parties_blocked == Party.objects.active().count()
    keys_before = BlockKey.objects.count()

    # an imported file brings two new customers, one of them a copy of a known one
    known = Party.objects.filter(kind="individual").exclude(emails=None).first()
    email = known.emails.first().normalized
    content = (
        "source_key,given_name,family_name,email\n"
        f"NEW-1,{known.given_name},{known.family_name},{email}\n"
        "NEW-2,Zebulon,Quixote,zq@example.org\n"
    )
    stored = import_file_store(stream=io.BytesIO(content.encode()), original_name="new.csv")
    job = import_job_create(
        source=SourceSystem.objects.first(), kind="parties", stored_name=stored, original_name="new.csv"
    )
    import_job_start(job=job, enqueue=False)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        import_job_run(job_id=job.pk)
    for callback in callbacks:  # the batch's announcement; the run's task is run below, here
        callback()

    incremental = MatchRun.objects.exclude(pk=full.pk).get()
    new_ids = set(
        Party.objects.filter(source_records__source_key__startswith="NEW-").values_list("pk", flat=True)
    )
    assert not incremental.full and set(incremental.party_ids) == new_ids
    from matching.services.runs import match_run_execute

    incremental = match_run_execute(run_id=incremental.pk, inline=True)
    assert incremental.status == "succeeded"
    assert incremental.parties_blocked == 2  # only the new parties were fingerprinted
    assert BlockKey.objects.count() > keys_before
    copy_party = Party.objects.get(source_records__source_key="NEW-1")
    assert MatchSuggestion.objects.filter(run=incremental, members__party=copy_party).exists()


def _copies(party, count: int, *, strong: bool = True) -> list[int]:
    """``count`` exact copies of ``party`` (golden fields, emails, phones, addresses,
    identifiers): whatever predicates the model learned, they share every block key.
    ``strong=False``: without the emails, phones and identifiers (whose shared values the
    pair budget never trims)."""
    from parties.models import (
        ContactPointAddress,
        ContactPointEmail,
        ContactPointPhone,
        Party,
        PartyIdentification,
    )

    models = (
        (ContactPointEmail, ContactPointPhone, ContactPointAddress, PartyIdentification)
        if strong
        else (ContactPointAddress,)
    )
    children = [list(model.objects.filter(party=party)) for model in models]
    ids = []
    for _ in range(count):
        copy = Party.objects.get(pk=party.pk)
        copy.pk = copy.id = None
        copy.save()
        ids.append(copy.pk)
        for rows in children:
            for row in rows:
                row.pk = row.id = None
                row.party = copy
                row.save()
    return ids


@pytest.mark.django_db
def test_the_pair_budget_bounds_the_pairs_scored_and_the_run_page_says_so(tmp_path, settings, role_client):
    """30 copies of one customer make 435 candidate pairs among themselves: at 2 pairs a
    party the run scores fewer, each copy keeping its closest partners, and every copy is
    still suggested as a duplicate of copies only (in fewer pairs, clustering may cut the 31
    into several suggestions)."""
    from django.urls import reverse

    from parties.models import Party

    _trained(tmp_path, parties=150, seed=6)
    copies = _copies(Party.objects.filter(kind="individual").exclude(emails=None).first(), 30, strong=False)
    parties = Party.objects.active().count()

    settings.C360_MATCHING_PAIR_BUDGET = 0
    call_command("rematch", "--sync")
    free = MatchRun.objects.get()
    assert free.pair_budget == 0 and free.pairs_scored == free.candidate_pairs >= 435

    settings.C360_MATCHING_PAIR_BUDGET = 2
    call_command("rematch", "--full", "--sync")
    run = MatchRun.objects.exclude(pk=free.pk).get()
    assert run.status == "succeeded" and run.pair_budget == 2
    assert run.candidate_pairs == free.candidate_pairs
    assert run.pairs_scored <= 2 * parties < run.candidate_pairs
    assert run.chunks_over_budget == 1 and run.partner_cap >= 2
    suggested = MatchSuggestion.objects.filter(
        run=run, status=SuggestionStatus.PENDING, members__party_id__in=copies
    ).distinct()
    members = set(suggested.values_list("members__party_id", flat=True))
    assert set(copies) <= members and len(members - set(copies)) <= 1  # and the original

    page = role_client("steward").get(reverse("matching:run_detail", args=[run.pk]))
    over = page.content.decode()
    assert "1 of 1 chunks had more candidate pairs than their share of the pair budget (2 pairs" in over
    assert f"those sharing the most block keys: {run.partner_cap}." in over
    assert f"{run.pairs_scored:,} of {run.candidate_pairs:,} candidate pairs were scored" in over


@pytest.mark.django_db
def test_the_pair_budget_never_drops_a_pair_sharing_an_email_phone_or_identifier(tmp_path, settings):
    """30 exact copies (same email, phone, identifier) under a budget of 2 pairs a party: the
    budget trims what the other keys find, but every pair of copies shares an email, so all
    435 are scored (issue 17: a shared email is compared even over the budget)."""
    from parties.models import Party

    _trained(tmp_path, parties=150, seed=6)
    original = Party.objects.filter(kind="individual").exclude(emails=None).first()
    copies = _copies(original, 30)
    settings.C360_MATCHING_PAIR_BUDGET = 2
    call_command("rematch", "--full", "--sync")
    run = MatchRun.objects.get()
    assert run.status == "succeeded" and run.chunks_over_budget == 1
    assert run.pairs_scored >= 465  # 31 × 30 / 2: every pair of copies, over the budget
    suggested = MatchSuggestion.objects.filter(
        run=run, status=SuggestionStatus.PENDING, members__party_id__in=copies
    ).distinct()
    assert suggested.count() == 1  # scored with one another, they cluster as one customer
    members = set(suggested.get().members.values_list("party_id", flat=True))
    assert set(copies) <= members and original.pk in members  # and maybe its own duplicates
