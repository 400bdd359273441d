"""Bulk import from the CLI: every format, idempotent, bad rows reported while good rows go in."""

import csv
import json
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from quorum.db import transaction
from quorum.db.base import utcnow
from quorum.tasks import ingest
from quorum.tasks.models import Project, Task
from tests.delivery.conftest import write_jsonl
from tests.factories import create_project


def task_rows(sessions, org_id):
    with transaction(sessions) as db:
        tasks = db.scalars(select(Task).where(Task.org_id == org_id).order_by(Task.id))
        return [(t.unique_id, t.params) for t in tasks]


def count(sessions, org_id):
    with transaction(sessions) as db:
        return db.scalar(select(func.count()).select_from(Task).where(Task.org_id == org_id))


def categorization_project(tenant):
    create_project(tenant.client, "categorization", "sentiment", params={"categories": ["+", "-"]})


def test_jsonl_import_is_idempotent_on_unique_id(cli, tenant, sessions, tmp_path):
    categorization_project(tenant)
    source = write_jsonl(
        tmp_path / "rows.jsonl",
        [{"attachment": f"text {i}", "unique_id": f"row-{i}"} for i in range(50)],
    )
    first = cli("import", source, "--project", "sentiment", "--key", tenant.key)
    assert first.exit_code == 0, first.output
    assert "created 50, already there 0, rejected 0" in first.output
    again = cli("import", source, "--project", "sentiment", "--key", tenant.key)
    assert again.exit_code == 0
    assert "created 0, already there 50, rejected 0" in again.output
    rows = task_rows(sessions, tenant.org_id)
    assert [uid for uid, _ in rows] == [f"row-{i}" for i in range(50)]
    assert rows[0][1] == {"attachment": "text 0", "categories": ["+", "-"]}


def test_imported_tasks_are_stamped_with_the_time_they_went_in(tenant, sessions):
    categorization_project(tenant)
    before = utcnow()
    rows = list(enumerate(({"attachment": "t", "unique_id": str(i)} for i in range(5)), 1))
    ingest.run_import(sessions, org_id=tenant.org_id, project="sentiment", rows=rows, chunk_rows=2)
    with transaction(sessions) as db:
        stamps = db.execute(
            select(Task.created_at, Task.updated_at).where(Task.org_id == tenant.org_id)
        ).all()
    assert len(stamps) == 5
    for created_at, updated_at in stamps:
        assert created_at == updated_at
        assert before - timedelta(seconds=1) <= created_at <= utcnow()


def test_bad_rows_are_reported_with_their_line_and_the_rest_go_in(cli, tenant, sessions, tmp_path):
    categorization_project(tenant)
    source = write_jsonl(
        tmp_path / "rows.jsonl",
        [
            {"text": "fine", "id": "a"},
            '{"text": "broken", ',
            {"id": "no-text"},
            {"text": "fine too", "id": "b"},
            {"text": 12, "id": "wrong-type"},
            {"text": "late", "id": "c"},
        ],
    )
    rejects = tmp_path / "rejects.jsonl"
    result = cli(
        "import", source, "--project", "sentiment", "--key", tenant.key,
        "--map", "attachment=text", "--map", "unique_id=id", "--rejects", rejects,
    )  # fmt: skip
    assert result.exit_code == 1
    reported = [json.loads(line) for line in rejects.read_text().splitlines()]
    assert [r["line"] for r in reported] == [2, 3, 5]
    assert reported[0]["reason"].startswith("not valid JSON:")
    assert reported[1]["reason"] == "missing column 'text' (mapped to attachment)"
    assert reported[2]["reason"] == "attachment: Input should be a valid string"
    assert [uid for uid, _ in task_rows(sessions, tenant.org_id)] == ["a", "b", "c"]


