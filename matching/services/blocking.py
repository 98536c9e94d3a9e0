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
from collections.abc import Iterator

import dedupe
from django.db import connection
from django.utils import timezone

from matching.models import BlockKey, MatcherModel, MatchRecord
from matching.selectors import match_records_store, party_records
from parties.models import Party
from parties.services.bulk_writer import rows_insert

BATCH = 5000


def matcher_load(model: MatcherModel) -> dedupe.StaticDedupe:
    # Settings are pickles: only ones this product wrote itself are ever loaded.
    return dedupe.StaticDedupe(io.BytesIO(bytes(model.settings_blob)), num_cores=1)


def party_id_batches(first: int = 0, last: int | None = None,
                     batch: int = BATCH) -> Iterator[list[int]]:
    """Active party ids in [first, last], ascending, ``batch`` at a time."""
    after = first - 1
    while True:
        ids = Party.objects.active().filter(pk__gt=after)
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


def block_keys_write(matcher: dedupe.StaticDedupe, party_ids: list[int]) -> tuple[int, int]:
    """Replace the stored block keys of ``party_ids`` with fresh fingerprints. Returns
    (parties fingerprinted, keys written). Inactive (merged) parties lose their keys."""
    fingerprinter = matcher.fingerprinter
    if fingerprinter.index_fields:
        _index_everyone(fingerprinter)
    parties = keys = 0
    try:
        for start in range(0, len(party_ids), BATCH):
            ids = party_ids[start:start + BATCH]
            BlockKey.objects.filter(party_id__in=ids).delete()
            records = party_records(ids)
            match_records_store(ids, records)
            rows = [{"block_key": key[:255], "party_id": party_id}
                    for key, party_id in fingerprinter(records.items())]
            rows_insert(BlockKey, rows, now=timezone.now())
            parties += len(records)
            keys += len(rows)
    finally:
        if fingerprinter.index_fields:
            fingerprinter.reset_indices()
    return parties, keys


def block_keys_clear() -> None:
    """Empty the block keys and stored records before a full rebuild (TRUNCATE where the
    database has it)."""
    with connection.cursor() as cursor:
        for model in (BlockKey, MatchRecord):
            table = connection.ops.quote_name(model._meta.db_table)
            if connection.vendor == "postgresql":
                cursor.execute(f"TRUNCATE {table}")  # noqa: S608
            else:
                cursor.execute(f"DELETE FROM {table}")  # noqa: S608
