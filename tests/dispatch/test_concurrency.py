"""Many workers at once drain a queue: every task gets exactly its responses, from distinct
workers, and no task ever has more live leases + responses than it needs (a monitor thread
checks that while they run)."""

import random
import threading
import time

import pytest
from sqlalchemy import Engine, create_engine, func, select

from quorum.db import create_db_engine, session_factory, transaction, utcnow
from quorum.db.session import normalize_url
from quorum.dispatch import service as dispatch
from quorum.dispatch.models import Assignment
from quorum.payouts.models import LedgerEntry
from quorum.tasks.models import Task
from quorum.workforce.schemas import WorkerIdentity
from tests.dispatch.conftest import OVERBOOKED, RATE_CENTS, drain_project

pytestmark = pytest.mark.slow


def _work(engine: Engine, worker: WorkerIdentity, errors: list[BaseException]) -> None:
    """next → submit until the queue has nothing left for this worker."""
    sessions = session_factory(engine)
    try:
        while True:
            with transaction(sessions) as db:
                lease = dispatch.next_task(db, worker=worker)
            if lease is None:
                return
            with transaction(sessions) as db:
                dispatch.submit(
                    db,
                    worker_id=worker.id,
                    assignment_id=lease.assignment_id,
                    response={"category": random.choice(["good", "bad"])},
                )
    except BaseException as exc:
        errors.append(exc)


def drain(database_url: str, *, tasks: int, workers: int, redundancy: int) -> None:
    engine = create_db_engine(database_url, pool_size=workers + 2, max_overflow=4)
    project_id, identities = drain_project(
        engine, tasks=tasks, workers=workers, redundancy=redundancy
    )
    errors: list[BaseException] = []
    running = threading.Event()
    running.set()
    samples: list[int] = []

    # A plain engine: on SQLite it reads without taking the write lock that Quorum's engine takes.
    reader = create_engine(normalize_url(database_url))

    def monitor() -> None:
        with reader.connect() as connection:
            while running.is_set():
                now = utcnow()
                samples.append(
                    connection.execute(OVERBOOKED, {"project_id": project_id, "now": now}).scalar()
                )
                connection.rollback()
                time.sleep(0.005)

    watcher = threading.Thread(target=monitor)
    threads = [threading.Thread(target=_work, args=(engine, w, errors)) for w in identities]
    watcher.start()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    running.clear()
    watcher.join()
    assert errors == []
    assert len(samples) > 10, "the monitor ran while the workers did"
    assert max(samples) == 0, "some task had more live leases + responses than required"

    sessions = session_factory(engine)
    with transaction(sessions) as db:
        statuses = dict(
            db.execute(
                select(Task.status, func.count())
                .where(Task.project_id == project_id)
                .group_by(Task.status)
            ).all()
        )
        per_task = db.execute(
            select(
                Assignment.task_id,
                func.count(),
                func.count(func.distinct(Assignment.worker_id)),
            )
            .where(Assignment.project_id == project_id, Assignment.state == "submitted")
            .group_by(Assignment.task_id)
        ).all()
        leftover = db.scalar(
            select(func.count()).where(
                Assignment.project_id == project_id, Assignment.state == "active"
            )
        )
        worker_ids = [w.id for w in identities]
        ledger = dict(
            db.execute(
                select(LedgerEntry.kind, func.sum(LedgerEntry.cents))
                .where(LedgerEntry.worker_id.in_(worker_ids))
                .group_by(LedgerEntry.kind)
            ).all()
        )
    engine.dispose()
    reader.dispose()
    assert statuses == {"completed": tasks}
    assert len(per_task) == tasks
    assert {(count, distinct) for _, count, distinct in per_task} == {(redundancy, redundancy)}
    assert leftover == 0
    assert ledger == {"pending": 0, "earned": tasks * redundancy * RATE_CENTS}


@pytest.mark.parametrize("redundancy", [1, 3])
def test_32_workers_drain_2000_tasks_on_postgresql(backend, database_url, redundancy):
    if backend != "postgresql":
        pytest.skip("PostgreSQL concurrency (SQLite runs the smaller drain)")
    drain(database_url, tasks=2000, workers=32, redundancy=redundancy)


@pytest.mark.parametrize("redundancy", [1, 3])
def test_4_workers_drain_200_tasks_on_sqlite(backend, database_url, redundancy):
    if backend != "sqlite":
        pytest.skip("SQLite serializes writers; PostgreSQL runs the large drain")
    drain(database_url, tasks=200, workers=4, redundancy=redundancy)
