"""Block keys: dedupe's fingerprints of each party, stored in a table so that the database
can join them into candidate pairs instead of holding the pairs in memory.

The matcher is trained without index (canopy) predicates by default: a fingerprint then
depends on the party alone, so any worker can fingerprint any slice of the parties and an
incremental run fingerprints only the new and changed ones. A model that does use index
predicates still works: each slice first indexes the indexed fields of every party (slow at
scale, and said so on the run page).
"""

from __future__ import annotations

import io
import logging
import time
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

import dedupe
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import Count
from django.utils import timezone

from c360.kernel.setting_changes import setting_changes_record
from matching.models import (
    BlockKey,
    Label,
    MatcherModel,
    MatchRecord,
    MatchRun,
    MatchSettings,
    OversizedBlock,
    RunStatus,
    TrainingLabel,
)
from matching.rules import RULES_BY_CODE, STANDARD_RULES, record_keys
from matching.selectors import match_records_store, party_records, rows_for_ids
from matching.services.thresholds import THRESHOLDS_SETTING
from parties.models import Party
from parties.services.bulk_writer import rows_insert

BATCH = 5000
logger = logging.getLogger(__name__)


def matcher_load(model: MatcherModel) -> dedupe.StaticDedupe:
    # Settings are pickles: only ones this product wrote itself are ever loaded.
    return dedupe.StaticDedupe(io.BytesIO(bytes(model.settings_blob)), num_cores=1)


def party_id_batches(first: int = 0, last: int | None = None, batch: int = BATCH) -> Iterator[list[int]]:
    """Active party ids in [first, last] (erased ones left out), ascending, ``batch`` at a time."""
    after = first - 1
    while True:
        ids = Party.objects.active().filter(pk__gt=after, erased_at__isnull=True)
        if last is not None:
            ids = ids.filter(pk__lte=last)
        chunk = list(ids.order_by("pk").values_list("pk", flat=True)[:batch])
        if not chunk:
            return
        yield chunk
        after = chunk[-1]


def _index_everyone(fingerprinter) -> None:
    """Canopy predicates compare against the values of every party."""
    values: dict[str, set] = {field: set() for field in fingerprinter.index_fields}
    for ids in party_id_batches():
        for record in party_records(ids).values():
            for field in values:
                if record[field]:
                    values[field].add(record[field])
    for field, docs in values.items():
        fingerprinter.index(docs, field)


def block_keys_write(
    matcher: dedupe.StaticDedupe, party_ids: list[int], *, fresh: bool = False
) -> tuple[int, int]:
    """Replace the stored block keys of ``party_ids`` with fresh fingerprints (``fresh``:
    the tables were emptied, nothing to replace). Returns (parties fingerprinted, keys
    written). Inactive (merged) parties lose their keys."""
    fingerprinter = matcher.fingerprinter
    rules = MatchSettings.current().rules_enabled()
    if fingerprinter.index_fields:
        _index_everyone(fingerprinter)
    parties = keys = 0
    try:
        for start in range(0, len(party_ids), BATCH):
            ids = party_ids[start : start + BATCH]
            if not fresh:
                BlockKey.objects.filter(party_id__in=ids).delete()
            records = party_records(ids)
            match_records_store(ids, records, fresh=fresh)
            rows = [
                {"block_key": key[:255], "party_id": party_id}
                for key, party_id in fingerprinter(records.items())
            ]
            rows += [
                {"block_key": key, "party_id": party_id}
                for party_id, record in records.items()
                for key in record_keys(record, rules)
            ]
            rows_insert(BlockKey, rows, now=timezone.now())
            parties += len(records)
            keys += len(rows)
    finally:
        if fingerprinter.index_fields:
            fingerprinter.reset_indices()
    return parties, keys


