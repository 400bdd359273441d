"""Engines and sessions for SQLite (embedded default, WAL) and PostgreSQL (psycopg 3)."""

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event, inspect
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, SessionTransaction, sessionmaker
from sqlalchemy.orm.attributes import set_committed_value

from quorum.db.rows import UpdateRows

READ_SNAPSHOT = "quorum_read_snapshot"


def normalize_url(url: str) -> str:
    """Point plain ``postgresql://`` URLs at psycopg 3, the driver we ship."""
    if url.startswith("postgresql://") or url.startswith("postgres://"):
        return "postgresql+psycopg://" + url.split("://", 1)[1]
    return url


def create_db_engine(
    url: str, *, pool_size: int = 10, max_overflow: int = 20, busy_timeout_ms: int = 30_000
) -> Engine:
    """An engine configured for Quorum's needs on either backend."""
    url = normalize_url(url)
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        on_disk = bool(parsed.database) and parsed.database != ":memory:"
        if on_disk:
            Path(parsed.database).expanduser().parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(
            url,
            connect_args={"check_same_thread": False, "timeout": busy_timeout_ms / 1000},
            **({"pool_size": pool_size, "max_overflow": max_overflow} if on_disk else {}),
        )
        _configure_sqlite(engine, busy_timeout_ms)
        return engine
    # No pre-ping: it costs a round trip per request; stale connections are recycled instead and
    # a dropped one fails its request cleanly.
    return create_engine(url, pool_size=pool_size, max_overflow=max_overflow, pool_recycle=1800)


def _configure_sqlite(engine: Engine, busy_timeout_ms: int) -> None:
    """WAL, foreign keys, and BEGIN IMMEDIATE so writers queue instead of failing.

    pysqlite's own transaction handling starts transactions lazily and deferred; a deferred
    transaction that reads and then writes fails with "database is locked" when another writer got
    in between. Taking the write lock at BEGIN makes SQLite serialize writers, which is the
    guarantee dispatch relies on.
    """

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):  # type: ignore[no-untyped-def]
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection):  # type: ignore[no-untyped-def]
        deferred = connection.get_execution_options().get(READ_SNAPSHOT, False)
        connection.exec_driver_sql("BEGIN" if deferred else "BEGIN IMMEDIATE")


def session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


@contextmanager
def transaction(factory: sessionmaker[Session]) -> Iterator[Session]:
    """A session whose work commits on success and rolls back on any exception."""
    with factory() as session, session.begin():
        yield session


@contextmanager
def read_snapshot(factory: sessionmaker[Session]) -> Iterator[Session]:
    """A session for a long read (a background export): it must not write.

    On SQLite it is a deferred transaction, a WAL snapshot that leaves the write lock to others
    for as long as the read lasts; on PostgreSQL an ordinary transaction.
    """
    with factory() as session, session.begin():
        session.connection(execution_options={READ_SNAPSHOT: True})
        yield session


_MEMOS = "quorum.transaction_memos"


def transaction_memo(db: Session, name: str) -> dict[Any, Any]:
    """A dict for what the current transaction learned about its own rows (what it wrote, what
    it found missing), so that a later step of it need not ask the database again.

    Forgotten whenever a transaction of the session ends, committed or rolled back: another
    transaction may change what it says.
    """
    return db.info.setdefault(_MEMOS, {}).setdefault(name, {})


@event.listens_for(Session, "after_transaction_end")
def _forget_memos(session: Session, transaction: SessionTransaction) -> None:
    # A flush runs in a subtransaction of its own: its end ends nothing the memos describe.
    if transaction.parent is None or transaction.nested:
        session.info.pop(_MEMOS, None)


_WRITE_THROUGH: dict[tuple[type, tuple[str, ...]], UpdateRows] = {}


def write_through(
    db: Session, rows: Sequence[Any], *, each: dict[str, list[Any]] | None = None, **values: Any
) -> None:
    """Write these attributes of loaded rows (all of one class) now, with one UPDATE for all of
    them, and record them as their committed state, so that the unit of work has nothing left
    to flush for them. ``values`` are the same for every row; ``each`` gives a list of values,
    one per row.

    For the paths every worker runs in a loop (submit, completion): a flush of one changed
    object costs more than twice the CPU of a plain UPDATE, and a flush of many sends one
    UPDATE each. Columns' ``onupdate`` defaults are not applied: name them (as completion names
    ``updated_at``).
    """
    if not rows:
        return
    per_row = {name: [value] * len(rows) for name, value in values.items()} | (each or {})
    kind = type(rows[0])
    mapper = inspect(kind)
    (key,) = mapper.primary_key
    statement = _WRITE_THROUGH.get((kind, tuple(per_row)))
    if statement is None:
        columns = [mapper.columns[name].name for name in per_row]
        statement = UpdateRows(mapper.local_table, key.name, columns)
        _WRITE_THROUGH[kind, tuple(per_row)] = statement
    changes = [
        {
            key.name: inspect(row).identity[0],
            **{mapper.columns[name].name: value[i] for name, value in per_row.items()},
        }
        for i, row in enumerate(rows)
    ]
    statement(db, changes)
    for i, row in enumerate(rows):
        for name, value in per_row.items():
            set_committed_value(row, name, value[i])
