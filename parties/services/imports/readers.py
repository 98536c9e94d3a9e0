"""Reading source files as a stream of rows: CSV (any delimiter, quoted fields, UTF-8 with or
without BOM, Windows-1252/Latin-1), XLSX and JSON Lines.

Structural problems raise ``ImportFileError`` with a message that says what and where; they
are found before anything is written. A single bad row is not structural: it comes out as a
``RawRow`` with an ``error`` so that the job rejects it with its line number and goes on.

Every reader takes the file as a ``Source``: a local path, or a seekable binary stream (a file
opened from Django's storage, which may live in object storage). A stream stays the caller's:
the readers seek it back to the start for each pass and never close it.
"""

from __future__ import annotations

import codecs
import csv
import io
import json
import os
import re
import zipfile
from collections.abc import Generator, Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass
from datetime import date, datetime, time
from pathlib import Path
from typing import IO, TypeAlias

HEAD_BYTES = 256 * 1024
CHUNK_BYTES = 1024 * 1024
DELIMITERS = [",", ";", "\t", "|"]
# A real XLSX of 200 MB unpacks to a few GB at most; anything beyond is a zip bomb.
XLSX_MAX_UNPACKED_BYTES = 4 * 1024**3
XLSX_MAX_RATIO = 200
# No customer, touch-point or consent file needs more columns than this (the template has 26);
# the mapping page shows one select per column. ``file_inspect`` takes the limit in force.
MAX_COLUMNS = 500
# A value nested deeper than this is not customer data; the JSON parser's recursion limit would
# otherwise decide (RecursionError) how deep is too deep.
JSON_MAX_DEPTH = 32
# A UTF-8 lead byte and a continuation byte: where a UTF-8 line may be. Rare in Windows-1252
# text (an accented letter followed by a symbol), and then its line does not decode as UTF-8.
_UTF8_PAIR = re.compile(rb"[\xc2-\xf4][\x80-\xbf]")
_NON_ASCII = re.compile(rb"[\x80-\xff]")
csv.field_size_limit(16 * 1024 * 1024)


class ImportFileError(Exception):
    """The file as a whole cannot be imported; nothing has been written."""


Source: TypeAlias = Path | IO[bytes]


@contextmanager
def _binary(source: Source) -> Iterator[IO[bytes]]:
    """The file's bytes from the start: a path is opened (and closed), a stream rewound."""
    if isinstance(source, (str, os.PathLike)):
        with open(source, "rb") as handle:
            yield handle
    else:
        source.seek(0)
        yield source


@contextmanager
def _text(source: Source, encoding: str, newline: str | None = None) -> Iterator[IO[str]]:
    """The file as text from the start. A stream is wrapped, then detached again, so that
    closing the text layer does not close the caller's stream."""
    if isinstance(source, (str, os.PathLike)):
        with open(source, encoding=encoding, newline=newline) as handle:
            yield handle
        return
    source.seek(0)
    wrapper = io.TextIOWrapper(source, encoding=encoding, newline=newline)
    try:
        yield wrapper
    finally:
        if not source.closed:  # closed under an unfinished reader: nothing left to keep open
            wrapper.detach()


def _size(source: Source) -> int:
    if isinstance(source, (str, os.PathLike)):
        return os.stat(source).st_size
    size = getattr(source, "size", None)  # a Django File knows it without reading
    if isinstance(size, int):
        return size
    source.seek(0, os.SEEK_END)
    return source.tell()


def _storable(text: str) -> bool:
    """Whether a database can hold the text: no NUL (PostgreSQL refuses it in text and JSON
    columns) and no lone surrogate (JSON's ``\\ud800`` escape makes one; it has no UTF-8)."""
    if "\x00" in text:
        return False
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _unstorable_reason(values: dict[str, str]) -> str:
    """Why a row cannot be stored (naming the column), or "" if it can."""
    for key, value in values.items():
        if not (_storable(key) and _storable(value)):
            return _unstorable_message(_printable(key), key + value)
    return ""


def _unstorable_message(column: str, text: str) -> str:
    what = "NUL character" if "\x00" in text else "invalid Unicode character (a lone surrogate)"
    return f"column {column!r} contains a {what}, which no database column can hold"


def _printable(text: str) -> str:
    return "".join(c if c.isprintable() and _storable(c) else "\ufffd" for c in text)[:100]