def block_keys_clear() -> None:
    """Empty the block keys and stored records before a full rebuild (TRUNCATE where the
    database has it). On PostgreSQL the block-key indexes are dropped too: loading millions
    of keys and indexing them once afterwards (``blocks_prepare``) is several times faster
    than keeping the indexes up to date row by row."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            for index in BlockKey._meta.indexes:
                cursor.execute(f"DROP INDEX IF EXISTS {connection.ops.quote_name(index.name)}")
        for model in (BlockKey, MatchRecord, OversizedBlock):
            table = connection.ops.quote_name(model._meta.db_table)
            if connection.vendor == "postgresql":
                cursor.execute(f"TRUNCATE {table}")  # noqa: S608
            else:
                cursor.execute(f"DELETE FROM {table}")  # noqa: S608


def blocks_prepare(*, full: bool, party_ids: list[int] | None = None) -> int:
    """After fingerprinting: refresh the planner's statistics (PostgreSQL) and the list of
    oversized blocks — every block for a full run, the blocks of ``party_ids`` otherwise.
    Returns how many oversized blocks there are now."""
    cap = settings.C360_MATCHING_MAX_BLOCK
    if connection.vendor == "postgresql":
        block_key_indexes_ensure()
        with connection.cursor() as cursor:  # a freshly loaded table has no statistics yet
            cursor.execute(f"ANALYZE {connection.ops.quote_name(BlockKey._meta.db_table)}")
    keys = BlockKey.objects.all()
    if full:
        OversizedBlock.objects.all().delete()
    else:
        keys = keys.filter(
            block_key__in=BlockKey.objects.filter(party_id__in=party_ids or []).values("block_key")
        )
    big = keys.values("block_key").annotate(n=Count("pk")).filter(n__gt=cap).values_list("block_key", "n")
    OversizedBlock.objects.bulk_create(
        [OversizedBlock(block_key=k, parties=n) for k, n in big],
        update_conflicts=True,
        unique_fields=["block_key"],
        update_fields=["parties"],
        batch_size=2000,
    )
    return OversizedBlock.objects.count()


def block_key_indexes_ensure() -> None:
    """Create the block-key indexes if a full rebuild dropped them (PostgreSQL)."""
    if connection.vendor != "postgresql":
        return
    with connection.schema_editor(atomic=False) as editor, connection.cursor() as cursor:
        for index in BlockKey._meta.indexes:
            sql = str(index.create_sql(BlockKey, editor))
            cursor.execute(sql.replace("CREATE INDEX", "CREATE INDEX IF NOT EXISTS", 1))


# ---------------------------------------------------------------------------------------------
# Blocking rules: what each rule (standard or learned) contributes to a run, and which standard
# rules administrators switched off.

# dedupe's fingerprinter appends ":<index of the predicate>" to every learned key
# (``dedupe.blocking.Fingerprinter.__call__``); standard keys start with "~<code>:".
UNATTRIBUTED = "?"
_HEAD, _TAIL = 6, 4  # enough for a rule code of up to 4 letters, a predicate index up to 999
_PREFIXES = frozenset(rule.prefix for rule in STANDARD_RULES)


def _group_sql() -> str:
    """A SQL expression giving what names the rule of ``block_key``: the first characters of
    a standard key, the last ones of a learned key (``_group_name`` reads them). Plain
    string cuts, because the expression is evaluated once for every distinct key (7.6 million
    at 1,000,000 parties)."""
    if connection.vendor == "postgresql":
        return (
            f"CASE WHEN left(block_key, 1) = '~' THEN left(block_key, {_HEAD}) "
            f"ELSE right(block_key, {_TAIL}) END"
        )
    return (
        f"CASE WHEN substr(block_key, 1, 1) = '~' THEN substr(block_key, 1, {_HEAD}) "
        f"ELSE substr(block_key, -{_TAIL}) END"
    )


def _group_name(cut: str) -> str:
    """The rule named by a key's cut (``_group_sql``): a standard rule's prefix (``~e:``),
    ``~?`` for a standard prefix this version does not know, a learned predicate's index
    (``3``), or ``?`` for a learned key whose index was cut off (keys are stored up to 255
    characters)."""
    if cut.startswith("~"):
        prefix = cut.split(":", 1)[0] + ":"
        return prefix if ":" in cut and prefix in _PREFIXES else "~?"
    index = cut.rsplit(":", 1)[1] if ":" in cut else ""
    return index if index.isdigit() else UNATTRIBUTED


def _group_of(block_key: str) -> str:
    """The same rule name as ``block_key_rule_counts`` gives, for one key in Python."""
    return _group_name(block_key[:_HEAD] if block_key.startswith("~") else block_key[-_TAIL:])


_FIGURES = ("values", "keys", "blocks", "pairs", "oversized", "oversized_parties", "largest")


def block_key_rule_counts(cap: int) -> dict[str, dict[str, int]]:
    """Per rule (``_group_name``), over the whole block-key table, in one query: the keys
    written (``keys``: party × key), distinct values (``values``), blocks of 2 to ``cap``
    parties (``blocks``), the pairs of parties in those blocks (``pairs``: Σ n(n-1)/2, so a
    pair sharing two keys of one rule counts twice), blocks of more than ``cap`` parties left
    out (``oversized``), the parties in them (``oversized_parties``: a party in two counts
    twice) and the largest block (``largest``)."""
    table = connection.ops.quote_name(BlockKey._meta.db_table)
    sql = (
        f"SELECT grp, COUNT(*), SUM(n), "  # noqa: S608
        f"SUM(CASE WHEN n > 1 AND n <= %s THEN 1 ELSE 0 END), "
        f"SUM(CASE WHEN n <= %s THEN n * (n - 1) / 2 ELSE 0 END), "
        f"SUM(CASE WHEN n > %s THEN 1 ELSE 0 END), SUM(CASE WHEN n > %s THEN n ELSE 0 END), "
        f"MAX(n) FROM (SELECT {_group_sql()} AS grp, COUNT(*) AS n FROM {table} "
        f"GROUP BY block_key) blocks GROUP BY grp"
    )
    counts: dict[str, dict[str, int]] = {}
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # compiling this one-off query costs more than it saves (9.0 s against 11.4 s over
            # 9 million keys); SET LOCAL ends with the transaction, RESET right after the query
            cursor.execute("SET LOCAL jit = off")
        cursor.execute(sql, [cap] * 4)
        rows = cursor.fetchall()
        if connection.vendor == "postgresql":
            cursor.execute("RESET jit")
    for cut, *numbers in rows:
        row = dict(zip(_FIGURES, map(int, numbers), strict=True))
        name = _group_name(cut)
        if name in counts:  # the cuts of one rule's keys differ: add them up
            row = {
                f: max(counts[name][f], row[f]) if f == "largest" else counts[name][f] + row[f]
                for f in _FIGURES
            }
        counts[name] = row
    return counts


@dataclass(frozen=True)
class LabelledCoverage:
    matches: int  # labelled matches ("same customer")
    one_party: int  # of those, both records are in one party already: nothing to find
    covered: int  # of the others, pairs sharing a key of some rule that was not left out
    by_rule: dict[str, int]  # rule name (``_group_name``) → the pairs sharing one of its keys


def labelled_match_coverage() -> LabelledCoverage:
    """For every labelled match whose two records are now in two parties: which rules' keys
    the two parties share (keys of oversized blocks do not count: they make no pairs). Reads
    the stored keys, so it says what the run's candidate pairs really were."""
    rows = list(
        TrainingLabel.objects.filter(label=Label.MATCH).values_list(
            "record_a__party_id", "record_b__party_id"
        )
    )
    pairs = {(min(a, b), max(a, b)) for a, b in rows if a != b}
    one_party = sum(1 for a, b in rows if a == b)
    keys: dict[int, set[str]] = defaultdict(set)
    table = connection.ops.quote_name(BlockKey._meta.db_table)
    ids = sorted({pid for pair in pairs for pid in pair})
    for party_id, key in rows_for_ids(
        f"SELECT party_id, block_key FROM {table} WHERE party_id {{ids}}",  # noqa: S608
        ids,
    ):
        keys[party_id].add(key)
    shared = {pair: keys[pair[0]] & keys[pair[1]] for pair in pairs}
    every_shared = sorted(set().union(*shared.values())) if shared else []
    left_out = {
        key
        for start in range(0, len(every_shared), 900)
        for key in OversizedBlock.objects.filter(block_key__in=every_shared[start : start + 900]).values_list(
            "block_key", flat=True
        )
    }
    by_rule: Counter[str] = Counter()
    covered = 0
    for common in shared.values():
        groups = {_group_of(key) for key in common - left_out}
        by_rule.update(groups)
        covered += bool(groups)
    return LabelledCoverage(len(rows), one_party, covered, dict(by_rule))


