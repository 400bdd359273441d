"""Apply Alembic migrations programmatically (``quorum migrate``, start-up, tests)."""

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, text

MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"
ADVISORY_LOCK_ID = 0x51_55_4F_52  # "QUOR": one migrator at a time across processes


def alembic_config(engine: Engine) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["engine"] = engine
    return config


def upgrade(engine: Engine, revision: str = "heads") -> None:
    """Bring the schema to ``revision`` (every head by default); safe when servers start at once.

    A database already at every head is left alone without loading the migration environment
    (every model), which would cost a short command such as ``quorum import`` a tenth of a second.
    """
    if revision == "heads" and is_current(engine):
        return
    config = alembic_config(engine)
    if engine.dialect.name == "postgresql":
        with engine.connect() as connection:
            connection.execute(text("SELECT pg_advisory_lock(:id)"), {"id": ADVISORY_LOCK_ID})
            try:
                config.attributes["connection"] = connection
                command.upgrade(config, revision)
                connection.commit()
            finally:
                connection.execute(text("SELECT pg_advisory_unlock(:id)"), {"id": ADVISORY_LOCK_ID})
                connection.commit()
    else:
        _upgrade_sqlite(config, engine, revision)


def _upgrade_sqlite(config: Config, engine: Engine, revision: str) -> None:
    """Migrate with foreign keys off, as SQLite requires for altering tables.

    SQLite alters a table by copying it and dropping the old one; with foreign keys on, that drop
    fires every ON DELETE CASCADE pointing at it, and upgrading would delete the tasks of a
    rebuilt ``project`` and the answers of a rebuilt ``task``. The pragma only takes effect
    outside a transaction, so it is set on the bare connection; the keys are checked afterwards.
    """
    with engine.connect() as connection:
        driver = connection.connection.driver_connection
        driver.execute("PRAGMA foreign_keys=OFF")
        try:
            config.attributes["connection"] = connection
            command.upgrade(config, revision)
            connection.commit()
            dangling = connection.exec_driver_sql("PRAGMA foreign_key_check").all()
            connection.rollback()
        except BaseException:
            connection.invalidate()  # a connection without foreign keys never goes back to the pool
            raise
        driver.execute("PRAGMA foreign_keys=ON")
    if dangling:
        raise RuntimeError(f"migrating left rows with dangling foreign keys: {dangling[:5]}")


def is_current(engine: Engine) -> bool:
    """Whether the database is at the newest migration (what ``/readyz`` reports)."""
    heads = set(ScriptDirectory.from_config(alembic_config(engine)).get_heads())
    with engine.connect() as connection:
        return set(MigrationContext.configure(connection).get_current_heads()) == heads
