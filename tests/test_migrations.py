"""Migrations build exactly the schema the models declare, on every backend."""

from datetime import UTC, datetime, timedelta
from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Engine, text

import quorum.models  # noqa: F401 (registers every table)
from quorum.credentials import digest
from quorum.db import create_db_engine, session_factory, transaction
from quorum.db.base import Base
from quorum.db.migrate import is_current, upgrade
from quorum.evaluation import service as evaluation


def organization_row(now: datetime) -> dict[str, Any]:
    """The row of one organization, as a migration test seeds it before upgrading."""
    return {
        "id": "org1",
        "name": "acme",
        "callback_auth_key": "k",
        "callback_signing_secret": "s",
        "created_at": now,
    }


def insert_rows(engine: Engine, rows: dict[str, dict[str, Any]]) -> None:
    """Insert one row per table, in order, with plain SQL (the models may be ahead of the
    schema being seeded)."""
    with engine.begin() as connection:
        for table, values in rows.items():
            columns = ", ".join(values)
            connection.execute(
                text(f"INSERT INTO {table} ({columns}) VALUES (:{', :'.join(values)})"), values
            )


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


def test_upgrading_keeps_the_rows_that_hang_off_rebuilt_tables(backend, fresh_database_url):
    """SQLite rebuilds a table to alter it; with foreign keys on, dropping the old table would
    fire ON DELETE CASCADE and take every assignment of every task with it."""
    engine = create_db_engine(fresh_database_url(backend))
    upgrade(engine, "0010")  # 0011 rebuilds ``task`` on SQLite
    now = datetime(2026, 11, 1, tzinfo=UTC)
    rows = {
        "organization": organization_row(now),
        "project": {
            "id": "proj1",
            "org_id": "org1",
            "name": "p",
            "type": "categorization",
            "params": "{}",
            "param_history": "[]",
            "required_responses": 1,
            "created_at": now,
            "updated_at": now,
        },
        "task": {
            "id": "task1",
            "org_id": "org1",
            "project_id": "proj1",
            "type": "categorization",
            "status": "completed",
            "instruction": "",
            "params": '{"attachment": "a", "categories": ["x", "y"]}',
            "metadata": "{}",
            "tags": "[]",
            "priority": 0,
            "required_responses": 1,
            "is_test": False,
            "created_at": now,
            "updated_at": now,
        },
        "worker": {
            "id": "worker1",
            "email": "w@example.com",
            "name": "w",
            "locale": "en",
            "languages": "[]",
            "skills": "[]",
            "status": "active",
            "created_at": now,
        },
        "assignment": {
            "id": "assign1",
            "org_id": "org1",
            "project_id": "proj1",
            "task_id": "task1",
            "worker_id": "worker1",
            "state": "submitted",
            "leased_at": now,
            "leased_until": now,
        },
    }
    insert_rows(engine, rows)
    upgrade(engine)
    with engine.connect() as connection:
        kept = {
            table: connection.execute(text(f"SELECT id FROM {table}")).scalars().all()
            for table in rows
        }
        foreign_keys_on = (
            backend != "sqlite" or connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        )
    engine.dispose()
    assert kept == {table: [values["id"]] for table, values in rows.items()}
    assert foreign_keys_on


def test_owners_admitted_before_the_migration_get_an_expiry(backend, fresh_database_url):
    """Migration 0015 leaves no token that never expires, and drops no owner's models."""
    engine = create_db_engine(fresh_database_url(backend))
    upgrade(engine, "0014")
    now = datetime.now(UTC)
    secret = "mo_before-the-migration"
    rows = {
        "organization": organization_row(now),
        "project": {
            "id": "proj1",
            "org_id": "org1",
            "name": "evaluation: arena",
            "type": "comparison",
            "params": "{}",
            "param_history": "[]",
            "required_responses": 1,
            "created_at": now,
            "updated_at": now,
        },
        "evaluation_campaign": {
            "id": "camp1",
            "org_id": "org1",
            "project_id": "proj1",
            "name": "arena",
            "description": "",
            "rubric": "",
            "criteria": "[]",
            "categories": '["general"]',
            "required_responses": 1,
            "min_judgments": 1,
            "rater_cap": 1,
            "created_at": now,
        },
        "model_owner": {
            "id": "owner1",
            "campaign_id": "camp1",
            "name": "lab",
            "digest": digest(secret),
            "created_at": now,
        },
        "model_version": {
            "id": "model1",
            "owner_id": "owner1",
            "name": "m",
            "version": "1",
            "created_at": now,
        },
    }
    insert_rows(engine, rows)
    upgrade(engine)
    with transaction(session_factory(engine)) as db:
        owner = evaluation.authenticate_owner(db, secret=secret)
        assert timedelta(days=89) < owner.expires_at - now <= timedelta(days=90, minutes=1)
        assert owner.revoked_at is None
        assert db.scalar(text("SELECT count(*) FROM model_version")) == 1
    engine.dispose()