_PREDICATE_WORDS = {
    "wholeFieldPredicate": "same {field}",
    "tokenFieldPredicate": "a word of {field} in common",
    "firstTokenPredicate": "same first word of {field}",
    "firstTwoTokensPredicate": "same first two words of {field}",
    "commonIntegerPredicate": "a number in {field} in common",
    "alphaNumericPredicate": "a word with digits in {field} in common",
    "nearIntegersPredicate": "a number in {field} within one",
    "hundredIntegerPredicate": "a number in {field} in the same hundred",
    "hundredIntegersOddPredicate": "a number in {field} in the same hundred (odd or even)",
    "firstIntegerPredicate": "same first number in {field}",
    "commonTwoTokens": "two words in a row of {field} in common",
    "commonThreeTokens": "three words in a row of {field} in common",
    "fingerprint": "same words of {field} in any order",
    "oneGramFingerprint": "same letters of {field}",
    "twoGramFingerprint": "same letter pairs of {field}",
    "commonFourGram": "four letters in a row of {field} in common",
    "commonSixGram": "six letters in a row of {field} in common",
    "sameThreeCharStartPredicate": "same first three characters of {field}",
    "sameFiveCharStartPredicate": "same first five characters of {field}",
    "sameSevenCharStartPredicate": "same first seven characters of {field}",
    "suffixArray": "a common ending of {field}",
    "sortedAcronym": "same initials of {field}",
    "doubleMetaphone": "{field} sounds the same",
    "metaphoneToken": "a word of {field} sounds the same",
    "wholeSetPredicate": "same {field}, all of them",
    "commonSetElementPredicate": "one of the {field} in common",
    "commonTwoElementsPredicate": "two of the {field} in common",
    "commonThreeElementsPredicate": "three of the {field} in common",
    "lastSetElementPredicate": "same last of the {field}",
    "firstSetElementPredicate": "same first of the {field}",
    "magnitudeOfCardinality": "about as many {field}",
    "orderOfMagnitude": "same order of magnitude of {field}",
}
_FIELD_WORDS = {
    "address_line1": "street address",
    "emails": "email addresses",
    "phones": "phone numbers",
    "identifiers": "identifiers",
}


