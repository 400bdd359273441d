"""Writing many rows with one statement of fixed text.

A dispatch round writes dozens of rows per table. Sent as executemany, each row is a statement
of its own for the driver; rendered as a multi-row VALUES list, the statement's text changes
with the number of rows, so SQLAlchemy compiles it, psycopg parses it and PostgreSQL plans it
again almost every time (about 1 ms per statement for a round of 32). On PostgreSQL these send
the rows as one JSON document and read them back as records of the table
(``json_populate_recordset``): the text depends only on the columns, so it is compiled, parsed
and planned once, and the driver sends one string instead of quoting every value of one array
per column (which cost 12 % more of a round's CPU). SQLite, in process, takes executemany.

Each is built once, for a table and its columns, where the module that writes them is loaded.
"""

import json
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Executable,
    Insert,
    Result,
    String,
    Table,
    bindparam,
    cast,
    func,
    literal_column,
    select,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session
from sqlalchemy.sql.selectable import TableValuedAlias


def _rows() -> ColumnElement[Any]:
    """Parameter ``rows``: a JSON array of objects, one per row."""
    return cast(bindparam("rows", type_=String), postgresql.JSON)


def _recordset(table: Table, names: Sequence[str]) -> TableValuedAlias:
    """The rows of parameter ``rows`` as records of the table."""
    record = literal_column(f'NULL::"{table.name}"')
    return func.json_populate_recordset(record, _rows()).table_valued(*names)


def _json_value(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    raise TypeError(f"cannot send {type(value).__name__} in a row set")


class _ManyRows:
    def __init__(self, names: Sequence[str], postgresql: Executable, other: Executable) -> None:
        self.names = tuple(names)
        self.statements = {"postgresql": postgresql, "sqlite": other}

    def __call__(self, db: Session, rows: Sequence[dict[str, Any]]) -> Result[Any]:
        """Write the rows (each with exactly the columns named when built)."""
        if db.get_bind().dialect.name == "postgresql":
            document = json.dumps(
                [{n: row[n] for n in self.names} for row in rows], default=_json_value
            )
            return db.execute(self.statements["postgresql"], {"rows": document})
        return db.execute(
            self.statements["sqlite"], [{f"rows_{n}": row[n] for n in self.names} for row in rows]
        )


class InsertRows(_ManyRows):
    """An INSERT of many rows; ``finish`` adds what it needs besides (``ON CONFLICT``,
    ``RETURNING``) to either dialect's statement."""

    def __init__(
        self,
        table: Table,
        names: Sequence[str],
        *,
        finish: Callable[[Insert], Insert] = lambda statement: statement,
    ) -> None:
        recordset = _recordset(table, names)
        super().__init__(
            names,
            finish(
                postgresql.insert(table).from_select(
                    names, select(*(recordset.c[name] for name in names))
                )
            ),
            finish(sqlite.insert(table).values({n: bindparam(f"rows_{n}") for n in names})),
        )


class UpdateRows(_ManyRows):
    """An UPDATE of many rows, each setting the other columns where ``key`` has its value.

    On PostgreSQL the keys are also named as an array: the planner takes a row set for a hundred
    rows and, on a table of some thousands, joined it by reading the whole table rather than
    looking each row up (on the dispatch bench a task and an assignment table read end to end
    once per round); an ``= ANY`` on the key's index is planned as the few lookups it is.
    """

    def __init__(self, table: Table, key: str, names: Sequence[str]) -> None:
        recordset = _recordset(table, [key, *names])
        keys = select(func.json_array_elements(_rows()).op("->>")(literal_column(f"'{key}'")))
        super().__init__(
            [key, *names],
            update(table)
            .where(
                table.c[key] == recordset.c[key],
                table.c[key] == func.any(func.array(keys.scalar_subquery())),
            )
            .values({name: recordset.c[name] for name in names}),
            update(table)
            .where(table.c[key] == bindparam(f"rows_{key}"))
            .values({name: bindparam(f"rows_{name}") for name in names}),
        )
