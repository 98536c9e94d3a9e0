"""Export of what the engine says is one customer, and its evaluation against a truth file.

Clusters: records in one party share a cluster (``p<party id>``); the parties of one pending
suggestion share the suggestion's (``s<suggestion id>``).
"""

from __future__ import annotations

import csv
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import TextIO

from parties.models import SourceRecord

EXPORT_HEADER = ["source", "source_key", "party_id", "cluster_id", "score"]


def _suggested_clusters() -> dict[int, tuple[str, float]]:
    """party → (cluster id, member score) for parties in a pending suggestion."""
    from matching.models import MatchSuggestionMember, SuggestionStatus

    return {
        party_id: (f"s{suggestion_id}", score)
        for party_id, suggestion_id, score in MatchSuggestionMember.objects.filter(
            suggestion__status=SuggestionStatus.PENDING
        ).values_list("party_id", "suggestion_id", "score")
    }


def export_rows() -> Iterator[list[str]]:
    """One row per source record, in a stable order. Records of one party share a cluster;
    so do the parties of one pending suggestion (with the member's score)."""
    suggested = _suggested_clusters()
    records = (
        SourceRecord.objects.select_related("source_system")
        .order_by("source_system__name", "source_key")
        .values_list("source_system__name", "source_key", "party_id")
    )
    for source, key, party_id in records.iterator(chunk_size=5000):
        cluster, score = suggested.get(party_id, (f"p{party_id}", None))
        yield [source, key, str(party_id), cluster, "" if score is None else f"{score:.4f}"]


def export_write(handle: TextIO) -> int:
    writer = csv.writer(handle)
    writer.writerow(EXPORT_HEADER)
    count = 0
    for row in export_rows():
        writer.writerow(row)
        count += 1
    return count


@dataclass(frozen=True)
class Scores:
    records: int
    pairwise_precision: float
    pairwise_recall: float
    pairwise_f1: float
    bcubed_precision: float
    bcubed_recall: float
    missing: int  # truth records the engine does not know


def _pairs(size: int) -> int:
    return size * (size - 1) // 2


def scores_compute(predicted: dict[tuple[str, str], str], truth: dict[tuple[str, str], str]) -> Scores:
    """Pairwise and B-cubed precision/recall of ``predicted`` clusters against ``truth``
    entities, both ``{(source, key): id}``, over the records both know."""
    keys = [k for k in truth if k in predicted]
    cluster_sizes = Counter(predicted[k] for k in keys)
    entity_sizes = Counter(truth[k] for k in keys)
    cells = Counter((predicted[k], truth[k]) for k in keys)
    together = sum(_pairs(n) for n in cells.values())
    predicted_pairs = sum(_pairs(n) for n in cluster_sizes.values())
    true_pairs = sum(_pairs(n) for n in entity_sizes.values())
    precision = together / predicted_pairs if predicted_pairs else 1.0
    recall = together / true_pairs if true_pairs else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    bp = sum(cells[(predicted[k], truth[k])] / cluster_sizes[predicted[k]] for k in keys)
    br = sum(cells[(predicted[k], truth[k])] / entity_sizes[truth[k]] for k in keys)
    count = len(keys) or 1
    return Scores(
        len(keys), precision, recall, f1, bp / count, br / count, sum(1 for k in truth if k not in predicted)
    )


class TruthFileError(ValueError):
    pass


def truth_read(handle: TextIO) -> dict[tuple[str, str], str]:
    reader = csv.reader(handle)
    header = [h.strip().lower() for h in next(reader, [])]
    if header != ["source", "source_key", "entity_id"]:
        raise TruthFileError(
            f"line 1: the header must be source,source_key,entity_id, not {','.join(header) or 'empty'}"
        )
    truth: dict[tuple[str, str], str] = {}
    for line, row in enumerate(reader, start=2):
        if not row:
            continue
        if len(row) != 3:
            raise TruthFileError(f"line {line}: expected 3 fields, found {len(row)}")
        truth[(row[0], row[1])] = row[2]
    return truth


def predicted_clusters(rows: Iterable[list[str]] | None = None) -> dict[tuple[str, str], str]:
    grouped: dict[tuple[str, str], str] = {}
    for source, key, _party, cluster, _score in rows if rows is not None else export_rows():
        grouped[(source, key)] = cluster
    return grouped


def cluster_members(predicted: dict[tuple[str, str], str]) -> dict[str, list[tuple[str, str]]]:
    members: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for key, cluster in predicted.items():
        members[cluster].append(key)
    return members


RELIABILITY_BANDS = 10
RELIABILITY_MIN_PAIRS = 20  # a band with fewer pairs is shown but not judged


@dataclass(frozen=True)
class Band:
    low: float
    high: float
    pairs: int
    true_matches: int
    mean_score: float | None

    @property
    def share_true(self) -> float | None:
        return self.true_matches / self.pairs if self.pairs else None

    @property
    def calibrated(self) -> bool | None:
        """Whether the share of true matches lies within 0.1 of the band (None: too few pairs
        to tell)."""
        if self.pairs < RELIABILITY_MIN_PAIRS:
            return None
        return self.low - 0.1 <= self.share_true <= self.high + 0.1  # type: ignore[operator]