def _field_words(field: str) -> str:
    return _FIELD_WORDS.get(field, field.replace("_", " "))


def predicate_label(predicate) -> str:
    """A learned blocking predicate in words: "same first three characters of family name and
    same birth date". Unknown kinds fall back to dedupe's own name of them."""
    parts = list(predicate) if isinstance(predicate, tuple) else [predicate]
    words = []
    for part in parts:
        field = _field_words(str(getattr(part, "field", "")))
        func = getattr(getattr(part, "func", None), "__name__", None)
        threshold = getattr(part, "threshold", None)
        if func in _PREDICATE_WORDS:
            words.append(_PREDICATE_WORDS[func].format(field=field))
        elif threshold is not None:  # an index predicate (canopy or search)
            kind = "within {t} edits" if "Levenshtein" in type(part).__name__ else "similar (TF-IDF ≥ {t})"
            words.append(f"{field} " + kind.format(t=threshold))
        else:
            words.append(getattr(part, "__name__", str(part)))
    text = " and ".join(words)
    return text[:1].upper() + text[1:] if text else str(predicate)


def _counts(numbers: dict[str, int] | None, covers: int | None) -> dict:
    zero = dict.fromkeys(_FIGURES, 0)
    return {**zero, **(numbers or {}), "covers": covers or 0}


def blocking_rules_measure(matcher: dedupe.StaticDedupe | None) -> dict:
    """What every blocking rule contributes now, measured on the whole block-key table (every
    party, not a sample), for the run page: per standard rule (switched off ones included, as
    off) and per learned predicate of ``matcher``, the keys, blocks, candidate pairs (a pair
    found by several rules counts in each), blocks left out as oversized and the labelled
    matches covered. One GROUP BY over the table plus a lookup of the labelled parties' keys."""
    started = time.monotonic()
    cap = settings.C360_MATCHING_MAX_BLOCK
    counts = block_key_rule_counts(cap)
    coverage = labelled_match_coverage()
    off = set(MatchSettings.current().rules_off or [])
    standard = []
    for rule in STANDARD_RULES:
        row = _counts(counts.pop(rule.prefix, None), coverage.by_rule.get(rule.prefix))
        standard.append(
            {"code": rule.code, "label": rule.label, "strong": rule.strong, "on": rule.code not in off, **row}
        )
    learned = []
    for index, predicate in enumerate(matcher.fingerprinter.predicates if matcher else ()):
        row = _counts(counts.pop(str(index), None), coverage.by_rule.get(str(index)))
        learned.append(
            {"index": index, "label": predicate_label(predicate), "predicate": str(predicate)[:300], **row}
        )
    other = [_counts(counts[name], coverage.by_rule.get(name)) for name in sorted(counts)]
    unattributed = {key: sum(row[key] for row in other) for key in other[0]} if other else None
    if unattributed:
        unattributed["largest"] = max(row["largest"] for row in other)
    return {
        "cap": cap,
        "standard": standard,
        "learned": learned,
        "unattributed": unattributed,
        "labelled": {
            "matches": coverage.matches,
            "one_party": coverage.one_party,
            "compared": coverage.matches - coverage.one_party,
            "covered": coverage.covered,
            "missed": coverage.matches - coverage.one_party - coverage.covered,
        },
        "rules_off": [rule.code for rule in STANDARD_RULES if rule.code in off],
        "seconds": round(time.monotonic() - started, 3),
    }


