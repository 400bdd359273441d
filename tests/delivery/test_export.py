"""Round trips: import → complete → export, read back with each field's own reader."""

import json
import zipfile
from datetime import UTC, datetime

import pyarrow.parquet as pq
import pytest
from sqlalchemy import select

from quorum import Client
from quorum.db import transaction
from quorum.errors import Invalid
from quorum.tasks import service as tasks
from quorum.tasks.models import Task
from tests.delivery.conftest import complete_all, write_jsonl
from tests.factories import create_project

BOX = {
    "uuid": "b1",
    "type": "box",
    "label": "car",
    "left": 10,
    "top": 20,
    "width": 30,
    "height": 40,
}
POLYGON = {
    "uuid": "p1",
    "type": "polygon",
    "label": "tree",
    "vertices": [{"x": 100, "y": 100}, {"x": 200, "y": 100}, {"x": 150, "y": 180}],
}


def import_rows(cli, tenant, tmp_path, project, rows, *extra):
    source = write_jsonl(tmp_path / f"{project}.jsonl", rows)
    result = cli("import", source, "--project", project, "--key", tenant.key, *extra)
    assert result.exit_code == 0, result.output


def export(cli, tenant, project, fmt, out, *extra):
    result = cli(
        "export", "--project", project, "--format", fmt, "--out", out, "--key", tenant.key, *extra
    )
    assert result.exit_code == 0, result.output
    return out


@pytest.fixture
def images(cli, tenant, sessions, tmp_path):
    create_project(
        tenant.client,
        "imageannotation",
        "street",
        params={
            "geometries": {
                "box": {"objects_to_annotate": ["car"]},
                "polygon": {"objects_to_annotate": ["tree"]},
            },
            "image_width": 640,
            "image_height": 480,
        },
    )
    (tmp_path / "a.png").write_bytes(b"\x89PNG\r\n\x1a\n image a")
    rows = [{"attachment": "a.png", "unique_id": "a"}, {"attachment": "https://x.test/b.jpg"}]
    source = write_jsonl(tmp_path / "street.jsonl", rows[:1])
    assert (
        cli("import", source, "--project", "street", "--key", tenant.key, "--images").exit_code == 0
    )
    import_rows(cli, tenant, tmp_path, "street", rows[1:])
    complete_all(sessions, tenant.org_id, lambda task: {"annotations": [BOX, POLYGON]})


@pytest.mark.filterwarnings("ignore::DeprecationWarning:pycocotools.*")
def test_coco_export_reads_back_with_pycocotools(cli, tenant, images, tmp_path):
    from pycocotools.coco import COCO

    out = export(cli, tenant, "street", "coco", tmp_path / "coco")
    coco = COCO(str(out / "annotations.json"))
    assert [c["name"] for c in coco.loadCats(coco.getCatIds())] == ["car", "tree"]
    assert len(coco.getImgIds()) == 2
    car = coco.loadAnns(coco.getAnnIds(catIds=[1]))[0]
    assert car["bbox"] == [10, 20, 30, 40] and car["area"] == 1200
    tree = coco.loadAnns(coco.getAnnIds(catIds=[2]))[0]
    assert tree["bbox"] == [100, 100, 100, 80] and tree["area"] == 4000
    assert coco.annToMask(car).sum() > 0
    first = coco.loadImgs(coco.getImgIds())[0]
    assert (out / "images" / first["file_name"]).read_bytes() == b"\x89PNG\r\n\x1a\n image a"
    assert len(list((out / "images").iterdir())) == 1, "only images Quorum holds are copied"


def test_yolo_export_normalizes_boxes_and_polygons(cli, tenant, images, tmp_path):
    out = export(cli, tenant, "street", "yolo", tmp_path / "yolo")
    assert (out / "classes.txt").read_text() == "car\ntree\n"
    labels = sorted((out / "labels").iterdir())
    assert len(labels) == 2
    lines = labels[0].read_text().splitlines()
    assert lines[0] == "0 0.039062 0.083333 0.046875 0.083333"
    assert lines[1].startswith("1 0.156250 0.208333 0.312500 0.208333 0.234375 0.375000")
    assert "names:\n  0: 'car'\n  1: 'tree'" in (out / "data.yaml").read_text()