def test_each_bad_row_gets_the_reason_of_its_first_failing_step(tenant, sessions):
    categorization_project(tenant)
    rows = [
        {"attachment": "fine", "unique_id": "a"},
        {"attachment": "too eager", "priority": 5000},
        {"attachment": "elsewhere", "project": "other"},
        {"attachment": "in a batch", "batch": "b1"},
        {"attachment": "bad callback", "callback_url": "ftp://example.com/hook"},
        {"attachment": "twice", "categories": ["+", "+"]},
        {"attachment": "", "unknown": 1},
        {"attachment": "fine too", "unique_id": "b", "instruction": "Read it"},
    ]
    report = ingest.run_import(
        sessions,
        org_id=tenant.org_id,
        project="sentiment",
        rows=list(enumerate(rows, 1)),
        chunk_rows=3,
    )
    assert [(e.line, e.reason) for e in report.rejected] == [
        (2, "priority: Input should be less than or equal to 1000"),
        (3, "project: this import goes to project 'sentiment'"),
        (4, "batch: this import goes to batch None"),
        (5, "callback_url must be an http or https URL, got 'ftp://example.com/hook'"),
        (6, "params: categories has duplicate choices"),
        (7, "attachment: String should have at least 1 character; unknown: unknown field"),
    ]
    assert task_rows(sessions, tenant.org_id) == [
        ("a", {"attachment": "fine", "categories": ["+", "-"]}),
        ("b", {"attachment": "fine too", "categories": ["+", "-"]}),
    ]


def test_blank_lines_are_skipped_but_keep_their_line_numbers(tmp_path):
    source = write_jsonl(tmp_path / "rows.jsonl", [{"a": 1}, "", "  \t", "[1]", "{", {"b": 2}])
    assert list(ingest.read_rows(source, "jsonl")) == [
        (1, {"a": 1}),
        (4, ingest.RowError(4, "a line must hold a JSON object")),
        (5, ingest.RowError(5, "not valid JSON: EOF while parsing an object at line 2 column 0")),
        (6, {"b": 2}),
    ]


def test_atomic_import_keeps_every_row_out_when_one_is_bad(cli, tenant, sessions, tmp_path):
    categorization_project(tenant)
    source = write_jsonl(tmp_path / "rows.jsonl", [{"attachment": "ok"}, {"attachment": ""}])
    result = cli("import", source, "--project", "sentiment", "--key", tenant.key, "--atomic")
    assert result.exit_code == 1
    assert "line 2: attachment" in result.output
    assert "(atomic: nothing imported)" in result.output
    assert count(sessions, tenant.org_id) == 0


def test_csv_parquet_and_datasets_folders_import_alike(cli, tenant, sessions, tmp_path):
    import datasets

    categorization_project(tenant)
    rows = [{"text": f"t{i}", "id": f"{kind}-{i}"} for kind in ("x",) for i in range(3)]
    with (tmp_path / "rows.csv").open("w", newline="") as file:
        writer = csv.DictWriter(file, fieldnames=["text", "id"])
        writer.writeheader()
        writer.writerows([{**r, "id": "csv-" + r["id"]} for r in rows])
    parquet_rows = [{**r, "id": "pq-" + r["id"]} for r in rows]
    pq.write_table(pa.Table.from_pylist(parquet_rows), tmp_path / "rows.parquet")
    datasets.Dataset.from_list([{**r, "id": "hf-" + r["id"]} for r in rows]).save_to_disk(
        tmp_path / "rows_hf"
    )
    for source in ("rows.csv", "rows.parquet", "rows_hf"):
        result = cli(
            "import", tmp_path / source, "--project", "sentiment", "--key", tenant.key,
            "--map", "attachment=text", "--map", "unique_id=id", "--map", "metadata.source=id",
        )  # fmt: skip
        assert result.exit_code == 0, result.output
    uids = [uid for uid, _ in task_rows(sessions, tenant.org_id)]
    assert uids == [f"{p}-x-{i}" for p in ("csv", "pq", "hf") for i in range(3)]