def rule_codes_check(codes: Iterable[str]) -> list[str]:
    """``codes`` as standard rule codes in their usual order, or a ValidationError naming every
    code that is not one."""
    given = [str(code) for code in codes]
    unknown = [code for code in given if code not in RULES_BY_CODE]
    if unknown:
        known = ", ".join(f"{rule.code} ({rule.label})" for rule in STANDARD_RULES)
        raise ValidationError(
            f"Unknown blocking rule {', '.join(repr(code) for code in unknown)}: "
            f"the standard rules are {known}.",
            code="unknown_rule",
        )
    return [rule.code for rule in STANDARD_RULES if rule.code in set(given)]


def match_settings_rules_set(*, codes_off: Iterable[str], user) -> MatchSettings:
    """Switch the standard blocking rules in ``codes_off`` off and every other one on. Every
    code is checked first (a ValidationError names an unknown one; nothing is saved then).
    Applies from the next run: a run fingerprints with the rules in force when it does, and a
    full run rewrites every party's keys (an incremental one only those of changed parties)."""
    off = rule_codes_check(codes_off)
    with transaction.atomic():
        current = MatchSettings.current()
        current = MatchSettings.objects.select_for_update().get(pk=current.pk)
        before = list(current.rules_off or [])
        current.rules_off, current.updated_by = off, user
        current.save(update_fields=["rules_off", "updated_by", "updated_at"])
        setting_changes_record(
            setting=THRESHOLDS_SETTING,
            user=user,
            labels={"rules_off": "blocking rules switched off"},
            before={"rules_off": _rule_names(before)},
            after={"rules_off": _rule_names(off)},
        )
    logger.info("blocking rules switched off: %s (were %s), by %s", off or "none", before or "none", user)
    return current


def _rule_names(codes: Iterable[str]) -> list[str]:
    """The rules' labels, for the settings history (a code no longer standard: the code)."""
    return [RULES_BY_CODE[code].label if code in RULES_BY_CODE else code for code in codes]


def rules_measured_run(run: MatchRun) -> MatchRun | None:
    """The run whose rule figures ``run``'s page shows: the run itself when it measured them
    (a full run), else the latest full run created before it that did (None without one)."""
    if run.rules or run.full:
        return run
    return (
        MatchRun.objects.filter(full=True, pk__lt=run.pk)
        .exclude(rules={})
        .select_related("model")
        .order_by("-pk")
        .first()
    )


def blocking_rules_overview() -> dict:
    """For the thresholds page: each standard rule, whether it is on, and what it did in the
    latest successful run that measured it (None before any)."""
    current = MatchSettings.current()
    off = set(current.rules_off or [])
    last = (
        MatchRun.objects.filter(status=RunStatus.SUCCEEDED)
        .exclude(rules={})
        .order_by("-finished_at", "-pk")
        .first()
    )
    measured = {row["code"]: row for row in (last.rules.get("standard", []) if last else [])}
    rows = [
        {
            "code": rule.code,
            "label": rule.label,
            "strong": rule.strong,
            "on": rule.code not in off,
            "last": measured.get(rule.code),
        }
        for rule in STANDARD_RULES
    ]
    return {
        "rules": rows,
        "run": last,
        "labelled": last.rules.get("labelled") if last else None,
        "strong_off": [row for row in rows if row["strong"] and not row["on"]],
    }
