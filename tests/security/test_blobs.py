"""Attack table: stored files are inert, and blob names are not a tenant's to choose or guess."""

import hashlib

import httpx
import pytest

from quorum.blobs import MAX_BLOB_BYTES, BlobStore
from quorum.errors import Invalid
from tests.conftest import ThreadedServer, server_settings

MEDIA = {
    "image/jpeg": b"\xff\xd8\xff\xe0\x00\x10JFIF\x00",
    "image/png": b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR",
    "image/gif": b"GIF89a\x01\x00\x01\x00",
    "image/webp": b"RIFF\x24\x00\x00\x00WEBPVP8 ",
    "image/tiff": b"II*\x00\x08\x00\x00\x00",
    "audio/wav": b"RIFF\x24\x00\x00\x00WAVEfmt ",
    "audio/flac": b"fLaC\x00\x00\x00\x22",
    "audio/ogg": b"OggS\x00\x02\x00\x00",
    "audio/mpeg": b"ID3\x04\x00\x00\x00\x00\x00\x00",
    "video/mp4": b"\x00\x00\x00\x18ftypisom\x00\x00\x02\x00",
    "video/webm": b"\x1a\x45\xdf\xa3\x9f\x42\x86\x81",
    "application/pdf": b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n",
}
ACTIVE = [
    b"<!DOCTYPE html><html><script>fetch('/v1/keys')</script>",
    b"<html><body onload=alert(1)>",
    b"  \n<script>alert(1)</script>",
    b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>',
    b"<svg onload=alert(1)>",
    b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><x>&e;</x>',
    b"alert(document.cookie)//",
    b'{"json": "is not media"}',
    b"%!PS-Adobe-3.0\n",  # PostScript runs code in some viewers
    b"\xef\xbb\xbf<html>",  # BOM then markup
    b"\xfe\xff\x00<\x00h\x00t\x00m\x00l",  # UTF-16 markup
    b"MZ\x90\x00\x03\x00",  # Windows executable
    b"\x7fELF\x02\x01\x01\x00",
    b"PK\x03\x04\x14\x00",  # zip (and docx, jar)
    b"Rar!\x1a\x07\x00",
    b"",
]


@pytest.fixture(scope="module")
def media_server(database_url, tmp_path_factory):
    """A server whose blob folder is the test's own (one per backend for this module)."""
    settings = server_settings(
        database_url,
        home=tmp_path_factory.mktemp("home"),
        callback_sender=False,
        lease_sweep_seconds=0,
        export_poll_seconds=0,
    )
    with ThreadedServer(settings) as running:
        yield running


@pytest.mark.parametrize("content_type", sorted(MEDIA))
def test_media_is_stored_by_its_bytes_and_served_inert(media_server, content_type):
    store = BlobStore.for_media(media_server.settings)
    url = store.store_media(MEDIA[content_type] + b"\x00" * 64, org_id="org-a")
    path = url.removeprefix(media_server.settings.public_url)
    reply = httpx.get(media_server.url + path)
    assert reply.status_code == 200
    assert reply.content == MEDIA[content_type] + b"\x00" * 64
    assert reply.headers["content-type"] == content_type
    assert reply.headers["x-content-type-options"] == "nosniff"
    assert reply.headers["content-security-policy"].startswith("sandbox;")


@pytest.mark.parametrize("content", ACTIVE, ids=range(len(ACTIVE)))
def test_anything_but_media_is_refused(tmp_path, content):
    store = BlobStore(tmp_path / "blobs", "http://q.test")
    with pytest.raises(Invalid, match="only images, audio, video and PDF"):
        store.store_media(content, org_id="org-a")
    assert not (tmp_path / "blobs").exists()


@pytest.mark.parametrize(
    "name",
    [
        "page.html",
        "x.svg",
        "{digest}.html",
        "{digest}.svg",
        "{digest}.htm",
        "{digest}.xml",
        "{digest}.js",
        "{digest}",
        "{digest}.PNG",
        "{digest}.png.html",
        ".scratch/{digest}.png",
        "{digest}.png.part",
        "../{digest}.png",
        "..%2F{digest}.png",
        "%2e%2e/quorum.db",
        "{short}.png",
    ],
)
def test_files_the_store_did_not_name_are_never_served(media_server, name):
    """Even a file that reached the blob folder by another way (an older version, an operator's
    copy) is served only under a name the store makes, and only as the type its name says."""
    digest = hashlib.sha256(name.encode()).hexdigest()
    relative = name.format(digest=digest, short=digest[:63])
    home = media_server.settings.home
    (home / "blobs" / ".scratch").mkdir(parents=True, exist_ok=True)
    (home / "quorum.db").write_bytes(b"secret database")
    page = b"<html><script>alert(document.domain)</script></html>"
    (home / "blobs" / relative.replace("%2F", "/").replace("%2e", ".")).write_bytes(page)
    reply = httpx.get(f"{media_server.url}/blobs/{relative}")
    assert reply.status_code == 404
    assert b"script" not in reply.content and b"secret" not in reply.content
    assert reply.headers["content-type"] == "application/json"


def test_a_polyglot_is_served_as_the_image_it_starts_as(media_server):
    polyglot = MEDIA["image/png"] + b"<html><script>alert(1)</script></html>"
    store = BlobStore.for_media(media_server.settings)
    url = store.store_media(polyglot, org_id="org-a")
    reply = httpx.get(media_server.url + url.removeprefix(media_server.settings.public_url))
    assert url.endswith(".png")
    assert reply.headers["content-type"] == "image/png"
    assert reply.headers["x-content-type-options"] == "nosniff"
    assert "sandbox" in reply.headers["content-security-policy"]


def test_blob_names_differ_between_organizations_and_repeat_within_one(tmp_path):
    store = BlobStore(tmp_path / "blobs", "http://q.test", name_key="server secret")
    same = MEDIA["image/png"] + b"shared public image"
    first, again = store.store_media(same, org_id="a"), store.store_media(same, org_id="a")
    other = store.store_media(same, org_id="b")
    assert first == again and first != other
    assert hashlib.sha256(same).hexdigest() not in first + other  # not the bare content hash
    other_key = BlobStore(tmp_path / "blobs", "http://q.test", name_key="another secret")
    assert other_key.store_media(same, org_id="a") not in (first, other)


def test_files_over_the_limit_are_not_stored(tmp_path):
    store = BlobStore(tmp_path / "blobs", "http://q.test")
    with pytest.raises(Invalid, match="over"):
        store.store_media(MEDIA["image/png"] + b"\x00" * MAX_BLOB_BYTES, org_id="a")
