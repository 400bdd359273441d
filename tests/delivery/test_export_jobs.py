"""Export jobs: queued over the API, run by a background runner, downloaded as an artifact that
each field's reader opens; ``export.ready`` reaches the customer signed; tenants are walls."""

import hashlib
import io
import json
import uuid
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import httpx
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from sqlalchemy.orm import Session, sessionmaker

from quorum import Client
from quorum.accounts import service as accounts
from quorum.callbacks.signing import verify_signature
from quorum.cli import app as cli_app
from quorum.db import create_db_engine, session_factory, transaction
from quorum.db.migrate import upgrade
from quorum.settings import Settings
from tests.callbacks.receiver import Receiver, wait_for
from tests.conftest import ThreadedServer
from tests.delivery.conftest import complete_all
from tests.factories import create_project, create_task


@dataclass
class Shop:
    """A server of its own (fast export runner and callback sender) and a way to make tenants."""

    url: str
    sessions: sessionmaker[Session]

    def tenant(self) -> tuple[str, str, str]:
        """A new organization: its id, API key and callback signing secret."""
        with transaction(self.sessions) as db:
            org = accounts.create_organization(db, name=f"exp-{uuid.uuid4().hex[:10]}")
            key = accounts.create_api_key(db, org_id=org.id)
            return org.id, key.secret, org.callback_signing_secret


@pytest.fixture(scope="module")
def shop(
    backend: str, fresh_database_url: Callable[[str], str], tmp_path_factory
) -> Iterator[Shop]:
    url = fresh_database_url(backend)
    engine = create_db_engine(url)
    upgrade(engine)
    settings = Settings(
        database_url=url,
        home=tmp_path_factory.mktemp("home"),
        export_poll_seconds=0.2,
        outbound_allowed_networks=["127.0.0.0/8"],
        callback_poll_seconds=0.05,
        active_learning_seconds=0,
        quality_refit_seconds=0,
    )
    with ThreadedServer(settings) as server:
        settings.public_url = server.url
        yield Shop(url=server.url, sessions=session_factory(engine))
    engine.dispose()


@pytest.fixture
def customer(shop: Shop) -> Iterator[tuple[str, Client, str]]:
    org_id, key, secret = shop.tenant()
    with Client(key, shop.url) as client:
        yield org_id, client, secret


def categorized(shop: Shop, client: Client, org_id: str, name: str, count: int) -> list[str]:
    """A categorization project with ``count`` completed tasks and one pending; completed ids."""
    create_project(client.http, "categorization", name)
    ids = [create_task(client.http, "categorization", name)["task_id"] for _ in range(count)]
    complete_all(shop.sessions, org_id, lambda task: {"category": "good"})
    create_task(client.http, "categorization", name)
    return ids


def test_jsonl_job_runs_in_the_background_and_downloads(shop, customer, tmp_path):
    org_id, client, _ = customer
    done = categorized(shop, client, org_id, "reviews", 7)

    queued = client.create_export_job("reviews", "jsonl")
    assert (queued.state, queued.download_url, queued.row_count) == ("queued", None, 0)
    job = client.wait_for_export(queued.id, timeout=30, poll_seconds=0.05)

    assert job.state == "succeeded", job.error
    assert (job.task_count, job.row_count, job.attempts) == (7, 7, 1)
    assert job.download_url == f"{shop.url}/v1/exports/{job.id}/download"
    assert job.file_name == "reviews-jsonl.jsonl"
    target = client.download_export(job.id, tmp_path / "out.jsonl")
    data = target.read_bytes()
    assert (len(data), hashlib.sha256(data).hexdigest()) == (job.size_bytes, job.sha256)
    rows = [json.loads(line) for line in data.decode().splitlines()]
    assert [row["task_id"] for row in rows] == done
    assert all(row["response"] == {"category": "good"} for row in rows)
    assert rows[0] == client.get_task(done[0]).model_dump(mode="json")

    response = client.http.get(f"/v1/exports/{job.id}/download")
    assert response.headers["content-type"] == "application/x-ndjson"
    assert 'filename="reviews-jsonl.jsonl"' in response.headers["content-disposition"]
    assert [j.id for j in client.export_jobs(project="reviews")] == [job.id]