def _utf8_line(data: bytes) -> int | None:
    """The 0-based number of the first line of ``data`` (complete lines of a Windows-1252 file)
    that has non-ASCII bytes and decodes entirely as UTF-8: a line written in another encoding."""
    position = 0
    while match := _UTF8_PAIR.search(data, position):
        start = data.rfind(b"\n", 0, match.start()) + 1
        end = data.find(b"\n", match.end())
        end = len(data) if end < 0 else end
        try:
            data[start:end].decode("utf-8")
        except UnicodeDecodeError:
            position = end + 1  # a Windows-1252 line: look on from the next one
            continue
        return data.count(b"\n", 0, start)
    return None


def _mixed_encodings_error(original_name: str, utf8_line: int, other_line: int | None) -> ImportFileError:
    before = f"line {other_line}" if other_line else "an earlier line"
    return ImportFileError(
        f"{original_name}: line {utf8_line} is UTF-8 but {before} is Windows-1252/Latin-1 (not UTF-8): "
        "the file mixes encodings, and reading it as either would garble names. Save the whole file "
        "in one encoding (UTF-8) and upload it again."
    )


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


def _format_of(original_name: str, head: bytes) -> str:
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
    if b"\x00\x00" in head or b"\x00" in head.lstrip(b"\r\n").split(b"\n", 1)[0]:
        # Runs of zero bytes, or one in the header: binary (or UTF-16 without its BOM). A lone
        # NUL in a value is that row's problem: the row is rejected, as in JSON Lines.
        raise ImportFileError(f"{original_name} is not a text file (it contains NUL bytes).")
    if name.endswith((".jsonl", ".ndjson")):
        return "jsonl"
    stripped = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    if stripped.startswith(b"{") and name.endswith(".json"):
        return "jsonl"
    return "csv"


def _encoding_of(head: bytes, original_name: str) -> str:
    if head.startswith(codecs.BOM_UTF8):
        # The mark says UTF-8: a byte that is not (a Windows-1252 line after UTF-8 ones) is
        # refused now, as without the mark, not when the job starts.
        try:
            head[3:].decode("utf-8")
        except UnicodeDecodeError as exc:
            if not (exc.end >= len(head) - 6 and exc.reason == "unexpected end of data"):
                start = exc.start + 3
                line = head[:start].count(b"\n") + 1
                raise ImportFileError(
                    f"{original_name}: undecodable byte 0x{head[start]:02x} at line "
                    f"{line} (byte {start + 1}): the file starts with a UTF-8 "
                    "byte order mark but is not UTF-8 from there; it mixes encodings. Save it in one "
                    "encoding (UTF-8)."
                ) from None
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
                "is UTF-8 up to there, then not; it mixes encodings."
            ) from None
    try:
        head.decode("cp1252")
    except UnicodeDecodeError as exc:
        line = head[: exc.start].count(b"\n") + 1
        raise ImportFileError(
            f"{original_name}: undecodable byte 0x{head[exc.start]:02x} at line {line}: the file is "
            "neither UTF-8 nor Windows-1252/Latin-1 text."
        ) from None
    # Windows-1252 from the first non-ASCII byte on: a later UTF-8 line means mixed encodings.
    complete = head if len(head) < HEAD_BYTES else head[: head.rfind(b"\n") + 1]
    utf8 = _utf8_line(complete)
    if utf8 is not None:
        first = _NON_ASCII.search(head)
        raise _mixed_encodings_error(
            original_name, utf8 + 1, head.count(b"\n", 0, first.start()) + 1 if first else None
        )
    return "cp1252"


def _delimiter_of(header_line: str) -> str:
    counts = {d: header_line.count(d) for d in DELIMITERS}
    best = max(DELIMITERS, key=lambda d: counts[d])
    return best if counts[best] else ","