def test_yolo_refuses_a_point_instead_of_dropping_it(cli, tenant, sessions, tmp_path):
    create_project(
        tenant.client,
        "imageannotation",
        "points",
        params={"geometries": {"point": {"objects_to_annotate": ["eye"]}}},
    )
    import_rows(cli, tenant, tmp_path, "points", [{"attachment": "https://x.test/p.jpg"}])
    point = {"uuid": "e", "type": "point", "label": "eye", "x": 3, "y": 4}
    complete_all(sessions, tenant.org_id, lambda task: {"annotations": [point]})
    refusal = "yolo export holds boxes and polygons; annotations\\[0\\] of task .* is a point"
    with pytest.raises(Invalid, match=refusal):
        export(cli, tenant, "points", "yolo", tmp_path / "y")


def test_jsonl_parquet_and_hf_hold_the_scale_task_objects(cli, tenant, sessions, tmp_path):
    import datasets

    create_project(tenant.client, "categorization", "sentiment", params={"categories": ["+", "-"]})
    rows = [{"attachment": f"text {i}", "unique_id": f"u{i}"} for i in range(5)]
    import_rows(cli, tenant, tmp_path, "sentiment", rows)
    with transaction(sessions) as db:
        first = db.scalar(select(Task).where(Task.org_id == tenant.org_id).order_by(Task.id))
        db.expunge(first)
    with transaction(sessions) as db:
        tasks.cancel_task(db, org_id=tenant.org_id, task_id=first.id)
    complete_all(sessions, tenant.org_id, lambda task: {"category": "+"})

    lines = export(cli, tenant, "sentiment", "jsonl", tmp_path / "out.jsonl").read_text()
    exported = [json.loads(line) for line in lines.splitlines()]
    assert [t["unique_id"] for t in exported] == ["u1", "u2", "u3", "u4"]
    assert exported[0] == tenant.client.get(f"/v1/task/{exported[0]['task_id']}").json()
    everything = export(
        cli, tenant, "sentiment", "jsonl", tmp_path / "all.jsonl", "--include", "all"
    )
    assert len(everything.read_text().splitlines()) == 5

    table = pq.read_table(export(cli, tenant, "sentiment", "parquet", tmp_path / "out.parquet"))
    assert table.column("unique_id").to_pylist() == ["u1", "u2", "u3", "u4"]
    assert json.loads(table.column("response")[0].as_py()) == {"category": "+"}

    dataset = datasets.load_from_disk(str(export(cli, tenant, "sentiment", "hf", tmp_path / "hf")))
    assert dataset.num_rows == 4
    assert dataset[0]["unique_id"] == "u1"
    assert json.loads(dataset[0]["params"]) == {"attachment": "text 1", "categories": ["+", "-"]}


def test_jsonl_times_are_cut_to_the_millisecond_as_the_api_writes_them(
    cli, tenant, sessions, tmp_path
):
    create_project(tenant.client, "categorization", "times", params={"categories": ["+", "-"]})
    import_rows(cli, tenant, tmp_path, "times", [{"attachment": "t"}])
    with transaction(sessions) as db:
        task = db.scalar(select(Task).where(Task.org_id == tenant.org_id))
        task.created_at = datetime(2024, 5, 6, 7, 8, 9, 123999, tzinfo=UTC)
    complete_all(sessions, tenant.org_id, lambda task: {"category": "+"})
    (line,) = export(cli, tenant, "times", "jsonl", tmp_path / "t.jsonl").read_text().splitlines()
    exported = json.loads(line)
    assert exported["created_at"] == "2024-05-06T07:08:09.123Z"
    assert exported == tenant.client.get(f"/v1/task/{exported['task_id']}").json()


