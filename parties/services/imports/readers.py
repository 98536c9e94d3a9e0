"""Reading source files as a stream of rows: CSV (any delimiter, quoted fields, UTF-8 with or
without BOM, Windows-1252/Latin-1), XLSX and JSON Lines.

Structural problems raise ``ImportFileError`` with a message that says what and where; they
are found before anything is written. A single bad row is not structural: it comes out as a
``RawRow`` with an ``error`` so that the job rejects it with its line number and goes on.
"""

from __future__ import annotations

import codecs
import csv
import io
import json
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, time
from pathlib import Path

HEAD_BYTES = 256 * 1024
CHUNK_BYTES = 1024 * 1024
DELIMITERS = [",", ";", "\t", "|"]
# A real XLSX of 200 MB unpacks to a few GB at most; anything beyond is a zip bomb.
XLSX_MAX_UNPACKED_BYTES = 4 * 1024**3
XLSX_MAX_RATIO = 200
csv.field_size_limit(16 * 1024 * 1024)


class ImportFileError(Exception):
    """The file as a whole cannot be imported; nothing has been written."""


@dataclass(frozen=True)
class FileInfo:
    format: str  # csv | xlsx | jsonl
    headers: list[str]
    encoding: str = ""
    delimiter: str = ""
    rows_estimate: int | None = None


@dataclass(frozen=True)
class RawRow:
    line: int
    values: dict[str, str]
    error: str = ""


def _format_of(path: Path, original_name: str, head: bytes) -> str:
    name = original_name.lower()
    if head.startswith(b"PK\x03\x04"):
        if name.endswith((".xlsx", ".xlsm")) or not name.endswith((".csv", ".txt", ".jsonl")):
            return "xlsx"
        raise ImportFileError(f"{original_name} is a zip archive, not a CSV file.")
    if name.endswith((".xlsx", ".xlsm", ".xls")):
        kind = "an old binary .xls file" if head.startswith(b"\xd0\xcf\x11\xe0") else "not an XLSX workbook"
        raise ImportFileError(f"{original_name} is {kind}; save it as .xlsx or CSV.")
    if head.startswith(b"\xd0\xcf\x11\xe0"):
        raise ImportFileError(f"{original_name} is an old binary Excel (.xls) file; save it as .xlsx or CSV.")
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise ImportFileError(f"{original_name} is UTF-16 text; save it as UTF-8 CSV.")
    if b"\x00" in head:
        raise ImportFileError(f"{original_name} is not a text file (it contains NUL bytes).")
    if name.endswith((".jsonl", ".ndjson")):
        return "jsonl"
    stripped = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    if stripped.startswith(b"{") and name.endswith(".json"):
        return "jsonl"
    return "csv"


def _encoding_of(head: bytes, original_name: str) -> str:
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    try:
        head.decode("utf-8")
        return "utf-8"
    except UnicodeDecodeError as exc:
        # The head may end inside a multi-byte character: only errors before the end count.
        if exc.end >= len(head) - 3 and exc.reason == "unexpected end of data":
            return "utf-8"
        if not head[: exc.start].isascii():
            # UTF-8 text so far, then a byte that is not: a file of mixed encodings. Reading
            # it as Windows-1252 would garble every accented letter before that byte.
            line = head[: exc.start].count(b"\n") + 1
            raise ImportFileError(
                f"{original_name}: undecodable byte 0x{head[exc.start]:02x} at line {line}: the file "
                "is UTF-8 up to there, then not; it mixes encodings.") from None
    try:
        head.decode("cp1252")
        return "cp1252"
    except UnicodeDecodeError as exc:
        line = head[: exc.start].count(b"\n") + 1
        raise ImportFileError(
            f"{original_name}: undecodable byte 0x{head[exc.start]:02x} at line {line}: the file is "
            "neither UTF-8 nor Windows-1252/Latin-1 text."
        ) from None


def _delimiter_of(header_line: str) -> str:
    counts = {d: header_line.count(d) for d in DELIMITERS}
    best = max(DELIMITERS, key=lambda d: counts[d])
    return best if counts[best] else ","


def _check_headers(headers: list[str], original_name: str) -> list[str]:
    cleaned = [h.strip() for h in headers]
    if not any(cleaned):
        raise ImportFileError(f"{original_name}: the first line is empty; it must name the columns.")
    seen: dict[str, int] = {}
    for index, header in enumerate(cleaned, start=1):
        if not header:
            raise ImportFileError(f"{original_name}: column {index} of the header has no name.")
        if header.lower() in seen:
            raise ImportFileError(
                f"{original_name}: duplicate column name {header!r} (columns {seen[header.lower()]} "
                f"and {index}); every column needs its own name."
            )
        seen[header.lower()] = index
    return cleaned


