"""The only ways billops puts a name or a value into SQL text.

Values are bound as parameters (``?``) wherever DuckDB and SQLAlchemy accept them. Two places
cannot take a parameter: identifiers (a table or column name) and the few DDL statements DuckDB
does not prepare (a view over files, ``comment on``). Identifiers come from fixed lists in the
code; a name that comes from configuration (an event log's column mapping) goes through
:func:`quote_identifier`, and a path in DDL through :func:`literal`. ``tests/test_sql_safety.py``
reads every f-string that builds SQL and fails on any other interpolated value.
"""

from __future__ import annotations

import re
from pathlib import Path

from billops.errors import BillopsError

_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)?")
_TYPE = re.compile(r"[A-Za-z][A-Za-z ]*(?:\(\d+(?:,\s*\d+)?\))?(?:\[\])?")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def identifier(name: str, allowed: frozenset[str] | set[str] | tuple[str, ...] | None = None) -> str:
    """``name`` unchanged if it is a plain (optionally schema-qualified) SQL name, and one of
    ``allowed`` when a list is given; otherwise a one-line error."""
    if not _IDENTIFIER.fullmatch(name) or (allowed is not None and name not in allowed):
        raise BillopsError(f"{name[:40]!r}: not an allowed SQL name")
    return name


def type_name(name: str) -> str:
    """A column type from the contracts (``VARCHAR``, ``DECIMAL(18,2)``) for a cast."""
    if not _TYPE.fullmatch(name):
        raise BillopsError(f"{name[:40]!r}: not a SQL type name")
    return name


def quote_identifier(name: str) -> str:
    """A configured column name as a quoted SQL identifier (double quotes doubled)."""
    if _CONTROL.search(name):
        raise BillopsError(f"{name[:40]!r}: a column name may not hold control characters")
    return '"' + name.replace('"', '""') + '"'


def literal(value: str | Path) -> str:
    """A string as a SQL literal, for the DDL DuckDB cannot prepare (paths of a view's files,
    a view's comment): single quotes doubled, control characters refused."""
    text = str(value)
    if _CONTROL.search(text):
        raise BillopsError(f"{text[:40]!r}: a SQL literal may not hold control characters")
    return "'" + text.replace("'", "''") + "'"