@dataclass(frozen=True)
class Reliability:
    candidates: int
    scored: int
    bands: list[Band]

    @property
    def suggested_threshold(self) -> float:
        """Where a suggestion becomes more likely right than wrong: 0.5 for calibrated scores,
        moved up past any band from 0.5 on that holds fewer true matches than not, and down
        through the bands below 0.5 that hold more (bands with too few pairs to judge stop
        the move down)."""
        threshold = 0.5
        for band in self.bands:
            if band.low >= 0.5 and band.calibrated is not None and (band.share_true or 0) < 0.5:
                threshold = band.high
        if threshold == 0.5:
            for band in reversed([b for b in self.bands if b.high <= 0.5]):
                if band.calibrated is None or (band.share_true or 0) < 0.5:
                    break
                threshold = band.low
        return round(min(max(threshold, 0.05), 0.95), 2)


def reliability_compute(
    truth: dict[tuple[str, str], str], *, bands: int = RELIABILITY_BANDS, budget: int | None = None
) -> Reliability:
    """How far the active model's scores can be trusted: every candidate pair of the stored
    block keys (as the last run found them) scored again with the active model, by score band,
    against ``truth``. Two parties are the same customer when one of their records' entities
    is shared."""
    from matching.models import MatcherModel
    from matching.selectors import match_records
    from matching.services.blocking import matcher_load, party_id_batches
    from matching.services.scoring import candidate_pairs, pair_scores, population_set

    model = MatcherModel.objects.filter(is_active=True).first()
    if model is None:
        raise ValueError("no trained model yet: train the matcher first")
    matcher = matcher_load(model)
    population_set(matcher)
    entities: dict[int, set[str]] = defaultdict(set)
    for party_id, source, key in SourceRecord.objects.values_list(
        "party_id", "source_system__name", "source_key"
    ).iterator(chunk_size=5000):
        if (source, key) in truth:
            entities[party_id].add(truth[(source, key)])
    counts, true, sums = [0] * bands, [0] * bands, [0.0] * bands
    found = scored = 0
    for ids in party_id_batches(batch=10_000):
        candidates = candidate_pairs(ids[0], ids[-1], budget=budget)
        found += candidates.found
        scored += len(candidates.pairs)
        for pairs in candidates.batches():
            records = match_records({pid for pair in pairs for pid in pair})
            known = [((a, records[a]), (b, records[b])) for a, b in pairs if a in records and b in records]
            result = pair_scores(matcher, known)
            scores = {
                (int(a), int(b)): float(s) for (a, b), s in zip(result["pairs"], result["score"], strict=True)
            }
            for (a, _), (b, _) in known:
                score = scores.get((a, b), 0.0)  # pair_scores leaves out pairs scoring 0
                band = min(int(score * bands), bands - 1)
                counts[band] += 1
                sums[band] += score
                true[band] += bool(entities.get(a, set()) & entities.get(b, set()))
    return Reliability(
        found,
        scored,
        [
            Band(
                round(i / bands, 2),
                round((i + 1) / bands, 2),
                counts[i],
                true[i],
                sums[i] / counts[i] if counts[i] else None,
            )
            for i in range(bands)
        ],
    )


def reliability_lines(reliability: Reliability) -> list[str]:
    """The table as text (``evaluate_matches``, the benchmark)."""
    lines = [
        f"reliability of the active model's scores ({reliability.scored:,} candidate pairs "
        f"scored of {reliability.candidates:,}):",
        "  score band   pairs  true matches  share true  within 0.1?",
    ]
    for band in reliability.bands:
        share = "-" if band.share_true is None else f"{band.share_true:.3f}"
        judged = {True: "yes", False: "NO", None: "too few to tell"}[band.calibrated]
        lines.append(
            f"  {band.low:.1f}-{band.high:.1f}  {band.pairs:>8,}  {band.true_matches:>12,}  "
            f"{share:>10}  {judged}"
        )
    lines.append(
        f"suggested review threshold: {reliability.suggested_threshold} (where a pair "
        f"becomes more likely the same customer than not; bands of fewer than "
        f"{RELIABILITY_MIN_PAIRS} pairs are not judged)"
    )
    return lines


@dataclass(frozen=True)
class LargeEntities:
    """How people with many records fare: kept whole, or split into several clusters."""

    min_records: int
    entities: int
    kept_whole: int  # all their records in one cluster
    pairwise_recall: float  # of the pairs among their records
    pairwise_precision: float  # of the predicted pairs touching their records


def large_entities_compute(
    predicted: dict[tuple[str, str], str], truth: dict[tuple[str, str], str], min_records: int = 4
) -> LargeEntities:
    members: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for key, entity in truth.items():
        if key in predicted:
            members[entity].append(key)
    large = {e: keys for e, keys in members.items() if len(keys) >= min_records}
    in_large = {key: e for e, keys in large.items() for key in keys}
    true_pairs = together = whole = 0
    for keys in large.values():
        clusters = Counter(predicted[k] for k in keys)
        whole += len(clusters) == 1
        true_pairs += _pairs(len(keys))
        together += sum(_pairs(n) for n in clusters.values())
    cluster_members = cluster_members_of(predicted)
    predicted_pairs = right = 0
    for cluster in {predicted[k] for k in in_large}:
        keys = cluster_members[cluster]
        predicted_pairs += sum(
            1 for i, a in enumerate(keys) for b in keys[i + 1 :] if a in in_large or b in in_large
        )
        right += sum(
            1
            for i, a in enumerate(keys)
            for b in keys[i + 1 :]
            if (a in in_large or b in in_large) and truth.get(a) == truth.get(b)
        )
    return LargeEntities(
        min_records,
        len(large),
        whole,
        together / true_pairs if true_pairs else 1.0,
        right / predicted_pairs if predicted_pairs else 1.0,
    )


def cluster_members_of(predicted: dict[tuple[str, str], str]) -> dict[str, list[tuple[str, str]]]:
    members: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for key, cluster in predicted.items():
        members[cluster].append(key)
    return members
