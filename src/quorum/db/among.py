"""``column IN (a list)`` in a statement of fixed text.

SQLAlchemy renders ``column.in_(bindparam(..., expanding=True))`` with one placeholder per
value, so a statement's text changes with the length of its lists. A dispatch round's lists
(its workers, tasks, assignments) have a different length almost every time: PostgreSQL parsed
and planned those statements almost every execution, never reusing a prepared one (on the
dispatch bench, planning alone took a fifth of the statements' time, 0.5-0.8 ms for the bigger
joins). ``among`` sends the list as one JSON array, read back by the database itself: the text
stays the same, psycopg prepares it once per connection, and the driver sends one string
(``json.dumps`` in C) rather than quoting each element of an array in Python.

For lookups by text keys (ids, digests) only: the values come back as text, and the planner
cannot see how many the list holds. Where the plan depends on it (an index scan that returns
rows in order for one value, as the dispatch pick's ``project_id`` does), keep an expanding
``IN``.
"""

import json
from collections.abc import Iterable
from typing import Any

from sqlalchemy import Boolean, String, TypeDecorator, bindparam
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.elements import BindParameter, ColumnElement
from sqlalchemy.sql.visitors import InternalTraversal


class _JsonList(TypeDecorator[Any]):
    impl = String
    cache_ok = True

    def process_bind_param(self, value: Iterable[Any] | None, dialect: Dialect) -> str:
        return json.dumps(list(value or ()))


class among(ColumnElement[bool]):
    """True where ``column`` is one of the values passed as parameter ``name`` (a list)."""

    inherit_cache = True
    type = Boolean()
    _traverse_internals = [
        ("column", InternalTraversal.dp_clauseelement),
        ("values", InternalTraversal.dp_clauseelement),
    ]

    def __init__(self, column: ColumnElement[Any], name: str) -> None:
        self.column = column
        self.values: BindParameter[Any] = bindparam(name, type_=_JsonList())


@compiles(among, "postgresql")
def _among_postgresql(element: among, compiler: SQLCompiler, **kw: Any) -> str:
    column, values = compiler.process(element.column, **kw), compiler.process(element.values, **kw)
    # An array from a subquery: the planner scans an index for each value, as for an IN list.
    return f"({column} = ANY(ARRAY(SELECT json_array_elements_text(CAST({values} AS JSON)))))"


@compiles(among)
def _among_sqlite(element: among, compiler: SQLCompiler, **kw: Any) -> str:
    column, values = compiler.process(element.column, **kw), compiler.process(element.values, **kw)
    return f"({column} IN (SELECT value FROM json_each({values})))"
