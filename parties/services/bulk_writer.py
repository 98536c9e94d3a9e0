"""Fast bulk inserts for imports: rows given as ``{attname: value}`` dicts, ids allocated
up front so that rows of several tables can reference each other before any is written.

On PostgreSQL rows go in with ``COPY`` (psycopg 3), skipping the ORM's per-field SQL
compilation, which costs more than the database work itself for wide rows. Elsewhere
(SQLite) they go through ``bulk_create``. Both run inside the caller's transaction.

Every foreign key is a database constraint, checked row by row at commit, except the
bookkeeping and provenance links that imports write by the million and nothing ever deletes
the target of (a contact point's first source record, a record's last import job, a
data-quality issue's job): for those the check cost more than the rest of the import, and
Django still applies their ``on_delete`` in Python.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

import orjson
from django.db import connection, models


def ids_allocate(model: type[models.Model], count: int) -> list[int]:
    """Reserve ``count`` primary keys for ``model``. On SQLite this relies on the caller's
    transaction holding the write lock (our SQLite transactions begin IMMEDIATE)."""
    if count == 0:
        return []
    table, pk = model._meta.db_table, model._meta.pk.column
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
                [table, pk, count],
            )
            return [row[0] for row in cursor.fetchall()]
        cursor.execute(f'SELECT COALESCE(MAX("{pk}"), 0) FROM "{table}"')  # noqa: S608 - names from _meta
        start = cursor.fetchone()[0] + 1
    return list(range(start, start + count))


# Placeholders for ids not yet allocated when rows are planned. \x1d cannot appear in the
# rendered data: the escaping below writes it as an octal escape.
PARTY_ID = "\x1dP\x1d"
RECORD_ID = "\x1dS\x1d"
_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r", "\x1d": "\\035"})


def _copy_text(value: Any) -> str:
    """One value in PostgreSQL's COPY text format."""
    if value is None:
        return "\\N"
    if isinstance(value, (dict, list)):
        value = orjson.dumps(value).decode()
    if isinstance(value, str):
        if value.isprintable():  # no tab, newline, CR or \x1d: only backslashes need escaping
            return value.replace("\\", "\\\\") if "\\" in value else value
        return value if value in (PARTY_ID, RECORD_ID) else value.translate(_ESCAPES)
    if value is True:
        return "t"
    if value is False:
        return "f"
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    return str(value)


class _Template:
    """A model's COPY columns with every default already rendered, so that a row only renders
    the values it sets. Built once per model and process."""

    def __init__(self, model: type[models.Model], with_pk: bool) -> None:
        fields = [f for f in model._meta.concrete_fields if with_pk or not f.primary_key]
        # a concrete field is one with a column: the test drops nothing, it tells mypy so
        self.columns = [f.column for f in fields if f.column is not None]
        self.index = {f.attname: i for i, f in enumerate(fields)}
        self.auto_now = [
            i
            for i, f in enumerate(fields)
            if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False)
        ]
        self.defaults = [
            _copy_text(f.get_default() if f.has_default() else None if f.null or f.primary_key else "")
            for f in fields
        ]

    def render(self, values: dict[str, Any], now: datetime, now_text: str) -> str:
        row = self.defaults.copy()
        for i in self.auto_now:
            row[i] = now_text
        index = self.index
        for name, value in values.items():
            # inline the common case (plain printable text) of _copy_text: it runs ~50 times a row
            if value.__class__ is str and value.isprintable() and "\\" not in value:
                row[index[name]] = value
            else:
                row[index[name]] = now_text if value is now else _copy_text(value)
        return "\t".join(row)


_templates: dict[tuple[type[models.Model], bool], _Template] = {}


def _template(model: type[models.Model], with_pk: bool) -> _Template:
    key = (model, with_pk)
    if key not in _templates:
        _templates[key] = _Template(model, with_pk)
    return _templates[key]


def rows_insert(model: type[models.Model], rows: Sequence[dict[str, Any]], *, now: datetime) -> int:
    """Insert rows (``{attname: value}``; unset fields take their model default)."""
    if not rows:
        return 0
    if connection.vendor != "postgresql":
        model._default_manager.bulk_create([model(**values) for values in rows], batch_size=500)
        return len(rows)
    with_pk = model._meta.pk.attname in rows[0]
    return copy_lines(model, copy_render(model, rows, with_pk=with_pk, now=now), with_pk=with_pk)


def copy_render(
    model: type[models.Model], rows: Sequence[dict[str, Any]], *, with_pk: bool, now: datetime
) -> list[str]:
    """Rows as lines of PostgreSQL COPY text, in the column order ``copy_lines`` uses."""
    template, now_text = _template(model, with_pk), now.isoformat()
    return [template.render(values, now, now_text) for values in rows]


def copy_lines(model: type[models.Model], lines: Sequence[str], *, with_pk: bool) -> int:
    if not lines:
        return 0
    columns = _template(model, with_pk).columns
    sql = "COPY {} ({}) FROM STDIN".format(
        connection.ops.quote_name(model._meta.db_table),
        ", ".join(connection.ops.quote_name(c) for c in columns),
    )
    with connection.cursor() as cursor, cursor.cursor.copy(sql) as copy:
        copy.write("\n".join(lines) + "\n")
    return len(lines)
