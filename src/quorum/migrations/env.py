"""Alembic environment: the engine or connection comes from ``quorum.db.migrate``, or from
``QUORUM_DATABASE_URL`` when run with the ``alembic`` command during development."""

from alembic import context

import quorum.models  # noqa: F401 (registers every table on Base.metadata)
from quorum.db.base import Base
from quorum.db.session import create_db_engine
from quorum.settings import get_settings

config = context.config


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    engine = config.attributes.get("engine") or create_db_engine(get_settings().database_url)
    with engine.connect() as connection:
        _run(connection)
        connection.commit()


def _run(connection) -> None:  # type: ignore[no-untyped-def]
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
        transaction_per_migration=True,
    )
    with context.begin_transaction():
        context.run_migrations()


run_migrations_online()
