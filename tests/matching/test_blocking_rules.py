"""Standard blocking rules: each finds its pairs while it is on, the run measures what every rule
(standard and learned) contributes, and administrators switch the standard ones on and off."""

from __future__ import annotations

import datetime
import io
import pickle
import random
from collections import defaultdict
from itertools import combinations

import dedupe
import pytest
from dedupe.predicate_functions import sameThreeCharStartPredicate, tokenFieldPredicate, wholeFieldPredicate
from dedupe.predicates import CompoundPredicate, SimplePredicate, StringPredicate
from django.core.exceptions import ValidationError
from django.db import transaction
from django.test import Client
from django.urls import reverse

from matching.models import BlockKey, Label, MatcherModel, MatchRun, MatchSettings, TrainingLabel
from matching.rules import STANDARD_RULES, record_keys
from matching.selectors import party_records
from matching.services.blocking import (
    block_key_rule_counts,
    match_settings_rules_set,
    predicate_label,
)
from matching.services.runs import match_run_execute, match_run_request
from matching.services.scoring import candidate_pairs
from parties.models import ContactPointAddress, ContactPointPhone, Party, PartyIdentification
from tests.factories import EmailFactory, PartyFactory, SourceRecordFactory
from tests.matching.helpers import trained

pytestmark = pytest.mark.django_db

_TRAINED: dict[str, bytes] = {}


class _Undo(Exception):
    pass


def _trained_blob(tmp_path) -> bytes:
    """A real model trained by the product (demo data, 25 + 25 labels), trained once per test
    process inside a savepoint that is rolled back: the tests' own small data sets stay alone."""
    if "blob" not in _TRAINED:
        try:
            with transaction.atomic():
                trained(tmp_path, parties=150, seed=6)
                _TRAINED["blob"] = bytes(MatcherModel.objects.get(is_active=True).settings_blob)
                raise _Undo
        except _Undo:
            pass
    return _TRAINED["blob"]


def _model(tmp_path, predicates=()) -> MatcherModel:
    """The trained model's comparisons and classifier with the blocking predicates chosen by
    the test (none: only the standard rules make keys), as the active model."""
    matcher = dedupe.StaticDedupe(io.BytesIO(_trained_blob(tmp_path)), num_cores=1)
    buffer = io.BytesIO()
    for part in (matcher.data_model, matcher.classifier, tuple(predicates)):
        pickle.dump(part, buffer)
    MatcherModel.objects.filter(is_active=True).update(is_active=False)
    return MatcherModel.objects.create(
        settings_blob=buffer.getvalue(),
        labels_match=25,
        labels_distinct=25,
        training_seconds=0,
        is_active=True,
    )


def _party(
    given="",
    family="",
    *,
    birth=None,
    email=None,
    phone=None,
    postal=None,
    city="",
    identifier=None,
    organization=None,
) -> Party:
    if organization:
        party = PartyFactory(
            kind="organization",
            given_name="",
            family_name="",
            organization_name=organization,
            display_name=organization,
        )
    else:
        party = PartyFactory(
            given_name=given,
            family_name=family,
            display_name=f"{given} {family}",
            birth_date=datetime.date.fromisoformat(birth) if birth else None,
        )
    if email:
        EmailFactory(party=party, raw_value=email)
    if phone:
        ContactPointPhone.objects.create(party=party, raw_value=phone, normalized=phone)
    if postal or city:
        ContactPointAddress.objects.create(
            party=party, raw_value=f"{postal} {city}", postal_code=postal or "", city=city, country="DE"
        )
    if identifier:
        PartyIdentification.objects.create(
            party=party, identifier_type="customer_number", value=identifier, normalized=identifier
        )
    return party


def _run(party_ids=None) -> MatchRun:
    run = match_run_request(party_ids=party_ids, queue=False)
    return match_run_execute(run_id=run.pk, inline=True)


def _pairs() -> set[tuple[int, int]]:
    ids = list(Party.objects.values_list("pk", flat=True))
    found = candidate_pairs(min(ids), max(ids), budget=0)
    return {pair for batch in found.batches() for pair in batch}


def _row(run: MatchRun, code: str) -> dict:
    return next(row for row in run.rules["standard"] if row["code"] == code)


