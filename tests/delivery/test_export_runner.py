"""The export runner: several runners share the queue without running a job twice, and a job
whose runner died runs again (or fails once its attempts are spent)."""

import threading
import uuid
from collections.abc import Callable

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from quorum.accounts import service as accounts
from quorum.db import create_db_engine, session_factory, transaction
from quorum.db.migrate import upgrade
from quorum.exports import service as exports
from quorum.exports.jobs import ExportRunner
from quorum.exports.models import ExportJob
from quorum.exports.schemas import ExportJobCreate
from quorum.settings import Settings
from quorum.tasks import service as tasks
from quorum.tasks.schemas import ProjectCreate
from tests.delivery.conftest import complete_all
from tests.factories import TASK_PARAMS


@pytest.fixture
def runner_database(backend: str, fresh_database_url: Callable[[str], str]) -> str:
    """A database no server's runner watches: only this test's runners run its jobs."""
    url = fresh_database_url(backend)
    engine = create_db_engine(url)
    upgrade(engine)
    engine.dispose()
    return url


def runner_settings(url: str, home, **overrides) -> Settings:
    return Settings(database_url=url, home=home, export_poll_seconds=0.05, **overrides)


def queue_jobs(sessions: sessionmaker[Session], count: int) -> tuple[str, list[str]]:
    with transaction(sessions) as db:
        org = accounts.create_organization(db, name=f"run-{uuid.uuid4().hex[:10]}")
        tasks.create_project(db, org_id=org.id, data=ProjectCreate(name="p", type="categorization"))
        for _ in range(3):
            body = {"project": "p", **TASK_PARAMS["categorization"]}
            tasks.create_task(db, org_id=org.id, task_type="categorization", body=body)
    complete_all(sessions, org.id, lambda task: {"category": "good"})
    with transaction(sessions) as db:
        ids = [
            exports.create_export_job(
                db, org_id=org.id, data=ExportJobCreate(project="p", format="jsonl")
            ).id
            for _ in range(count)
        ]
    return org.id, ids


def jobs(sessions: sessionmaker[Session], ids: list[str]) -> list[ExportJob]:
    with transaction(sessions) as db:
        return list(db.scalars(select(ExportJob).where(ExportJob.id.in_(ids))))


def test_two_runners_never_run_the_same_job(runner_database, tmp_path):
    engines = [create_db_engine(runner_database) for _ in range(2)]
    try:
        _, ids = queue_jobs(session_factory(engines[0]), 16)
        runners = [
            ExportRunner(runner_settings(runner_database, tmp_path), session_factory(engine))
            for engine in engines
        ]
        ran = [0, 0]
        start = threading.Barrier(2)

        def drain(index: int) -> None:
            start.wait()
            ran[index] = runners[index].run_once()

        threads = [threading.Thread(target=drain, args=(i,)) for i in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        done = jobs(session_factory(engines[0]), ids)
    finally:
        for engine in engines:
            engine.dispose()
    assert sum(ran) == 16
    assert {(job.state, job.attempts, job.row_count) for job in done} == {("succeeded", 1, 3)}
    # Identical exports share one artifact (content-addressed), written once per job.
    assert len({job.sha256 for job in done}) == 1


def test_a_job_whose_runner_died_runs_again(runner_database, tmp_path):
    sessions = session_factory(create_db_engine(runner_database))
    _, ids = queue_jobs(sessions, 1)
    settings = runner_settings(runner_database, tmp_path, export_claim_seconds=0.5)
    dead = ExportRunner(settings, sessions)
    assert dead.claim_next() is not None  # claimed, then the process "dies": no run, no renewal
    survivor = ExportRunner(settings, sessions)
    assert survivor.run_once() == 0, "a live lease is not taken over"
    [job] = jobs(sessions, ids)
    assert (job.state, job.attempts) == ("running", 1)

    deadline = job.claimed_until
    threading.Event().wait(0.6)
    assert survivor.run_once() == 1
    [job] = jobs(sessions, ids)
    assert (job.state, job.attempts, job.row_count) == ("succeeded", 2, 3)
    assert job.started_at > deadline


def test_a_job_whose_runners_keep_dying_fails(runner_database, tmp_path):
    sessions = session_factory(create_db_engine(runner_database))
    _, ids = queue_jobs(sessions, 1)
    settings = runner_settings(
        runner_database, tmp_path, export_claim_seconds=0.2, export_max_attempts=1
    )
    assert ExportRunner(settings, sessions).claim_next() is not None
    threading.Event().wait(0.3)
    assert ExportRunner(settings, sessions).run_once() == 0
    [job] = jobs(sessions, ids)
    assert (job.state, job.error) == ("failed", "its runner stopped before finishing (1 attempts)")
    assert job.finished_at is not None
