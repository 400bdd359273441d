"""The blob store: media files (images, audio, video, PDF) copied into a directory the app serves.

Where a blob comes from is a tenant's string, so it is reached only through ``quorum.outside``:
a URL is fetched under the network policy, a local file only when an operator's command names
the folder it must stay inside. What is stored is what its bytes are (``sniff_media``), named
with that type's extension, so a blob is never served as a page.

Blob names are capabilities: ``HMAC(secret_key, organization, SHA-256 of the content)``. Within
an organization the same file is stored once; across organizations the names differ, so a
tenant can neither guess another's blob URL nor learn whether another holds a file it has itself.
The URLs do not expire: they are written into tasks, callbacks and the datasets customers keep,
which must stay readable (``docs/security.md`` says why this was chosen over signed URLs).
"""

import hashlib
import hmac
import re
import shutil
from dataclasses import dataclass
from pathlib import Path

from quorum.outside import MEDIA_BY_EXTENSION, OutsideClient, Refused, contained_file, sniff_media
from quorum.settings import Settings

BLOB_ROUTE = "/blobs"
MAX_BLOB_BYTES = 64 * 1024 * 1024
HASH_BLOCK_BYTES = 1024 * 1024
# A stored name: 64 hex digits and one known extension; nothing else is ever a path in the store.
NAME_PATTERN = re.compile(r"[0-9a-f]{64}(\.[a-z0-9]{1,8})?")


@dataclass(frozen=True)
class StoredFile:
    """A file moved into the store: its blob name, size and SHA-256."""

    name: str
    size: int
    sha256: str


class BlobStore:
    """Stores files under ``root`` and names them by a URL under ``base_url``; ``fetcher``, when
    given, is how images named by URL are fetched."""

    def __init__(
        self,
        root: Path,
        base_url: str,
        *,
        name_key: str = "",
        fetcher: OutsideClient | None = None,
    ) -> None:
        self.root = root
        self.base_url = base_url.rstrip("/") + BLOB_ROUTE
        self.name_key = name_key.encode()
        self.fetcher = fetcher

    @classmethod
    def for_media(cls, settings: Settings, fetcher: OutsideClient | None = None) -> "BlobStore":
        """The store of task media, served under ``/blobs``."""
        return cls(
            settings.home / "blobs",
            settings.public_url,
            name_key=settings.secret_key,
            fetcher=fetcher,
        )

    def url_of(self, name: str) -> str:
        return f"{self.base_url}/{name}"

    def file_of(self, name: str) -> Path | None:
        """The stored file of a blob name, if the name is one and the file is there."""
        if not NAME_PATTERN.fullmatch(name):
            return None
        path = self.root / name
        return path if path.is_file() else None

    def path_of(self, url: str) -> Path | None:
        """The local file behind a blob URL of this store, if it is one."""
        prefix = self.base_url + "/"
        return self.file_of(url.removeprefix(prefix)) if url.startswith(prefix) else None

    def store_media(self, data: bytes, *, org_id: str) -> str:
        """Keep ``data`` when its bytes are a media type we store; its blob URL."""
        if len(data) > MAX_BLOB_BYTES:
            raise Refused(f"files over {MAX_BLOB_BYTES} bytes are not stored")
        media = sniff_media(data)
        content_digest = hashlib.sha256(data).hexdigest()
        key = hmac.new(self.name_key, f"{org_id}:{content_digest}".encode(), hashlib.sha256)
        name = key.hexdigest() + media.extension
        target = self.root / name
        if not target.exists():
            self.root.mkdir(parents=True, exist_ok=True)
            partial = target.with_suffix(target.suffix + ".part")
            partial.write_bytes(data)
            partial.replace(target)
        return self.url_of(name)

    def store(self, source: str, *, org_id: str, local_root: Path | None = None) -> str:
        """Copy a media file named by a tenant into the store; its blob URL.

        ``source`` is an http(s) URL (fetched under the network policy; one of this store's own
        URLs is kept as it is) or, only when the operator named ``local_root``, a path relative
        to that folder that stays inside it.
        """
        if source.startswith(("http://", "https://")):
            if self.path_of(source) is not None:
                return source
            if self.fetcher is None:
                raise Refused("images are not fetched here")
            fetched = self.fetcher.get(source, max_bytes=MAX_BLOB_BYTES)
            if not fetched.is_success:
                raise Refused(f"could not fetch {source[:200]}: HTTP {fetched.status_code}")
            return self.store_media(fetched.content, org_id=org_id)
        if local_root is None:
            raise Refused(f"only http and https URLs are fetched, got {source[:200]!r}")
        return self.store_media(contained_file(source, local_root).read_bytes(), org_id=org_id)

    def put_file(self, path: Path, suffix: str) -> StoredFile:
        """Move a finished file (as large as it is) into the store, hashed block by block.

        ``path`` should sit on the store's file system (see ``scratch_dir``) so the move is a
        rename; a file with the same content is already there under the same name. Only files
        the server wrote itself come here (export artifacts, downloaded with a key).
        """
        digest = hashlib.sha256()
        with path.open("rb") as source:
            while block := source.read(HASH_BLOCK_BYTES):
                digest.update(block)
        name = digest.hexdigest() + suffix.lower()
        size = path.stat().st_size
        self.root.mkdir(parents=True, exist_ok=True)
        shutil.move(path, self.root / name)
        return StoredFile(name=name, size=size, sha256=digest.hexdigest())

    def scratch_dir(self) -> Path:
        """Where to write a file before ``put_file``: inside the store, so moving it is a rename."""
        scratch = self.root / ".scratch"
        scratch.mkdir(parents=True, exist_ok=True)
        return scratch

    def copy_to(self, url: str, target: Path) -> bool:
        """Copy the blob behind ``url`` to ``target``; False when it is not in this store."""
        path = self.path_of(url)
        if path is None:
            return False
        shutil.copyfile(path, target)
        return True

    def close(self) -> None:
        if self.fetcher is not None:
            self.fetcher.close()


def media_type_of(name: str) -> str | None:
    """The content type a stored blob is served as; None for a name we never store."""
    if not NAME_PATTERN.fullmatch(name):
        return None
    media = MEDIA_BY_EXTENSION.get(Path(name).suffix)
    return media.name if media else None