def test_parquet_job_of_all_tasks_reads_back_with_pyarrow(shop, customer, tmp_path):
    org_id, client, _ = customer
    categorized(shop, client, org_id, "everything", 3)
    queued = client.create_export_job("everything", "parquet", include="all")
    job = client.wait_for_export(queued.id, timeout=30, poll_seconds=0.05)
    assert (job.state, job.row_count, job.content_type) == (
        "succeeded",
        4,
        "application/vnd.apache.parquet",
    )
    table = pq.read_table(client.download_export(job.id, tmp_path / "all.parquet"))
    assert sorted(table.column("status").to_pylist()) == ["completed"] * 3 + ["pending"]


def test_folder_formats_download_as_a_zip(shop, customer, tmp_path):
    org_id, client, _ = customer
    create_project(client.http, "imageannotation", "street")
    create_task(client.http, "imageannotation", "street")
    box = {"uuid": "b1", "type": "box", "label": "car", "left": 1, "top": 2}
    box |= {"width": 3, "height": 4}
    complete_all(shop.sessions, org_id, lambda task: {"annotations": [box]})
    coco = client.wait_for_export(client.create_export_job("street", "coco").id, timeout=30)
    hf = client.wait_for_export(client.create_export_job("street", "hf").id, timeout=30)

    assert (coco.state, coco.content_type, coco.file_name) == (
        "succeeded",
        "application/zip",
        "street-coco.zip",
    )
    with zipfile.ZipFile(client.download_export(coco.id, tmp_path / "coco.zip")) as bundle:
        annotations = json.loads(bundle.read("annotations.json"))
    assert [a["bbox"] for a in annotations["annotations"]] == [[1, 2, 3, 4]]
    with zipfile.ZipFile(client.download_export(hf.id, tmp_path / "hf.zip")) as bundle:
        stream = pa.ipc.open_stream(io.BytesIO(bundle.read("data-00000-of-00001.arrow")))
        assert stream.read_all().column("project").to_pylist() == ["street"]


def test_a_job_that_cannot_export_fails_with_the_reason(shop, customer):
    org_id, client, _ = customer
    categorized(shop, client, org_id, "labels", 1)
    job = client.wait_for_export(client.create_export_job("labels", "dpo").id, timeout=30)
    assert job.state == "failed"
    assert "dpo export holds comparison tasks" in job.error
    refused = client.http.get(f"/v1/exports/{job.id}/download")
    assert refused.status_code == 400
    assert refused.json() == {
        "status_code": 400,
        "error": f"export job {job.id} is failed: {job.error}; nothing to download yet",
    }


def test_a_job_is_checked_when_queued(customer):
    _, client, _ = customer
    create_project(client.http, "chat", "talks")
    unknown = client.http.post("/v1/exports", json={"project": "talks", "format": "xml"})
    assert unknown.status_code == 400
    assert "unknown export format 'xml'" in unknown.json()["error"]
    missing = client.http.post("/v1/exports", json={"project": "nope", "format": "jsonl"})
    assert missing.status_code == 404
    bad_url = client.http.post(
        "/v1/exports", json={"project": "talks", "format": "jsonl", "callback_url": "ftp://x"}
    )
    assert bad_url.status_code == 400


def test_another_organization_cannot_see_or_download_a_job(shop, customer):
    org_id, client, _ = customer
    categorized(shop, client, org_id, "private", 1)
    job = client.wait_for_export(client.create_export_job("private", "jsonl").id, timeout=30)
    _, intruder_key, _ = shop.tenant()
    with httpx.Client(base_url=shop.url, auth=(intruder_key, "")) as intruder:
        for path in (f"/v1/exports/{job.id}", f"/v1/exports/{job.id}/download"):
            response = intruder.get(path)
            assert response.status_code == 404, path
            assert response.json() == {"status_code": 404, "error": f"no export job {job.id!r}"}
        assert intruder.get("/v1/exports").json()["docs"] == []