def test_images_are_copied_to_the_blob_store_and_unreachable_ones_rejected(
    cli, tenant, sessions, tmp_path
):
    create_project(
        tenant.client,
        "imageannotation",
        "street",
        params={"geometries": {"box": {"objects_to_annotate": ["car"]}}},
    )
    (tmp_path / "street.png").write_bytes(b"\x89PNG\r\n\x1a\n fake image bytes")
    source = write_jsonl(
        tmp_path / "rows.jsonl",
        [
            {"attachment": "street.png", "unique_id": "local"},
            {"attachment": "http://127.0.0.1:9/missing.jpg", "unique_id": "unreachable"},
            {"attachment": "nowhere.png", "unique_id": "no-file"},
        ],
    )
    result = cli("import", source, "--project", "street", "--key", tenant.key, "--images")
    assert result.exit_code == 1
    assert "line 2: attachment: host '127.0.0.1' resolves to 127.0.0.1, which is not a" in (
        result.output
    )
    assert "line 3: attachment: no file 'nowhere.png' in" in result.output
    ((uid, params),) = task_rows(sessions, tenant.org_id)
    assert uid == "local"
    assert params["attachment"].startswith("http://127.0.0.1:8000/blobs/")
    assert params["attachment"].endswith(".png")


def test_sdk_imports_an_in_memory_dataset(server, tenant, sessions):
    import datasets

    from quorum import Client

    categorization_project(tenant)
    dataset = datasets.Dataset.from_dict({"text": ["a", "b", ""], "id": ["1", "2", "3"]})
    with Client(tenant.key, server.url) as client:
        report = client.import_tasks(
            "sentiment", dataset, mapping={"attachment": "text", "unique_id": "id"}, chunk_rows=2
        )
    assert (report.created, report.existing) == (2, 0)
    assert [(e.line, e.reason.split(":")[0]) for e in report.rejected] == [(3, "attachment")]


def test_repeated_unique_ids_across_chunks_in_flight_at_once_are_created_once(tenant, sessions):
    categorization_project(tenant)
    # Text COPY must carry tabs, newlines, backslashes and non-ASCII as they are.
    tricky = "tab\there\nnew line \\ back\\slash \\N é 漢字 \r end"
    rows = [
        {"attachment": f"{tricky} {i}", "unique_id": f"u\t{i % 7}", "metadata": {"k": tricky}}
        for i in range(20)
    ]
    numbered = list(enumerate(rows, 1))
    report = ingest.run_import(
        sessions, org_id=tenant.org_id, project="sentiment", rows=numbered, chunk_rows=3
    )
    assert (report.created, report.existing, report.rejected) == (7, 13, [])
    stored = task_rows(sessions, tenant.org_id)
    assert [uid for uid, _ in stored] == [f"u\t{i}" for i in range(7)]
    assert [params["attachment"] for _, params in stored] == [f"{tricky} {i}" for i in range(7)]
    with transaction(sessions) as db:
        stored_metadata = db.scalars(select(Task.metadata_).where(Task.org_id == tenant.org_id))
        assert list(stored_metadata) == [{"k": tricky}] * 7

    more = [*rows, *({"attachment": "new", "unique_id": f"u\t{i}"} for i in range(7, 10))]
    again = ingest.run_import(
        sessions,
        org_id=tenant.org_id,
        project="sentiment",
        rows=list(enumerate(more, 1)),
        chunk_rows=4,
    )
    assert (again.created, again.existing) == (3, 20)
    assert count(sessions, tenant.org_id) == 10


def test_two_imports_of_one_source_at_once_create_each_task_once(tenant, sessions):
    categorization_project(tenant)
    rows = list(enumerate(({"attachment": "t", "unique_id": str(i)} for i in range(300)), 1))

    def run(_):
        return ingest.run_import(
            sessions, org_id=tenant.org_id, project="sentiment", rows=rows, chunk_rows=25
        )

    with ThreadPoolExecutor(max_workers=2) as pool:
        reports = list(pool.map(run, range(2)))
    assert sum(r.created for r in reports) == 300
    assert sum(r.existing for r in reports) == 300
    assert count(sessions, tenant.org_id) == 300


def test_a_task_cannot_belong_to_another_organization_than_its_project(
    tenant, make_tenant, sessions
):
    categorization_project(tenant)
    other = make_tenant()
    with transaction(sessions) as db:
        project = db.scalar(select(Project).where(Project.org_id == tenant.org_id))
        values = {"type": "categorization", "params": {"attachment": "x", "categories": ["+", "-"]}}
        db.add(Task(org_id=other.org_id, project_id=project.id, **values))
        with pytest.raises(IntegrityError):
            db.flush()
