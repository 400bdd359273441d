"""Customers audit delivered tasks with the official ``scaleapi`` client's ``audit_task``, against
a real ``quorum serve``: an accepted audit is recorded, a rejected one reopens the task."""

import uuid

import pytest
import scaleapi
from scaleapi.exceptions import ScaleInvalidRequest
from scaleapi.tasks import TaskType

from quorum.accounts import service as accounts
from quorum.db import create_db_engine, session_factory, transaction
from quorum.db.migrate import upgrade
from quorum.dispatch import service as dispatch
from quorum.workforce import service as workforce
from quorum.workforce.schemas import ProjectWorkforceUpdate, WorkerInvite
from tests.conftest import ServeProcess
from tests.factories import TASK_PARAMS


@pytest.fixture(scope="module")
def audit_setup(backend, fresh_database_url):
    """A served database with an organization, its key, a project and two of its workers."""
    url = fresh_database_url(backend)
    engine = create_db_engine(url)
    upgrade(engine)
    sessions = session_factory(engine)
    with transaction(sessions) as db:
        org = accounts.create_organization(db, name="audit-org")
        key = accounts.create_api_key(db, org_id=org.id).secret
    with ServeProcess(url) as process:
        client = scaleapi.ScaleClient(key, api_instance_url=f"{process.url}/v1")
        client.create_project("audited", TaskType.Categorization)
        with transaction(sessions) as db:
            workforce.configure_project(
                db, org_id=org.id, project="audited", data=ProjectWorkforceUpdate()
            )
            workers = []
            for _ in range(2):
                worker, _ = workforce.invite_worker(
                    db, org_id=org.id, data=WorkerInvite(email=f"{uuid.uuid4().hex}@example.com")
                )
                workforce.add_member(db, org_id=org.id, project="audited", worker_id=worker.id)
                workers.append(
                    workforce.authenticate_worker(
                        db, secret=workforce.open_session(db, worker_id=worker.id)
                    )
                )
        yield client, sessions, workers
    engine.dispose()


def label(sessions, worker, category: str) -> str:
    """The worker takes the next task and answers it; returns the task id."""
    with transaction(sessions) as db:
        lease = dispatch.next_task(db, worker=worker)
        dispatch.submit(
            db,
            worker_id=worker.id,
            assignment_id=lease.assignment_id,
            response={"category": category},
        )
    return lease.task_id


def test_audit_task_accepts_and_rejects_delivered_work(audit_setup):
    client, sessions, (first, second) = audit_setup
    task = client.create_task(
        TaskType.Categorization, project="audited", **TASK_PARAMS["categorization"]
    )
    with pytest.raises(ScaleInvalidRequest, match="only a completed task"):
        client.audit_task(task.id, True)
    assert label(sessions, first, "bad") == task.id

    client.audit_task(task.id, True)
    assert client.get_task(task.id).as_dict()["customer_review_status"] == "accepted"

    client.audit_task(task.id, False, "it says bad but the food was great")
    reopened = client.get_task(task.id).as_dict()
    assert (reopened["status"], reopened["customer_review_status"]) == ("pending", "rejected")
    assert reopened["response"] is None

    assert label(sessions, second, "good") == task.id, "the reopened task went to someone else"
    redone = client.get_task(task.id).as_dict()
    assert (redone["status"], redone["response"]["category"]) == ("completed", "good")
    assert redone["customer_review_status"] is None, "the new answer awaits its own audit"
