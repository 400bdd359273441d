"""Migrations build exactly the schema the models declare, on every backend."""

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

import quorum.models  # noqa: F401 (registers every table)
from quorum.db import create_db_engine
from quorum.db.base import Base
from quorum.db.migrate import is_current, upgrade


def test_migrated_schema_matches_models(backend, fresh_database_url):
    engine = create_db_engine(fresh_database_url(backend))
    assert not is_current(engine)
    upgrade(engine)
    assert is_current(engine)
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        differences = compare_metadata(context, Base.metadata)
    engine.dispose()
    assert differences == []


def test_upgrade_twice_is_a_no_op(backend, fresh_database_url):
    engine = create_db_engine(fresh_database_url(backend))
    upgrade(engine)
    upgrade(engine)
    assert is_current(engine)
    engine.dispose()