def _xlsx_check(path: Path, original_name: str) -> None:
    try:
        with zipfile.ZipFile(path) as archive:
            entries = archive.infolist()
            names = {e.filename for e in entries}
    except zipfile.BadZipFile:
        raise ImportFileError(f"{original_name} is not a valid XLSX workbook (broken zip).") from None
    if "[Content_Types].xml" not in names or not any(n.startswith("xl/") for n in names):
        raise ImportFileError(f"{original_name} is a zip archive but not an XLSX workbook.")
    unpacked = sum(e.file_size for e in entries)
    packed = sum(e.compress_size for e in entries) or 1
    if unpacked > XLSX_MAX_UNPACKED_BYTES or (unpacked > 50 * 1024**2 and unpacked / packed > XLSX_MAX_RATIO):
        raise ImportFileError(
            f"{original_name} unpacks to {unpacked / 1024**2:,.0f} MB from {packed / 1024**2:,.1f} MB "
            "(a zip bomb?); refused."
        )


def _cell_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == time(0) else value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _json_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return value
    if isinstance(value, (int, float)):
        return str(value)
    return json.dumps(value, ensure_ascii=False, sort_keys=True)


def file_inspect(path: Path, *, original_name: str, max_bytes: int) -> FileInfo:
    """Look at the head of the file: size, format, encoding, delimiter, header. Fast enough
    to run while the upload request waits."""
    size = path.stat().st_size
    if size == 0:
        raise ImportFileError(f"{original_name} is empty.")
    if size > max_bytes:
        raise ImportFileError(
            f"{original_name} is {size / 1024**2:,.1f} MB; the limit is {max_bytes / 1024**2:,.0f} MB."
        )
    with path.open("rb") as handle:
        head = handle.read(HEAD_BYTES)
    fmt = _format_of(path, original_name, head)
    if fmt == "xlsx":
        return _xlsx_inspect(path, original_name)
    encoding = _encoding_of(head, original_name)
    text = head.decode(encoding, errors="ignore")
    if not text.strip():
        raise ImportFileError(f"{original_name} has no content (only blank lines).")
    if fmt == "jsonl":
        return _jsonl_inspect(text, original_name, encoding, _rows_estimate(head, size) + 1)
    first_line = text.lstrip("\r\n").splitlines()[0]
    delimiter = _delimiter_of(first_line)
    reader = csv.reader(io.StringIO(text.lstrip("\r\n")), delimiter=delimiter)
    try:
        headers = next(reader)
    except (StopIteration, csv.Error) as exc:
        raise ImportFileError(f"{original_name}: the header line cannot be read as CSV: {exc}") from None
    return FileInfo("csv", _check_headers(headers, original_name), encoding, delimiter,
                    rows_estimate=_rows_estimate(head, size))


def _rows_estimate(head: bytes, size: int | None) -> int:
    """Data lines in the file: counted when the head is the whole file, else extrapolated
    from the head's average line length (the job counts exactly before it starts)."""
    lines = head.count(b"\n") + (0 if head.endswith(b"\n") else 1)
    if size is None or size <= len(head):
        return max(lines - 1, 0)
    return max(int(size / (len(head) / max(lines, 1))) - 1, 0)