# Two parties that exactly one standard rule links (every other value differs), per rule.
ONE_RULE_PAIRS = {
    "e": (
        {"given": "Anna", "family": "Berg", "email": "shared@example.com"},
        {"given": "Carl", "family": "Dahl", "email": "shared@example.com"},
    ),
    "p": (
        {"given": "Anna", "family": "Berg", "phone": "+4930123456"},
        {"given": "Carl", "family": "Dahl", "phone": "+4930123456"},
    ),
    "i": (
        {"given": "Anna", "family": "Berg", "identifier": "C-1001"},
        {"given": "Carl", "family": "Dahl", "identifier": "C-1001"},
    ),
    "gf": (
        {"given": "Anna", "family": "Berg", "birth": "1980-01-02", "postal": "10115"},
        {"given": "Berg", "family": "Anna", "birth": "1975-03-04", "postal": "20095"},
    ),
    "fb": (
        {"given": "Anna", "family": "Berg", "birth": "1980-01-02", "postal": "10115"},
        {"given": "Carl", "family": "Berg", "birth": "1980-01-02", "postal": "20095"},
    ),
    "gb": (
        {"given": "Anna", "family": "Berg", "birth": "1980-01-02", "postal": "10115"},
        {"given": "Anna", "family": "Dahl", "birth": "1980-01-02", "postal": "20095"},
    ),
    "pf": (
        {"given": "Anna", "family": "Berg", "birth": "1980-01-02", "postal": "10115"},
        {"given": "Carl", "family": "Berg", "birth": "1975-03-04", "postal": "10115"},
    ),
    "pb": (
        {"given": "Anna", "family": "Berg", "birth": "1980-01-02", "postal": "10115"},
        {"given": "Carl", "family": "Dahl", "birth": "1980-01-02", "postal": "10115"},
    ),
    "op": (
        {"organization": "Acme Tools GmbH", "postal": "10115"},
        {"organization": "Acme Tools", "postal": "10115"},
    ),
}


def test_the_table_covers_every_standard_rule():
    assert set(ONE_RULE_PAIRS) == {rule.code for rule in STANDARD_RULES}


@pytest.mark.parametrize("code", sorted(ONE_RULE_PAIRS))
def test_each_standard_rule_links_its_pair_only_while_it_is_on(tmp_path, code):
    # given: no learned predicates, two parties only this rule links, and a stranger
    _model(tmp_path)
    first, second = (_party(**values) for values in ONE_RULE_PAIRS[code])
    _party("Zora", "Quist", birth="1999-09-09", email="zora@example.com", postal="99999")

    # when: a full run with every rule on
    run = _run()
    # then: the pair is the run's only candidate, found by this rule alone
    assert run.status == "succeeded", run.error
    assert _pairs() == {(first.pk, second.pk)} and run.candidate_pairs == 1
    assert {row["code"]: row["pairs"] for row in run.rules["standard"] if row["pairs"]} == {code: 1}
    assert _row(run, code)["blocks"] == 1 and _row(run, code)["on"] is True

    # when: the rule is switched off and the next run fingerprints again
    match_settings_rules_set(codes_off=[code], user=None)
    run = _run()
    # then: nobody is compared, and the run says the rule was off
    assert run.status == "succeeded", run.error
    assert _pairs() == set() and run.candidate_pairs == 0
    assert _row(run, code) | {"on": False, "keys": 0, "pairs": 0} == _row(run, code)
    assert run.rules["rules_off"] == [code]
    assert not BlockKey.objects.filter(block_key__startswith=f"~{code}:").exists()