def _check_headers(
    headers: list[str], original_name: str, max_columns: int = MAX_COLUMNS, counted_all: bool = True
) -> list[str]:
    if len(headers) > max_columns:
        # JSON Lines stops reading at the first line over the limit: later lines may add more
        found = f"{len(headers):,}" if counted_all else f"at least {len(headers):,}"
        raise ImportFileError(
            f"{original_name} has {found} columns; at most {max_columns:,} can be imported. "
            "Remove the columns you do not need (or split the file) and upload it again."
        )
    cleaned = [h.strip() for h in headers]
    if not any(cleaned):
        raise ImportFileError(f"{original_name}: the first line is empty; it must name the columns.")
    seen: dict[str, int] = {}
    for index, header in enumerate(cleaned, start=1):
        if not header:
            raise ImportFileError(f"{original_name}: column {index} of the header has no name.")
        if not _storable(header):
            raise ImportFileError(
                f"{original_name}: the name of column {index} contains a NUL character or an invalid "
                "Unicode escape; rename the column."
            )
        if header.lower() in seen:
            raise ImportFileError(
                f"{original_name}: duplicate column name {header!r} (columns {seen[header.lower()]} "
                f"and {index}); every column needs its own name."
            )
        seen[header.lower()] = index
    return cleaned


def _xlsx_check(source: Source, original_name: str) -> None:
    try:
        with _binary(source) as handle, zipfile.ZipFile(handle) as archive:
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


def file_inspect(
    source: Source, *, original_name: str, max_bytes: int, max_columns: int = MAX_COLUMNS
) -> FileInfo:
    """Look at the head of the file: size, format, encoding, delimiter, header (at most
    ``max_columns`` columns). Fast enough to run while the upload request waits."""
    size = _size(source)
    if size == 0:
        raise ImportFileError(f"{original_name} is empty.")
    if size > max_bytes:
        raise ImportFileError(
            f"{original_name} is {size / 1024**2:,.1f} MB; the limit is {max_bytes / 1024**2:,.0f} MB."
        )
    with _binary(source) as handle:
        head = handle.read(HEAD_BYTES)
    fmt = _format_of(original_name, head)
    if fmt == "xlsx":
        return _xlsx_inspect(source, original_name, max_columns)
    encoding = _encoding_of(head, original_name)
    text = head.decode(encoding, errors="ignore")
    if not text.strip():
        raise ImportFileError(f"{original_name} has no content (only blank lines).")
    if fmt == "jsonl":
        return _jsonl_inspect(text, original_name, encoding, _rows_estimate(head, size) + 1, max_columns)
    first_line = text.lstrip("\r\n").splitlines()[0]
    delimiter = _delimiter_of(first_line)
    reader = csv.reader(io.StringIO(text.lstrip("\r\n")), delimiter=delimiter)
    try:
        headers = next(reader)
    except (StopIteration, csv.Error) as exc:
        raise ImportFileError(f"{original_name}: the header line cannot be read as CSV: {exc}") from None
    return FileInfo(
        "csv",
        _check_headers(headers, original_name, max_columns),
        encoding,
        delimiter,
        rows_estimate=_rows_estimate(head, size),
    )


def _rows_estimate(head: bytes, size: int | None) -> int:
    """Data lines in the file: counted when the head is the whole file, else extrapolated
    from the head's average line length (the job counts exactly before it starts)."""
    lines = head.count(b"\n") + (0 if head.endswith(b"\n") else 1)
    if size is None or size <= len(head):
        return max(lines - 1, 0)
    return max(int(size / (len(head) / max(lines, 1))) - 1, 0)