def _jsonl_inspect(text: str, original_name: str, encoding: str, estimate: int) -> FileInfo:
    headers: dict[str, None] = {}
    for number, line in enumerate(text.splitlines()[:200], start=1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
        except json.JSONDecodeError:
            continue  # a bad line is that row's problem, or the head cut a line in two
        if isinstance(item, dict):
            headers.update(dict.fromkeys(str(k) for k in item))
        elif number == 1:
            raise ImportFileError(
                f"{original_name}: line 1 is not a JSON object; JSON Lines needs one object per line.")
    if not headers:
        raise ImportFileError(f"{original_name}: no JSON object found in the first lines.")
    return FileInfo("jsonl", _check_headers(list(headers), original_name), encoding,
                    rows_estimate=estimate)


def _xlsx_inspect(path: Path, original_name: str) -> FileInfo:
    _xlsx_check(path, original_name)
    workbook = _xlsx_open(path, original_name)
    try:
        sheet = workbook.worksheets[0]
        first = next(sheet.iter_rows(max_row=1, values_only=True), None)
        if first is None:
            raise ImportFileError(f"{original_name}: the first sheet is empty.")
        headers = [_cell_text(v) for v in first]
        while headers and not headers[-1]:
            headers.pop()
        estimate = (sheet.max_row - 1) if sheet.max_row else None
    finally:
        workbook.close()
    return FileInfo("xlsx", _check_headers(headers, original_name), rows_estimate=estimate)


def _xlsx_open(path: Path, original_name: str):
    from openpyxl import load_workbook

    try:
        return load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds for a broken workbook
        raise ImportFileError(f"{original_name} cannot be read as an XLSX workbook: {exc}") from None


def file_verify(path: Path, info: FileInfo, *, original_name: str) -> FileInfo:
    """Read the whole file once, before anything is written: every byte must decode in one
    encoding. Returns the info with the encoding settled and the number of lines counted."""
    if info.format == "xlsx":
        return info
    decoder = codecs.getincrementaldecoder("utf-8-sig" if info.encoding == "utf-8-sig" else info.encoding)()
    lines, offset, seen_non_ascii = 0, 0, False
    encoding = info.encoding
    with path.open("rb") as handle:
        while chunk := handle.read(CHUNK_BYTES):
            try:
                text = decoder.decode(chunk)
            except UnicodeDecodeError as exc:
                if encoding.startswith("utf-8") and not seen_non_ascii and chunk[: exc.start].isascii():
                    # Plain ASCII so far, then a byte that is not UTF-8: a Windows-1252 file.
                    return file_verify(path, FileInfo(info.format, info.headers, "cp1252",
                                                      info.delimiter), original_name=original_name)
                line = lines + chunk[: exc.start].count(b"\n") + 1
                raise ImportFileError(
                    f"{original_name}: undecodable byte 0x{chunk[exc.start]:02x} at line {line} "
                    f"(byte {offset + exc.start + 1}): the file is not valid {_encoding_label(encoding)}."
                ) from None
            seen_non_ascii = seen_non_ascii or not text.isascii()
            lines += chunk.count(b"\n")
            offset += len(chunk)
        try:
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            raise ImportFileError(f"{original_name}: the file ends in the middle of a character.") from None
    return FileInfo(info.format, info.headers, encoding, info.delimiter, rows_estimate=max(lines - 1, 0) or 1)


def _encoding_label(encoding: str) -> str:
    return {"utf-8": "UTF-8", "utf-8-sig": "UTF-8", "cp1252": "Windows-1252/Latin-1"}.get(encoding, encoding)


def rows_iter(path: Path, info: FileInfo, *, after_line: int = 0) -> Iterator[RawRow]:
    """Every data row with its line number (the header is line 1), skipping lines up to
    ``after_line`` (a retried job's cursor). Blank lines are not rows."""
    if info.format == "csv":
        yield from _csv_rows(path, info, after_line)
    elif info.format == "jsonl":
        yield from _jsonl_rows(path, info, after_line)
    else:
        yield from _xlsx_rows(path, info, after_line)


def _csv_rows(path: Path, info: FileInfo, after_line: int) -> Iterator[RawRow]:
    width = len(info.headers)
    with path.open("r", encoding=info.encoding, newline="") as handle:
        reader = csv.reader(handle, delimiter=info.delimiter)
        header_seen, line = False, 0
        while True:
            start = reader.line_num + 1
            try:
                fields = next(reader)
            except StopIteration:
                return
            except csv.Error as exc:
                raise ImportFileError(f"line {start}: the CSV cannot be read any further: {exc}") from None
            line = start
            if not header_seen:
                if not any(f.strip() for f in fields):
                    continue
                header_seen = True
                continue
            if line <= after_line or not any(f.strip() for f in fields):
                continue
            values = dict(zip(info.headers, fields, strict=False))
            if any("\x00" in f for f in fields):
                yield RawRow(line, {k: v.replace("\x00", "") for k, v in values.items()},
                             "the row contains a NUL character, which no database column can hold")
            elif len(fields) != width:
                yield RawRow(line, values, f"the row has {len(fields)} fields, the header has {width}")
            else:
                yield RawRow(line, values)


def _jsonl_rows(path: Path, info: FileInfo, after_line: int) -> Iterator[RawRow]:
    with path.open("r", encoding=info.encoding) as handle:
        for line, text in enumerate(handle, start=1):
            if line <= after_line or not text.strip():
                continue
            try:
                item = json.loads(text)
            except json.JSONDecodeError as exc:
                yield RawRow(line, {}, f"not valid JSON (column {exc.colno}): {exc.msg}")
                continue
            if not isinstance(item, dict):
                yield RawRow(line, {}, "not a JSON object")
                continue
            yield RawRow(line, {str(k): _json_text(v) for k, v in item.items()})


def _xlsx_rows(path: Path, info: FileInfo, after_line: int) -> Iterator[RawRow]:
    workbook = _xlsx_open(path, str(path.name))
    try:
        sheet = workbook.worksheets[0]
        width = len(info.headers)
        for line, cells in enumerate(sheet.iter_rows(min_row=2, values_only=True), start=2):
            if line <= after_line:
                continue
            texts = [_cell_text(v) for v in cells]
            if not any(t.strip() for t in texts):
                continue
            extra = [t for t in texts[width:] if t.strip()]
            values = dict(zip(info.headers, texts[:width] + [""] * (width - len(texts)), strict=True))
            if extra:
                yield RawRow(line, values, f"the row has values beyond the {width} named columns")
            else:
                yield RawRow(line, values)
    finally:
        workbook.close()


def rows_preview(path: Path, info: FileInfo, limit: int = 10) -> list[RawRow]:
    rows = []
    try:
        for row in rows_iter(path, info):
            rows.append(row)
            if len(rows) >= limit:
                break
    except (UnicodeDecodeError, ImportFileError):
        pass  # the preview shows what it can; the job's full check reports the problem
    return rows
