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
from django.conf import settings
from django.db import connection
from django.db.models import Count
from django.utils import timezone

from matching.models import BlockKey, MatcherModel, MatchRecord, MatchSettings, OversizedBlock
from matching.rules import record_keys
from matching.selectors import match_records_store, party_records
from parties.models import Party
from parties.services.bulk_writer import rows_insert

BATCH = 5000


def matcher_load(model: MatcherModel) -> dedupe.StaticDedupe:
    # Settings are pickles: only ones this product wrote itself are ever loaded.
    return dedupe.StaticDedupe(io.BytesIO(bytes(model.settings_blob)), num_cores=1)


def party_id_batches(first: int = 0, last: int | None = None,
                     batch: int = BATCH) -> Iterator[list[int]]:
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


def block_keys_write(matcher: dedupe.StaticDedupe, party_ids: list[int], *,
                     fresh: bool = False) -> tuple[int, int]:
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
            ids = party_ids[start:start + BATCH]
            if not fresh:
                BlockKey.objects.filter(party_id__in=ids).delete()
            records = party_records(ids)
            match_records_store(ids, records, fresh=fresh)
            rows = [{"block_key": key[:255], "party_id": party_id}
                    for key, party_id in fingerprinter(records.items())]
            rows += [{"block_key": key, "party_id": party_id} for party_id, record in records.items()
                     for key in record_keys(record, rules)]
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
        keys = keys.filter(block_key__in=BlockKey.objects.filter(party_id__in=party_ids or [])
                           .values("block_key"))
    big = keys.values("block_key").annotate(n=Count("pk")).filter(n__gt=cap).values_list("block_key", "n")
    OversizedBlock.objects.bulk_create([OversizedBlock(block_key=k, parties=n) for k, n in big],
                                       update_conflicts=True, unique_fields=["block_key"],
                                       update_fields=["parties"], batch_size=2000)
    return OversizedBlock.objects.count()


def block_key_indexes_ensure() -> None:
    """Create the block-key indexes if a full rebuild dropped them (PostgreSQL)."""
    if connection.vendor != "postgresql":
        return
    with connection.schema_editor(atomic=False) as editor, connection.cursor() as cursor:
        for index in BlockKey._meta.indexes:
            sql = str(index.create_sql(BlockKey, editor))
            cursor.execute(sql.replace("CREATE INDEX", "CREATE INDEX IF NOT EXISTS", 1))