def _jsonl_inspect(text: str, original_name: str, encoding: str, estimate: int, max_columns: int) -> FileInfo:
    headers: dict[str, None] = {}
    counted_all = True
    for number, line in enumerate(text.splitlines()[:200], start=1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
        except (json.JSONDecodeError, RecursionError):
            continue  # a bad line is that row's problem, or the head cut a line in two
        if isinstance(item, dict):
            keys = [str(k) for k in item]
            if not all(_storable(k) for k in keys):
                continue  # that line is rejected when the job reads it; its keys name no column
            headers.update(dict.fromkeys(keys))
            if len(headers) > max_columns:
                counted_all = False
                break  # refused below; no need to read on
        elif number == 1:
            raise ImportFileError(
                f"{original_name}: line 1 is not a JSON object; JSON Lines needs one object per line."
            )
    if not headers:
        raise ImportFileError(f"{original_name}: no JSON object found in the first lines.")
    return FileInfo(
        "jsonl",
        _check_headers(list(headers), original_name, max_columns, counted_all),
        encoding,
        rows_estimate=estimate,
    )


def _xlsx_inspect(source: Source, original_name: str, max_columns: int) -> FileInfo:
    _xlsx_check(source, original_name)
    workbook = _xlsx_open(source, original_name)
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
    return FileInfo("xlsx", _check_headers(headers, original_name, max_columns), rows_estimate=estimate)


def _xlsx_open(source: Source, original_name: str):
    from openpyxl import load_workbook

    if not isinstance(source, (str, os.PathLike)):
        source.seek(0)  # openpyxl reads a stream through zipfile, which seeks as it needs
    try:
        return load_workbook(source, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds for a broken workbook
        raise ImportFileError(f"{original_name} cannot be read as an XLSX workbook: {exc}") from None


def file_verify(source: Source, info: FileInfo, *, original_name: str) -> FileInfo:
    """Read the whole file once, before anything is written: every byte must decode in one
    encoding. Returns the info with the encoding settled and the number of lines counted."""
    if info.format == "xlsx":
        return info
    # the byte order mark is skipped by hand, so that an error's position counts it
    decoder = codecs.getincrementaldecoder("utf-8" if info.encoding == "utf-8-sig" else info.encoding)()
    lines, offset, seen_non_ascii = 0, 0, False
    encoding = info.encoding
    # Windows-1252 decodes almost any byte, so it cannot fail on a UTF-8 line: look for lines
    # that are UTF-8 (whole lines only: ``pending`` is the unfinished last line of a chunk).
    pending, first_non_ascii_line = b"", None
    with _binary(source) as handle:
        if encoding == "utf-8-sig" and handle.read(3) == codecs.BOM_UTF8:
            offset = 3
        else:
            handle.seek(0)
        while chunk := handle.read(CHUNK_BYTES):
            # the decoder keeps a character cut by the chunk's end: its error positions count
            # from the start of those kept bytes
            kept = decoder.getstate()[0]
            try:
                text = decoder.decode(chunk)
            except UnicodeDecodeError as exc:
                data = kept + chunk
                if encoding == "utf-8" and not seen_non_ascii and data[: exc.start].isascii():
                    # Plain ASCII so far, then a byte that is not UTF-8: a Windows-1252 file.
                    return file_verify(
                        source,
                        FileInfo(info.format, info.headers, "cp1252", info.delimiter),
                        original_name=original_name,
                    )
                line = lines + data[: exc.start].count(b"\n") + 1
                mixed = (
                    (
                        " The lines before it are UTF-8: the file mixes encodings; save it in one "
                        "encoding (UTF-8)."
                    )
                    if seen_non_ascii or not data[: exc.start].isascii()
                    else ""
                )
                raise ImportFileError(
                    f"{original_name}: undecodable byte 0x{data[exc.start]:02x} at line {line} "
                    f"(byte {offset - len(kept) + exc.start + 1}): the file is not valid "
                    f"{_encoding_label(encoding)}." + mixed
                ) from None
            if encoding == "cp1252":
                data = pending + chunk
                cut = data.rfind(b"\n") + 1
                first_non_ascii_line = _cp1252_check(data[:cut], lines, first_non_ascii_line, original_name)
                pending = data[cut:]
            seen_non_ascii = seen_non_ascii or not text.isascii()
            lines += chunk.count(b"\n")
            offset += len(chunk)
        if pending:
            _cp1252_check(pending, lines, first_non_ascii_line, original_name)
        try:
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            raise ImportFileError(f"{original_name}: the file ends in the middle of a character.") from None
    return FileInfo(info.format, info.headers, encoding, info.delimiter, rows_estimate=max(lines - 1, 0) or 1)


def _cp1252_check(
    data: bytes, lines_before: int, first_non_ascii_line: int | None, original_name: str
) -> int | None:
    """Refuse a Windows-1252 file with a UTF-8 line among ``data`` (whole lines, after
    ``lines_before`` lines). Returns the line of the file's first non-ASCII byte, once seen."""
    if first_non_ascii_line is None and (first := _NON_ASCII.search(data)):
        first_non_ascii_line = lines_before + data.count(b"\n", 0, first.start()) + 1
    utf8 = _utf8_line(data)
    if utf8 is not None:
        raise _mixed_encodings_error(original_name, lines_before + utf8 + 1, first_non_ascii_line)
    return first_non_ascii_line


def _encoding_label(encoding: str) -> str:
    return {"utf-8": "UTF-8", "utf-8-sig": "UTF-8", "cp1252": "Windows-1252/Latin-1"}.get(encoding, encoding)


def rows_iter(source: Source, info: FileInfo, *, after_line: int = 0) -> Generator[RawRow, None, None]:
    """Every data row with its line number (the header is line 1), skipping lines up to
    ``after_line`` (a retried job's cursor). Blank lines are not rows. A stream must stay open
    (and unread by anyone else) while the rows are read."""
    if info.format == "csv":
        yield from _csv_rows(source, info, after_line)
    elif info.format == "jsonl":
        yield from _jsonl_rows(source, info, after_line)
    else:
        yield from _xlsx_rows(source, info, after_line)


def _csv_rows(source: Source, info: FileInfo, after_line: int) -> Iterator[RawRow]:
    width = len(info.headers)
    with _text(source, info.encoding, newline="") as handle:
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
                index = next(i for i, f in enumerate(fields) if "\x00" in f)
                column = info.headers[index] if index < width else f"field {index + 1}"
                yield RawRow(
                    line,
                    {k: v.replace("\x00", "") for k, v in values.items()},
                    _unstorable_message(column, "\x00"),
                )
            elif len(fields) != width:
                yield RawRow(line, values, f"the row has {len(fields)} fields, the header has {width}")
            else:
                yield RawRow(line, values)


def _json_depth(value: object) -> int:
    """How many levels of arrays and objects a JSON value nests (a scalar: 0), counted without
    recursion and only up to ``JSON_MAX_DEPTH + 1``."""
    depth, level = 0, [value]
    while depth <= JSON_MAX_DEPTH:
        containers = [item for item in level if isinstance(item, (dict, list))]
        if not containers:
            break
        depth += 1
        level = [
            child for item in containers for child in (item.values() if isinstance(item, dict) else item)
        ]
    return depth


def _json_row(line: int, text: str) -> RawRow:
    """One line of a JSON Lines file as a row; a line that is not an object the database can
    hold is a row with an error (rejected with its line number), never a failed job."""
    try:
        item = json.loads(text)
    except json.JSONDecodeError as exc:
        return RawRow(line, {}, f"not valid JSON (column {exc.colno}): {exc.msg}")
    except RecursionError:  # nested beyond the parser's recursion limit
        return RawRow(line, {}, f"the JSON is nested too deeply (more than {JSON_MAX_DEPTH} levels)")
    if not isinstance(item, dict):
        return RawRow(line, {}, "not a JSON object")
    values: dict[str, str] = {}
    for key, value in item.items():
        if isinstance(value, (dict, list)) and _json_depth(value) >= JSON_MAX_DEPTH:
            return RawRow(
                line,
                {},
                f"the value of {_printable(str(key))!r} is nested too deeply "
                f"(more than {JSON_MAX_DEPTH} levels)",
            )
        values[str(key)] = _json_text(value)
    # Escapes (\u0000, a lone \ud800) are the only way a JSON line holds what no database can.
    if "\\u" in text and (reason := _unstorable_reason(values)):
        return RawRow(line, {}, reason)
    return RawRow(line, values)


def _jsonl_rows(source: Source, info: FileInfo, after_line: int) -> Iterator[RawRow]:
    with _text(source, info.encoding) as handle:
        for line, text in enumerate(handle, start=1):
            if line <= after_line or not text.strip():
                continue
            yield _json_row(line, text)


def _xlsx_rows(source: Source, info: FileInfo, after_line: int) -> Iterator[RawRow]:
    name = source if isinstance(source, (str, os.PathLike)) else str(getattr(source, "name", "") or "")
    workbook = _xlsx_open(source, Path(name).name)
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
            if any("\x00" in t for t in texts) and (reason := _unstorable_reason(values)):
                yield RawRow(line, {}, reason)
            elif extra:
                yield RawRow(line, values, f"the row has values beyond the {width} named columns")
            else:
                yield RawRow(line, values)
    finally:
        workbook.close()


def rows_preview(source: Source, info: FileInfo, limit: int = 10) -> list[RawRow]:
    rows = []
    try:
        # closed at once, not when collected: a stream's text layer is detached then
        with closing(rows_iter(source, info)) as iterator:
            for row in iterator:
                rows.append(row)
                if len(rows) >= limit:
                    break
    except (UnicodeDecodeError, ImportFileError):
        pass  # the preview shows what it can; the job's full check reports the problem
    return rows