def test_export_ready_reaches_the_customer_signed(shop, customer):
    org_id, client, secret = customer
    categorized(shop, client, org_id, "hooked", 2)
    with Receiver() as receiver:
        queued = client.create_export_job("hooked", "jsonl", callback_url=receiver.url)
        job = client.wait_for_export(queued.id, timeout=30, poll_seconds=0.05)
        wait_for(lambda: receiver.accepted())
    delivery = receiver.accepted()[0]
    assert delivery.headers["quorum-event"] == "export.ready"
    assert verify_signature(secret, delivery.body, delivery.headers["quorum-signature"])
    assert delivery.json() == {
        "event": "export.ready",
        "org_id": org_id,
        "project": "hooked",
        "batch": None,
        "export": job.model_dump(mode="json"),
    }
    events = list(client.callbacks())
    assert [(e.kind, e.export_job_id, e.task_id) for e in events] == [
        ("export.ready", job.id, None)
    ]


def test_cli_creates_waits_for_and_downloads_a_job(shop, customer, tmp_path):
    from typer.testing import CliRunner

    org_id, client, _ = customer
    categorized(shop, client, org_id, "cli", 2)
    key = client.auth[0]
    runner = CliRunner()
    created = runner.invoke(
        cli_app,
        ["exports", "create", "--project", "cli", "--format", "sft", "--key", key],
        env={"QUORUM_API_URL": shop.url},
    )
    assert created.exit_code == 0, created.output
    export_id = created.stdout.strip()
    out = tmp_path / "cli.jsonl"
    waited = runner.invoke(
        cli_app,
        ["exports", "wait", export_id, "--out", str(out), "--key", key, "--url", shop.url],
    )
    # Categorization tasks are not SFT conversations: the job fails and says why.
    assert waited.exit_code == 1
    assert "sft export holds chat, textcollection tasks" in waited.output
    assert not out.exists()
    created = runner.invoke(
        cli_app,
        ["exports", "create", "--project", "cli", "--format", "jsonl", "--key", key],
        env={"QUORUM_API_URL": shop.url},
    )
    export_id = created.stdout.strip()
    waited = runner.invoke(
        cli_app,
        ["exports", "wait", export_id, "--out", str(out), "--key", key, "--url", shop.url],
    )
    assert waited.exit_code == 0, waited.output
    assert len(out.read_text().splitlines()) == 2
    listed = runner.invoke(cli_app, ["exports", "list", "--key", key, "--url", shop.url])
    assert [line.split("\t")[1] for line in listed.stdout.splitlines()] == [
        "succeeded",
        "failed",
    ]


def test_async_client_runs_a_job(shop, customer, tmp_path):
    import asyncio
    from concurrent.futures import ThreadPoolExecutor

    from quorum.client import AsyncClient

    org_id, client, _ = customer
    categorized(shop, client, org_id, "async", 2)

    async def run() -> bytes:
        async with AsyncClient(client.auth[0], shop.url) as aclient:
            queued = await aclient.create_export_job("async", "jsonl")
            job = await aclient.wait_for_export(queued.id, timeout=30, poll_seconds=0.05)
            assert job.state == "succeeded"
            assert [j.id async for j in aclient.export_jobs()] == [job.id]
            return (await aclient.download_export(job.id, tmp_path / "a.jsonl")).read_bytes()

    # On a thread of its own: the browser tests' Playwright keeps an event loop running on the
    # main thread of the pytest worker they share.
    with ThreadPoolExecutor(1) as thread:
        downloaded = thread.submit(asyncio.run, run()).result()
    assert len(downloaded.splitlines()) == 2
