"""The official ``scaleapi`` client, unchanged, against a real ``quorum serve`` process."""

import pytest
import scaleapi
from scaleapi.exceptions import (
    ScaleDuplicateResource,
    ScaleInternalError,
    ScaleInvalidRequest,
    ScaleResourceNotFound,
    ScaleTooManyRequests,
    ScaleUnauthorized,
)
from scaleapi.tasks import TaskType
from sqlalchemy import text

from quorum.accounts import service as accounts
from quorum.db import create_db_engine, session_factory, transaction
from quorum.db.migrate import upgrade
from tests.conftest import ServeProcess
from tests.factories import TASK_PARAMS


def _org_with_key(database_url: str, name: str) -> str:
    engine = create_db_engine(database_url)
    upgrade(engine)
    with transaction(session_factory(engine)) as db:
        org = accounts.create_organization(db, name=name)
        key = accounts.create_api_key(db, org_id=org.id).secret
    engine.dispose()
    return key


@pytest.fixture(scope="module")
def quorum_process(backend, fresh_database_url):
    url = fresh_database_url(backend)
    key = _org_with_key(url, "scale-client-org")
    with ServeProcess(url) as process:
        yield process, key, url


@pytest.fixture
def client(quorum_process):
    process, key, _ = quorum_process
    return scaleapi.ScaleClient(key, api_instance_url=f"{process.url}/v1")


def test_projects_create_get_list_update(client):
    project = client.create_project(
        "scale/proj one", TaskType.Categorization, params={"instruction": "Classify"}
    )
    assert project.name == "scale/proj one"
    assert client.get_project("scale/proj one").type == "categorization"
    assert "scale/proj one" in [p.name for p in client.get_projects()]
    updated = client.update_project("scale/proj one", instruction="Classify carefully")
    assert updated.version == 1
    assert updated.instruction == "Classify carefully"


def test_batches_create_get_list_finalize_status(client):
    client.create_project("batch-proj", TaskType.Categorization)
    batch = client.create_batch("batch-proj", "batch/1", metadata={"m": 1})
    assert batch.status == "staging"
    client.create_task(TaskType.Categorization, batch="batch/1", **TASK_PARAMS["categorization"])
    assert client.get_batch("batch/1").project == "batch-proj"
    assert [b.name for b in client.get_batches(project_name="batch-proj")] == ["batch/1"]
    assert client.finalize_batch("batch/1").status == "in_progress"
    status = client.batch_status("batch/1")
    assert status["status"] == "in_progress" and status["pending"] == 1
    assert client.set_batch_metadata("batch/1", {"n": 2}).metadata == {"n": 2}


@pytest.mark.parametrize(
    "task_type",
    [
        TaskType.Categorization,
        TaskType.ImageAnnotation,
        TaskType.TextCollection,
        TaskType.Comparison,
        TaskType.Chat,
    ],
)
def test_create_and_fetch_every_task_type(client, task_type):
    project = f"types-{task_type.value}"
    client.create_project(project, task_type)
    task = client.create_task(task_type, project=project, **TASK_PARAMS[task_type.value])
    assert task.id == task.task_id
    fetched = client.get_task(task.id)
    assert fetched.type == task_type.value
    assert fetched.status == "pending"


def test_task_listing_iteration_count_and_edits(client):
    client.create_project("iter", TaskType.Chat)
    ids = [
        client.create_task(TaskType.Chat, project="iter", unique_id=f"it-{i}").id for i in range(5)
    ]
    assert [t.id for t in client.get_tasks(project_name="iter")] == ids
    assert [t.id for t in client.get_tasks(project_name="iter", limit=2)] == ids
    assert client.get_tasks_count(project_name="iter") == 5
    page = client.tasks(project="iter", limit=2)
    assert len(page.docs) == 2 and page.has_more and page.next_token
    assert client.set_task_metadata(ids[0], {"a": 1}).metadata == {"a": 1}
    assert client.set_task_tags(ids[0], ["x", "y"]).tags == ["x", "y"]
    assert client.add_task_tags(ids[0], ["z"]).tags == ["x", "y", "z"]
    assert client.delete_task_tags(ids[0], ["x"]).tags == ["y", "z"]
    assert client.update_task_unique_id(ids[0], "renamed").unique_id == "renamed"
    assert client.clear_task_unique_id(ids[0]).unique_id is None
    canceled = client.cancel_task(ids[1], clear_unique_id=True)
    assert canceled.status == "canceled" and canceled.unique_id is None
    assert [
        t.id for t in client.get_tasks(project_name="iter", status=scaleapi.TaskStatus.Canceled)
    ] == [ids[1]]


def test_errors_map_to_the_client_exceptions(client, quorum_process):
    process, _, _ = quorum_process
    client.create_project("errs", TaskType.Chat)
    with pytest.raises(ScaleInvalidRequest):
        client.create_task(TaskType.Chat, project="errs", min_turns=0)
    with pytest.raises(ScaleResourceNotFound):
        client.get_task("000000000000000000000000")
    with pytest.raises(ScaleResourceNotFound):
        client.get_project("no such project")
    client.create_task(TaskType.Chat, project="errs", unique_id="dup")
    with pytest.raises(ScaleDuplicateResource):
        client.create_task(TaskType.Chat, project="errs", unique_id="dup")
    task = client.create_task(TaskType.Chat, project="errs")
    client.cancel_task(task.id)
    with pytest.raises(ScaleInvalidRequest):
        client.cancel_task(task.id)
    with pytest.raises(ScaleUnauthorized):
        scaleapi.ScaleClient("live_wrong", api_instance_url=f"{process.url}/v1").get_projects()


def test_rate_limit_maps_to_too_many_requests(backend, fresh_database_url):
    url = fresh_database_url(backend)
    key = _org_with_key(url, "limited-org")
    env = {"QUORUM_RATE_LIMIT_PER_SECOND": "1", "QUORUM_RATE_LIMIT_BURST": "3"}
    with ServeProcess(url, **env) as process:
        client = scaleapi.ScaleClient(key, api_instance_url=f"{process.url}/v1")
        with pytest.raises(ScaleTooManyRequests):
            for _ in range(10):
                client.get_projects()


def test_server_failure_maps_to_internal_error(backend, fresh_database_url):
    """A broken database gives a JSON 500, which the client raises as ScaleInternalError."""
    url = fresh_database_url(backend)
    key = _org_with_key(url, "broken-org")
    with ServeProcess(url) as process:
        client = scaleapi.ScaleClient(key, api_instance_url=f"{process.url}/v1")
        client.create_project("fine", TaskType.Chat)
        engine = create_db_engine(url)
        with engine.begin() as connection:
            connection.execute(text("ALTER TABLE task RENAME TO task_gone"))
        engine.dispose()
        with pytest.raises(ScaleInternalError) as raised:
            client.create_task(TaskType.Chat, project="fine")
        assert raised.value.code == 500
