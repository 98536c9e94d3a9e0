"""CSV downloads that are safe to open in a spreadsheet."""

from __future__ import annotations

import csv
from collections.abc import Iterable, Iterator, Sequence

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\n")


def csv_safe_cell(value: object) -> str:
    """Neutralize spreadsheet formula injection: a cell that a spreadsheet would run as a
    formula (``=HYPERLINK(…)``, ``+1+1``, ``@SUM``) gets a leading apostrophe."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(_FORMULA_START) else text


class _Echo:
    def write(self, value: str) -> str:
        return value


def csv_stream(header: Sequence[str], rows: Iterable[Sequence[object]]) -> Iterator[str]:
    """CSV lines, formula-safe, for a StreamingHttpResponse (memory stays flat)."""
    writer = csv.writer(_Echo())
    yield "\ufeff" + writer.writerow(header)  # BOM: spreadsheets then read UTF-8 correctly
    for row in rows:
        yield writer.writerow([csv_safe_cell(v) for v in row])
