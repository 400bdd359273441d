"""Writing many rows with one statement of fixed text.

A dispatch round writes dozens of rows per table. Sent as executemany, each row is a statement
of its own for the driver; rendered as a multi-row VALUES list, the statement's text changes
with the number of rows, so SQLAlchemy compiles it, psycopg parses it and PostgreSQL plans it
again almost every time (about 1 ms per statement for a round of 32). On PostgreSQL these send
each column as one array and read the rows back with ``unnest``: the text depends only on the
columns, so it is compiled, parsed and planned once. SQLite, in process, takes executemany.

Each is built once, for a table and its columns, where the module that writes them is loaded.
"""

from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy import Executable, Insert, Result, Table, bindparam, func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session
from sqlalchemy.sql.selectable import TableValuedAlias


def _unnested(table: Table, names: Sequence[str]) -> TableValuedAlias:
    """``unnest(:rows_a, :rows_b, ...) AS rows(a, b, ...)``: one array parameter per column."""
    arrays = [
        bindparam(f"rows_{name}", type_=postgresql.ARRAY(table.c[name].type)) for name in names
    ]
    return func.unnest(*arrays).table_valued(*names).render_derived(name="rows")


class _ManyRows:
    def __init__(self, names: Sequence[str], postgresql: Executable, other: Executable) -> None:
        self.names = tuple(names)
        self.statements = {"postgresql": postgresql, "sqlite": other}

    def __call__(self, db: Session, rows: Sequence[dict[str, Any]]) -> Result[Any]:
        """Write the rows (each with exactly the columns named when built)."""
        if db.get_bind().dialect.name == "postgresql":
            arrays = {f"rows_{name}": [row[name] for row in rows] for name in self.names}
            return db.execute(self.statements["postgresql"], arrays)
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
        unnested = select(*_unnested(table, names).c)
        super().__init__(
            names,
            finish(postgresql.insert(table).from_select(names, unnested)),
            finish(sqlite.insert(table).values({n: bindparam(f"rows_{n}") for n in names})),
        )


class UpdateRows(_ManyRows):
    """An UPDATE of many rows, each setting the other columns where ``key`` has its value."""

    def __init__(self, table: Table, key: str, names: Sequence[str]) -> None:
        unnested = _unnested(table, [key, *names])
        super().__init__(
            [key, *names],
            update(table)
            .where(table.c[key] == unnested.c[key])
            .values({name: unnested.c[name] for name in names}),
            update(table)
            .where(table.c[key] == bindparam(f"rows_{key}"))
            .values({name: bindparam(f"rows_{name}") for name in names}),
        )
