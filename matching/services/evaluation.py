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

    return {party_id: (f"s{suggestion_id}", score) for party_id, suggestion_id, score in
            MatchSuggestionMember.objects.filter(suggestion__status=SuggestionStatus.PENDING)
            .values_list("party_id", "suggestion_id", "score")}


def export_rows() -> Iterator[list[str]]:
    """One row per source record, in a stable order. Records of one party share a cluster;
    so do the parties of one pending suggestion (with the member's score)."""
    suggested = _suggested_clusters()
    records = (SourceRecord.objects.select_related("source_system")
               .order_by("source_system__name", "source_key")
               .values_list("source_system__name", "source_key", "party_id"))
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
    return Scores(len(keys), precision, recall, f1, bp / count, br / count,
                  sum(1 for k in truth if k not in predicted))


class TruthFileError(ValueError):
    pass


def truth_read(handle: TextIO) -> dict[tuple[str, str], str]:
    reader = csv.reader(handle)
    header = [h.strip().lower() for h in next(reader, [])]
    if header != ["source", "source_key", "entity_id"]:
        raise TruthFileError(f"line 1: the header must be source,source_key,entity_id, not "
                             f"{','.join(header) or 'empty'}")
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
