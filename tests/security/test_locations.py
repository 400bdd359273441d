"""Attack table: a location a tenant writes never names a file the server reads.

Image tasks carry an ``attachment`` string; exports copy images next to the labels and imports
copy them into the blob store. Every payload here names a file of the server (its database, its
environment, the system's password file, the blob store's neighbours) in another spelling.
"""

import io
import json
import os
import zipfile
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.engine import make_url

from quorum.blobs import BlobStore
from quorum.db import transaction
from quorum.outside import Unreachable, contained_file
from quorum.settings import get_settings
from quorum.tasks import service as tasks
from quorum.tasks.models import Task
from tests.factories import create_project

SECRET = b"the server's own secret bytes"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32


def server_paths(database_url: str, public_url: str) -> list[str]:
    """Attachments that name the server's files: absolute, file:, home-relative, traversals,
    and this server's own blob URLs walked out of the store."""
    blobs = public_url.rstrip("/") + "/blobs"
    database = make_url(database_url).database or "quorum.db"
    return [
        "/etc/passwd",
        "/etc//passwd",
        "/proc/self/environ",
        "/proc/self/cmdline",
        "/dev/zero",
        database,
        "file:///etc/passwd",
        "file://localhost/etc/passwd",
        "FILE:/etc/passwd",
        "file:" + database,
        "~/.quorum/quorum.db",
        "~root/.bash_history",
        "../../../../../../etc/passwd",
        "./../quorum.db",
        "..\\..\\quorum.db",
        "%2e%2e/%2e%2e/etc/passwd",
        f"{blobs}/../quorum.db",
        f"{blobs}/../../../../../../etc/passwd",
        f"{blobs}/..%2f..%2fquorum.db",
        f"{blobs}/%2e%2e/quorum.db",
        f"{blobs}/{'a' * 64}.png/../../quorum.db",
        f"{blobs}/.scratch/../../quorum.db",
        f"{blobs}/",
        f"{blobs}/.",
        f"{blobs}//etc/passwd",
        blobs + "/" + "0" * 64 + ".png\x00.db",
    ]


def _complete(sessions, org_id):
    with transaction(sessions) as db:
        rows = db.scalars(select(Task).where(Task.org_id == org_id, Task.status == "pending"))
        tasks.mark_tasks_completed(db, completions=[(t, {"annotations": []}) for t in rows.all()])


@pytest.fixture
def hostile_images(tenant, sessions, server, database_url):
    api = tenant.client
    create_project(
        api,
        "imageannotation",
        "street",
        params={
            "geometries": {"box": {"objects_to_annotate": ["car"]}},
            "image_width": 640,
            "image_height": 480,
        },
    )
    public_url = server.settings.public_url
    stored = []
    for payload in server_paths(database_url, public_url):
        created = api.post(
            "/v1/task/imageannotation", json={"project": "street", "attachment": payload}
        )
        if "\x00" in payload and created.status_code == 400:
            continue  # PostgreSQL stores no NUL character: refused, which is as good
        assert created.status_code == 200, created.text
        stored.append(payload)
    _complete(sessions, tenant.org_id)
    return stored


@pytest.mark.parametrize("export_format", ["coco", "yolo"])
def test_exports_copy_no_file_a_task_names(tenant, hostile_images, export_format):
    reply = tenant.client.get(
        "/v1/projects/street/export", params={"format": export_format, "include": "completed"}
    )
    assert reply.status_code == 200, reply.text
    archive = zipfile.ZipFile(io.BytesIO(reply.content))
    copied = [name for name in archive.namelist() if "/images/" in f"/{name}" and name[-1] != "/"]
    assert copied == []
    if export_format == "coco":
        (annotations,) = [n for n in archive.namelist() if n.endswith("annotations.json")]
        images = json.loads(archive.read(annotations))["images"]
        assert sorted(image["coco_url"] for image in images) == sorted(hostile_images)
        for image in images:  # the names it would have been copied to stay plain
            assert "/" not in image["file_name"] and ".." not in image["file_name"]