def _brute_force(predicates, cap: int) -> dict[str, dict]:
    """Per rule, from the parties' records and nothing stored: every key, the blocks it makes,
    Σ n(n-1)/2 over the blocks of 2 to ``cap`` parties, and the blocks over ``cap``."""
    records = party_records(Party.objects.values_list("pk", flat=True))
    members: dict[str, dict[str, set[int]]] = defaultdict(lambda: defaultdict(set))
    for party_id, record in records.items():
        for rule in STANDARD_RULES:
            for key in record_keys(record, [rule.code]):
                members[rule.code][key].add(party_id)
        for index, predicate in enumerate(predicates):
            for key in predicate(record):
                members[str(index)][key].add(party_id)
    counts = {}
    for name, blocks in members.items():
        sizes = [len(parties) for parties in blocks.values()]
        small = [n for n in sizes if n <= cap]
        distinct = {
            pair
            for parties in blocks.values()
            if len(parties) <= cap
            for pair in combinations(sorted(parties), 2)
        }
        counts[name] = {
            "keys": sum(sizes),
            "values": len(sizes),
            "blocks": sum(n > 1 for n in small),
            "pairs": sum(n * (n - 1) // 2 for n in small),
            "distinct_pairs": len(distinct),
            "oversized": sum(n > cap for n in sizes),
            "oversized_parties": sum(n for n in sizes if n > cap),
            "largest": max(sizes),
        }
    return counts


def test_rule_counts_equal_a_brute_force_count(tmp_path, settings):
    # given: 60 parties drawn from small pools of values, so that every rule makes blocks and
    # some blocks exceed the cap; three learned predicates, one of them compound
    settings.C360_MATCHING_MAX_BLOCK = 4
    predicates = (
        SimplePredicate(wholeFieldPredicate, "city"),
        CompoundPredicate(
            (
                StringPredicate(sameThreeCharStartPredicate, "family_name"),
                SimplePredicate(wholeFieldPredicate, "birth_date"),
            )
        ),
        SimplePredicate(tokenFieldPredicate, "given_name"),
    )
    _model(tmp_path, predicates)
    pick = random.Random(17).choice
    for i in range(60):
        organization = pick([None, None, None, "Acme GmbH", "Acme AG", "Blau KG"])
        values = {
            "postal": pick(["10115", "20095", "80331"]),
            "city": pick(["Berlin", "Hamburg", "Köln", ""]),
            "email": pick([None, f"p{i}@example.com", "info@example.com", "team@example.com"]),
            "phone": pick([None, f"+49301{i:05d}", "+4930999"]),
            "identifier": pick([None, f"C-{i}", "C-7", "C-8"]),
        }
        if organization:
            _party(organization=organization, **values)
        else:
            _party(
                pick(["Anna", "Ann Marie", "Carl", "Eva"]),
                pick(["Berg", "Bergmann", "Dahl"]),
                birth=pick([None, "1980-01-02", "1975-03-04"]),
                **values,
            )

    # when: a full run
    run = _run()
    assert run.status == "succeeded", run.error

    # then: each rule's figures are those counted from the records themselves
    expected = _brute_force(predicates, cap=4)
    figures = ("keys", "values", "blocks", "pairs", "oversized", "oversized_parties", "largest")
    for row in run.rules["standard"]:
        assert {f: row[f] for f in figures} == {f: expected[row["code"]][f] for f in figures}, row["code"]
    for row in run.rules["learned"]:
        assert {f: row[f] for f in figures} == {f: expected[str(row["index"])][f] for f in figures}, row
    assert run.rules["unattributed"] is None
    # with one key per party (names, birth date, postal code), Σ n(n-1)/2 is the distinct pairs
    for code in ("gf", "fb", "gb", "pf", "pb", "op"):
        assert expected[code]["pairs"] == expected[code]["distinct_pairs"], code
    assert sum(row["oversized"] for row in run.rules["standard"]) > 0  # the test tests that too
    assert [row["label"] for row in run.rules["learned"]] == [
        "Same city",
        "Same first three characters of family name and same birth date",
        "A word of given name in common",
    ]


def test_oversized_blocks_are_reported_by_size_never_by_value(tmp_path, settings, role_client):
    # given: five parties with one family name and birth date, more than the cap of 3
    settings.C360_MATCHING_MAX_BLOCK = 3
    _model(tmp_path)
    for given in ("Anna", "Carl", "Eva", "Ida", "Olaf"):
        _party(given, "Xylander", birth="1961-06-16")

    run = _run()

    row = _row(run, "fb")
    assert (row["oversized"], row["oversized_parties"], row["largest"], row["pairs"]) == (1, 5, 5, 0)
    assert run.candidate_pairs == 0 and run.oversized_blocks == 1
    html = role_client("steward").get(reverse("matching:run_detail", args=[run.pk])).content.decode()
    assert "1 block of more than 3 parties left out" in html and "· largest 5" in html
    assert "xylander" not in html.lower() and "1961-06-16" not in html


def test_labelled_match_coverage_per_rule(tmp_path, settings):
    # given: labelled matches found by email only, by the learned city predicate only, by
    # nothing, by an oversized block only, and one whose records are one party already
    settings.C360_MATCHING_MAX_BLOCK = 3
    _model(tmp_path, (SimplePredicate(wholeFieldPredicate, "city"),))
    by_email = (
        _party("Anna", "Berg", email="ab@example.com"),
        _party("Carl", "Dahl", email="ab@example.com"),
    )
    by_city = (_party("Eva", "Fink", city="Quedlinburg"), _party("Gus", "Holm", city="Quedlinburg"))
    by_nothing = (_party("Ida", "Jung"), _party("Kai", "Lund"))
    crowd = [_party(given, "Moll", birth="1970-07-07") for given in ("Nora", "Otto", "Pia", "Rolf")]
    merged = _party("Sara", "Tamm")

    def label(a: Party, b: Party, kind: str = Label.MATCH) -> None:
        first, second = sorted(
            [SourceRecordFactory(party=a), SourceRecordFactory(party=b)], key=lambda record: record.pk
        )
        TrainingLabel.objects.create(record_a=first, record_b=second, label=kind)

    for pair in (by_email, by_city, by_nothing, crowd[:2], (merged, merged)):
        label(*pair)
    label(by_email[0], by_city[0], Label.DISTINCT)  # not a match: never counted

    run = _run()

    assert run.rules["labelled"] == {"matches": 5, "one_party": 1, "compared": 4, "covered": 2, "missed": 2}
    covers = {row["code"]: row["covers"] for row in run.rules["standard"] if row["covers"]}
    assert covers == {"e": 1}
    assert [row["covers"] for row in run.rules["learned"]] == [1]
    assert _row(run, "fb")["oversized"] == 1  # the crowd's key made no pairs: it covers nothing


def test_an_incremental_run_shows_the_latest_full_runs_figures(tmp_path, role_client):
    # given: a full run that measured the rules
    _model(tmp_path)
    _party("Anna", "Berg", email="ab@example.com")
    full = _run()
    newcomer = _party("Carl", "Dahl", email="ab@example.com")

    # when: an incremental run matches the newcomer
    later = _run([newcomer.pk])

    # then: it found the pair but did not read every party's keys again; its page says so and
    # shows the full run's figures
    assert later.status == "succeeded" and not later.full and later.candidate_pairs == 1, later.error
    assert later.rules == {} and _row(full, "e")["keys"] == 1
    html = role_client("steward").get(reverse("matching:run_detail", args=[later.pk])).content.decode()
    link = reverse("matching:run_detail", args=[full.pk])
    assert 'data-testid="rules-from"' in html and f'the latest full run, <a href="{link}">' in html
    assert 'data-testid="rules-table"' in html


def test_block_keys_are_attributed_to_their_rule_whatever_their_value(tmp_path):
    party = PartyFactory()
    keys = [
        "~e:a@b.c",
        "~gf:anna|berg",
        "~zz:from an older version",
        "12:34:0",
        "street\\:5:12",
        "x" * 255,
        "no suffix",
        "ends with digits 42",
    ]
    BlockKey.objects.bulk_create([BlockKey(block_key=key, party=party) for key in keys])
    counts = block_key_rule_counts(100)
    assert {name: row["keys"] for name, row in counts.items()} == {
        "~e:": 1,
        "~gf:": 1,
        "~?": 1,
        "0": 1,
        "12": 1,
        "?": 3,
    }


def test_predicates_in_words():
    assert predicate_label(SimplePredicate(wholeFieldPredicate, "address_line1")) == "Same street address"
    compound = CompoundPredicate(
        (
            SimplePredicate(wholeFieldPredicate, "postal_code"),
            StringPredicate(sameThreeCharStartPredicate, "given_name"),
        )
    )
    assert predicate_label(compound) == "Same postal code and same first three characters of given name"


def test_an_unknown_rule_code_is_refused_by_name_and_nothing_is_saved():
    match_settings_rules_set(codes_off=["gb"], user=None)
    with pytest.raises(ValidationError, match="Unknown blocking rule 'nope': the standard rules are e "):
        match_settings_rules_set(codes_off=["e", "nope"], user=None)
    assert MatchSettings.current().rules_off == ["gb"]
    assert match_settings_rules_set(codes_off=["pf", "e", "pf"], user=None).rules_off == ["e", "pf"]
    assert MatchSettings.current().rules_enabled() == ["p", "i", "gf", "fb", "gb", "pb", "op"]


def test_administrators_switch_rules_stewards_only_look_marketing_never(role_client, administrator):
    url = reverse("matching:thresholds")
    every = [rule.code for rule in STANDARD_RULES]

    admin = role_client("administrator")
    page = admin.get(url).content.decode()
    assert 'data-testid="rules-settings"' in page and "Save blocking rules" in page
    assert page.count('name="rules_on"') == len(every) and " disabled>" not in page

    # an administrator switches off a strong and a weak rule
    keep = [code for code in every if code not in ("p", "gb")]
    saved = admin.post(url, {"action": "rules", "rules_on": keep}, follow=True).content.decode()
    assert "Blocking rules saved: 2 switched off" in saved and "apply from the next match run" in saved
    assert "Strong rule switched off (same phone number (E.164))" in saved
    assert 'data-testid="strong-off"' in saved
    current = MatchSettings.current()
    assert current.rules_off == ["p", "gb"] and current.updated_by == administrator

    # a code that is not a rule: a clear error naming it, nothing saved
    bad = admin.post(url, {"action": "rules", "rules_on": [*every, "zz"]}).content.decode()
    assert "Unknown blocking rule &#x27;zz&#x27;" in bad
    assert MatchSettings.current().rules_off == ["p", "gb"]

    # the thresholds form is not disturbed by the rules form, nor the other way round
    admin.post(url, {"review_threshold": "0.6", "auto_merge_threshold": ""})
    assert MatchSettings.current().rules_off == ["p", "gb"]
    assert MatchSettings.current().review_threshold == 0.6

    # a steward sees the rules, read-only, and cannot change them
    steward = role_client("steward")
    page = steward.get(url).content.decode()
    assert page.count(" disabled>") == len(every) and "Save blocking rules" not in page
    assert "Only administrators may switch rules on and off" in page
    refused = steward.post(url, {"action": "rules", "rules_on": every}, follow=True)
    assert b"Only administrators may change the blocking rules" in refused.content
    assert MatchSettings.current().rules_off == ["p", "gb"]

    # marketing may not even look
    marketing = role_client("marketing")
    assert marketing.get(url).status_code == 403
    assert marketing.post(url, {"action": "rules", "rules_on": every}).status_code == 403
    assert MatchSettings.current().rules_off == ["p", "gb"]


def test_switching_rules_needs_the_csrf_token(administrator):
    client = Client(enforce_csrf_checks=True)
    client.force_login(administrator)
    url = reverse("matching:thresholds")
    assert client.post(url, {"action": "rules", "rules_on": ["e"]}).status_code == 403
    assert MatchSettings.current().rules_off == []
    token = client.get(url).cookies["csrftoken"].value
    response = client.post(url, {"action": "rules", "rules_on": ["e"], "csrfmiddlewaretoken": token})
    assert response.status_code == 302
    assert MatchSettings.current().rules_off == [rule.code for rule in STANDARD_RULES if rule.code != "e"]


def test_the_run_page_lists_the_rules_with_their_figures(tmp_path, role_client):
    _model(tmp_path, (SimplePredicate(wholeFieldPredicate, "city"),))
    _party("Anna", "Berg", email="ab@example.com", city="Quedlinburg")
    _party("Carl", "Dahl", email="ab@example.com", city="Quedlinburg")
    match_settings_rules_set(codes_off=["pb"], user=None)
    run = _run()

    html = role_client("steward").get(reverse("matching:run_detail", args=[run.pk])).content.decode()
    assert 'data-testid="rules-table"' in html
    for label in ("Same email address", "Same city", "Same postal code and birth date"):
        assert label in html
    assert "1 switched off" in html and "switched off</span>" in html
    assert "No labelled matches yet" in html


def test_a_rule_switched_off_stops_linking_before_the_next_full_run(tmp_path):
    """An incremental run rewrites only its own parties' keys: the keys a switched-off rule
    wrote earlier stay in the table, and must not make candidates any more."""
    _model(tmp_path)
    first, second = (_party(**values) for values in ONE_RULE_PAIRS["fb"])
    assert _run().status == "succeeded" and _pairs() == {(first.pk, second.pk)}
    match_settings_rules_set(codes_off=["fb"], user=None)
    assert BlockKey.objects.filter(block_key__startswith="~fb:").exists()  # not rewritten yet
    assert _pairs() == set()
    newcomer = _party("Dora", "Berg", birth="1980-01-02", postal="30159")  # only "fb" would link her
    run = _run([newcomer.pk])
    assert run.status == "succeeded" and not run.full and run.candidate_pairs == 0
