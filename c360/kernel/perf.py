"""Help for hot loops that build millions of small objects."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager

# Python's collector runs a pass every 700 new container objects and walks every young
# object each time; a scoring chunk creates millions of dicts and tuples (flat records, pairs)
# that reference counting frees anyway, and a third of its time went to those passes.
GEN0_THRESHOLD = 100_000


@contextmanager
def fewer_gc_passes() -> Iterator[None]:
    """Run the block with objects alive now frozen (never scanned again: the model, caches)
    and a collector pass every ``GEN0_THRESHOLD`` allocations instead of 700; restored after."""
    before = gc.get_threshold()
    gc.freeze()
    gc.set_threshold(GEN0_THRESHOLD, before[1], before[2])
    try:
        yield
    finally:
        gc.set_threshold(*before)
        gc.unfreeze()