def test_the_cli_export_copies_no_file_a_task_names(cli, tenant, hostile_images, tmp_path):
    out = tmp_path / "coco"
    result = cli(
        "export", "--project", "street", "--format", "coco", "--include", "completed",
        "--out", out, "--key", tenant.key,
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert list((out / "images").iterdir()) == []


def _import_images(cli, tenant, folder: Path, attachments: list[str]):
    create_project(
        tenant.client,
        "imageannotation",
        "imported",
        params={"geometries": {"box": {"objects_to_annotate": ["car"]}}},
    )
    source = folder / "rows.jsonl"
    source.write_text("".join(json.dumps({"attachment": a}) + "\n" for a in attachments))
    return cli("import", source, "--project", "imported", "--key", tenant.key, "--images")


def test_image_import_reads_files_only_inside_the_import_folder(cli, tenant, tmp_path):
    folder = tmp_path / "upload"
    (folder / "sub").mkdir(parents=True)
    outside = tmp_path / "outside.png"
    outside.write_bytes(PNG + SECRET)
    (folder / "inside.png").write_bytes(PNG)
    (folder / "sub" / "nested.png").write_bytes(PNG + b"nested")
    (folder / "link-out.png").symlink_to(outside)
    (folder / "link-etc").symlink_to("/etc")
    (folder / "link-zero.png").symlink_to("/dev/zero")
    (folder / "sub" / "link-up").symlink_to("..")
    os.mkfifo(folder / "pipe.png")
    hostile = [
        "/etc/passwd",
        str(outside),
        "file://" + str(outside),
        "file:outside.png",
        "~/outside.png",
        "../outside.png",
        "sub/../../outside.png",
        "./sub/../../outside.png",
        "link-out.png",
        "link-etc/passwd",
        "link-zero.png",
        "sub/link-up/../outside.png",
        "pipe.png",
        "sub",
        ".",
        "",
        "C:\\Windows\\win.ini",
        "\\\\server\\share\\x.png",
        "inside.png\x00.txt",
        "%2e%2e/outside.png",
    ]
    result = _import_images(cli, tenant, folder, ["inside.png", "sub/nested.png", *hostile])
    assert result.exit_code == 1
    assert f"rejected {len(hostile)}" in result.output
    stored = tenant.client.get("/v1/tasks", params={"project": "imported"}).json()["docs"]
    assert len(stored) == 2
    home = Path(get_settings().home) / "blobs"
    kept = sorted(path.read_bytes() for path in home.iterdir() if path.is_file())
    assert kept == sorted([PNG, PNG + b"nested"])


def test_image_import_stores_only_media_by_their_bytes(cli, tenant, tmp_path):
    folder = tmp_path / "upload"
    folder.mkdir()
    not_media = {
        "page.png": b"<!doctype html><script>alert(document.cookie)</script>",
        "vector.png": b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>',
        "data.jpg": b'{"json": true}',
        "tool.gif": b"\x7fELF\x02\x01\x01" + b"\x00" * 40,
        "setup.webp": b"MZ\x90\x00" + b"\x00" * 40,
        "bundle.pdf": b"PK\x03\x04" + b"\x00" * 40,
        "empty.png": b"",
        "script.mp3": b"#!/bin/sh\nrm -rf /\n",
    }
    for name, content in not_media.items():
        (folder / name).write_bytes(content)
    result = _import_images(cli, tenant, folder, list(not_media))
    assert f"rejected {len(not_media)}" in result.output
    assert result.output.count("only images, audio, video and PDF documents") == len(not_media)


def test_a_relative_name_is_resolved_inside_its_root_only(tmp_path):
    (tmp_path / "root").mkdir()
    (tmp_path / "root" / "ok.png").write_bytes(PNG)
    assert contained_file("ok.png", tmp_path / "root").read_bytes() == PNG
    for name in ("../root/ok.png/..", "/root/ok.png", "~/ok.png", "file:ok.png", "ok.png\x00"):
        with pytest.raises(Unreachable):
            contained_file(name, tmp_path / "root")


def test_blob_urls_resolve_inside_the_store_only(tmp_path):
    store = BlobStore(tmp_path / "blobs", "http://q.test")
    url = store.store_media(PNG, org_id="org")
    assert store.path_of(url) is not None
    (tmp_path / "quorum.db").write_bytes(SECRET)
    for payload in server_paths(f"sqlite:///{tmp_path / 'quorum.db'}", "http://q.test"):
        assert store.path_of(payload) is None
        assert store.copy_to(payload, tmp_path / "copy") is False
    assert not (tmp_path / "copy").exists()


@pytest.mark.parametrize("name", ["..", ".", "../..", "/tmp", "a/../..", "~", "...", "..\\.."])
@pytest.mark.parametrize("export_format", ["coco", "yolo", "hf"])
def test_a_project_named_like_a_path_exports_only_itself(api, name, export_format):
    """A folder export is written under a name made from the project's; a project named ``..``
    once made the server zip its whole temporary folder into the download."""
    params = {"geometries": {"box": {"objects_to_annotate": ["car"]}}}
    created = api.post(
        "/v1/projects",
        json={"name": name, "type": "imageannotation", "params": {**params, "image_width": 9}},
    )
    assert created.status_code in (200, 409), created.text
    quoted = name.replace("%", "%25").replace("/", "%2F").replace(".", "%2E")
    reply = api.get(
        f"/v1/projects/{quoted}/export", params={"format": export_format, "include": "all"}
    )
    assert reply.status_code == 200, reply.text
    names = zipfile.ZipFile(io.BytesIO(reply.content)).namelist()
    assert len(names) <= 6, names  # the export's own few files, nothing of the server's disk
    assert ".." not in (reply.headers.get("content-disposition") or "")