def test_sft_from_chat_and_text_collection(cli, tenant, sessions, tmp_path):
    create_project(tenant.client, "chat", "dialogs", params={"system_prompt": "Be brief."})
    import_rows(cli, tenant, tmp_path, "dialogs", [{"topic": "greetings"}])
    messages = [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello!"}]
    complete_all(sessions, tenant.org_id, lambda task: {"messages": messages})
    (record,) = [
        json.loads(line)
        for line in export(cli, tenant, "dialogs", "sft", tmp_path / "sft.jsonl")
        .read_text()
        .splitlines()
    ]
    assert record["messages"] == [{"role": "system", "content": "Be brief."}, *messages]

    fields = [{"type": "text", "field_id": "answer", "title": "Answer"}]
    create_project(tenant.client, "textcollection", "answers", params={"fields": fields})
    rows = [{"attachments": [{"type": "text", "content": "What is 2+2?"}]}]
    import_rows(cli, tenant, tmp_path, "answers", rows)
    complete_all(sessions, tenant.org_id, lambda task: {"annotations": {"answer": "4"}})
    out = export(cli, tenant, "answers", "sft", tmp_path / "tc.jsonl").read_text()
    assert json.loads(out)["messages"] == [
        {"role": "user", "content": "What is 2+2?"},
        {"role": "assistant", "content": "4"},
    ]


def test_dpo_pairs_from_comparisons_skip_ties(cli, tenant, sessions, tmp_path):
    create_project(tenant.client, "comparison", "prefs")
    rows = [
        {
            "prompt": "Say hi",
            "answers": [{"content": "Hi!"}, {"content": "Go away."}],
            "unique_id": "win",
        },
        {"prompt": "Tie", "answers": [{"content": "A"}, {"content": "B"}], "unique_id": "tie"},
    ]
    import_rows(cli, tenant, tmp_path, "prefs", rows)
    complete_all(
        sessions,
        tenant.org_id,
        lambda task: {"preferred": 0 if task.unique_id == "win" else None},
    )
    result = cli(
        "export", "--project", "prefs", "--format", "dpo", "--out", tmp_path / "dpo.jsonl",
        "--key", tenant.key,
    )  # fmt: skip
    assert "(skipped 1 tie)" in result.output
    (pair,) = [json.loads(line) for line in (tmp_path / "dpo.jsonl").read_text().splitlines()]
    assert (pair["prompt"], pair["chosen"], pair["rejected"]) == ("Say hi", "Hi!", "Go away.")


def test_sdk_streams_exports_from_the_api(server, cli, tenant, sessions, tmp_path):
    create_project(tenant.client, "categorization", "sentiment", params={"categories": ["+", "-"]})
    import_rows(cli, tenant, tmp_path, "sentiment", [{"attachment": f"t{i}"} for i in range(3)])
    complete_all(sessions, tenant.org_id, lambda task: {"category": "-"})
    with Client(tenant.key, server.url) as client:
        lines = client.export("sentiment", "jsonl", tmp_path / "api.jsonl").read_text()
        assert [json.loads(x)["params"]["attachment"] for x in lines.splitlines()] == [
            "t0",
            "t1",
            "t2",
        ]
        archive = client.export("sentiment", "hf", tmp_path / "hf.zip")
        assert "state.json" in zipfile.ZipFile(archive).namelist()
        assert [t.status for t in client.tasks(project="sentiment", limit=2)] == ["completed"] * 3


def test_jsonl_lines_equal_the_api_objects_whatever_the_text_holds(cli, tenant, tmp_path):
    create_project(tenant.client, "categorization", "texts", params={"categories": ["+", "-"]})
    tenant.client.post("/v1/batches", json={"project": "texts", "name": "b\\1"})
    tricky = 'quote " back\\slash \\n new\nline\ttab é 漢字 \u2028 % %s'
    bodies = [
        {"attachment": tricky, "instruction": tricky, "unique_id": f"{tricky} {i}"}
        | {"metadata": {"k": [tricky, 1.5, None, True]}, "tags": [tricky, "t"], "priority": -3}
        | ({"batch": "b\\1", "callback_url": "https://example.com/a?b=%20"} if i else {})
        for i in range(2)
    ]
    for body in bodies:
        reply = tenant.client.post("/v1/task/categorization", json={"project": "texts", **body})
        assert reply.status_code == 200, reply.text
    out = export(cli, tenant, "texts", "jsonl", tmp_path / "t.jsonl", "--include", "all")
    exported = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert [t["unique_id"] for t in exported] == [f"{tricky} 0", f"{tricky} 1"]
    for task in exported:
        assert task == tenant.client.get(f"/v1/task/{task['task_id']}").json()


def test_exports_stream_in_chunks_and_keep_creation_order(cli, tenant, sessions, tmp_path):
    from quorum.exports.service import export_chunks

    create_project(tenant.client, "categorization", "many", params={"categories": ["+", "-"]})
    import_rows(cli, tenant, tmp_path, "many", [{"attachment": f"t{i}"} for i in range(7)])
    complete_all(sessions, tenant.org_id, lambda task: {"category": "+"})
    with transaction(sessions) as db:
        chunks = export_chunks(db, org_id=tenant.org_id, project="many", chunk_rows=3)
        sizes_and_texts = [(len(c), [t.params["attachment"] for t in c]) for c in chunks]
    assert [size for size, _ in sizes_and_texts] == [3, 3, 1]
    assert [text for _, texts in sizes_and_texts for text in texts] == [f"t{i}" for i in range(7)]
