"""The blob store: images copied from files or URLs into a directory the app serves.

Blobs are content-addressed (SHA-256), so importing the same image twice stores it once and every
task that names it shares one URL.
"""

import hashlib
import shutil
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import httpx

from quorum.errors import Invalid

BLOB_ROUTE = "/blobs"
MAX_BLOB_BYTES = 64 * 1024 * 1024
HASH_BLOCK_BYTES = 1024 * 1024


@dataclass(frozen=True)
class StoredFile:
    """A file moved into the store: its blob name, size and SHA-256."""

    name: str
    size: int
    sha256: str


class BlobStore:
    """Stores files under ``root`` and names them by a URL under ``base_url``."""

    def __init__(self, root: Path, base_url: str) -> None:
        self.root = root
        self.base_url = base_url.rstrip("/") + BLOB_ROUTE
        self.http = httpx.Client(timeout=30, follow_redirects=True)

    def url_of(self, name: str) -> str:
        return f"{self.base_url}/{name}"

    def path_of(self, url: str) -> Path | None:
        """The local file behind a blob URL of this store, if it is one."""
        if not url.startswith(self.base_url + "/"):
            return None
        path = self.root / url.removeprefix(self.base_url + "/")
        return path if path.is_file() else None

    def _save(self, data: bytes, suffix: str) -> str:
        name = hashlib.sha256(data).hexdigest() + suffix.lower()
        target = self.root / name
        if not target.exists():
            self.root.mkdir(parents=True, exist_ok=True)
            partial = target.with_suffix(target.suffix + ".part")
            partial.write_bytes(data)
            partial.replace(target)
        return self.url_of(name)

    def store(self, source: str, *, relative_to: Path | None = None) -> str:
        """Copy an image from a URL or a local path into the store; its blob URL."""
        if urlsplit(source).scheme in ("http", "https"):
            if source.startswith(self.base_url + "/"):
                return source
            try:
                response = self.http.get(source)
            except httpx.HTTPError as exc:
                raise Invalid(f"could not fetch {source}: {exc.__class__.__name__}") from None
            if not response.is_success:
                raise Invalid(f"could not fetch {source}: HTTP {response.status_code}")
            if len(response.content) > MAX_BLOB_BYTES:
                raise Invalid(f"{source} is larger than {MAX_BLOB_BYTES} bytes")
            return self._save(response.content, Path(urlsplit(source).path).suffix)
        path = Path(source).expanduser()
        if not path.is_absolute() and relative_to is not None:
            path = relative_to / path
        if not path.is_file():
            raise Invalid(f"no image file at {path}")
        return self._save(path.read_bytes(), path.suffix)

    def put_file(self, path: Path, suffix: str) -> StoredFile:
        """Move a finished file (as large as it is) into the store, hashed block by block.

        ``path`` should sit on the store's file system (see ``scratch_dir``) so the move is a
        rename; a file with the same content is already there under the same name.
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

    def file_of(self, name: str) -> Path | None:
        """The stored file of a blob name, if it is there."""
        path = self.root / name
        return path if "/" not in name and path.is_file() else None

    def copy_to(self, url: str, target: Path) -> bool:
        """Copy the blob behind ``url`` to ``target``; False when it is not in this store."""
        path = self.path_of(url)
        if path is None:
            return False
        shutil.copyfile(path, target)
        return True

    def close(self) -> None:
        self.http.close()
