"""The Quorum Python SDK: ``Client`` (sync) and ``AsyncClient``, over httpx.

Every method maps to one ``/v1`` endpoint and returns the server's own pydantic models. Requests
that hit a rate limit (429) or a transient server failure (502, 503, 504, or a connection error)
are retried with exponential backoff and full jitter, honoring ``Retry-After``. Paginated lists
are iterators that follow ``next_token`` lazily.

    client = quorum.Client("live_…", "http://127.0.0.1:8000")
    client.create_project("sentiment", "categorization", params={"categories": ["+", "-"]})
    report = client.import_tasks("sentiment", ({"attachment": t} for t in texts))
    for task in client.tasks(project="sentiment", status="completed"):
        ...
"""

import asyncio
import random
import time
from collections.abc import AsyncIterator, Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import httpx
from pydantic import BaseModel

from quorum.callbacks.schemas import CallbackEventDetail, CallbackEventPage, CallbackEventRead
from quorum.exports.schemas import ExportJobPage, ExportJobRead
from quorum.tasks.schemas import BatchRead, BatchStatusRead, ProjectRead, TaskPage, TaskRead

RETRY_STATUSES = frozenset({429, 502, 503, 504})
EXPORT_DONE = frozenset({"succeeded", "failed"})
IMPORT_CHUNK_ROWS = 1_000
M = TypeVar("M", bound=BaseModel)


class QuorumError(Exception):
    """The server refused a request; ``status_code`` and the server's ``error`` message."""

    def __init__(self, status_code: int, message: str, body: Any = None) -> None:
        super().__init__(f"{status_code}: {message}")
        self.status_code = status_code
        self.message = message
        self.body = body


@dataclass
class RowError:
    line: int
    reason: str


@dataclass
class ImportReport:
    created: int = 0
    existing: int = 0
    rejected: list[RowError] = field(default_factory=list)


def _raise_for(response: httpx.Response) -> None:
    if response.is_success:
        return
    try:
        body = response.json()
        message = body.get("error", response.text)
    except ValueError:
        body, message = None, response.text
    raise QuorumError(response.status_code, message, body)


def _retry_delay(attempt: int, response: httpx.Response | None, base: float, cap: float) -> float:
    """Retry-After when the server gives one, else full-jitter exponential backoff."""
    if response is not None and "retry-after" in response.headers:
        try:
            return min(cap, float(response.headers["retry-after"]))
        except ValueError:
            pass
    return random.uniform(0, min(cap, base * 2**attempt))


def _merge(report: ImportReport, body: dict[str, Any]) -> None:
    report.created += body["created"]
    report.existing += body["existing"]
    report.rejected.extend(RowError(**e) for e in body["rejected"])


def _chunks(rows: Iterable[dict[str, Any]], size: int) -> Iterator[list[dict[str, Any]]]:
    chunk: list[dict[str, Any]] = []
    for row in rows:
        chunk.append(dict(row))
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _export_job_body(
    project: str, export_format: str, batch: str | None, include: str, callback_url: str | None
) -> dict[str, Any]:
    body = {"project": project, "format": export_format, "include": include, "batch": batch}
    return {**body, "callback_url": callback_url}


def _quote(name: str) -> str:
    return name.replace("%", "%25").replace("/", "%2F")


class _Base:
    def __init__(
        self,
        api_key: str,
        base_url: str = "http://127.0.0.1:8000",
        *,
        timeout: float = 60.0,
        max_retries: int = 5,
        backoff_seconds: float = 0.5,
        backoff_max_seconds: float = 30.0,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.auth = (api_key, "")
        self.timeout = timeout
        self.max_retries = max_retries
        self.backoff_seconds = backoff_seconds
        self.backoff_max_seconds = backoff_max_seconds


class Client(_Base):
    """Synchronous client; use as a context manager or call ``close()``."""

    def __init__(self, api_key: str, base_url: str = "http://127.0.0.1:8000", **options: Any):
        super().__init__(api_key, base_url, **options)
        self.http = httpx.Client(base_url=self.base_url, auth=self.auth, timeout=self.timeout)

    def __enter__(self) -> "Client":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self.http.close()

    def request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        """One call with retries on 429/5xx and connection errors; raises ``QuorumError``."""
        for attempt in range(self.max_retries + 1):
            response = None
            try:
                response = self.http.request(method, path, **kwargs)
            except httpx.TransportError:
                if attempt == self.max_retries:
                    raise
            if response is not None and (
                response.status_code not in RETRY_STATUSES or attempt == self.max_retries
            ):
                _raise_for(response)
                return response
            time.sleep(
                _retry_delay(attempt, response, self.backoff_seconds, self.backoff_max_seconds)
            )
        raise AssertionError("unreachable")

    def _get(self, model: type[M], path: str, **params: Any) -> M:
        return model.model_validate(self.request("GET", path, params=params).json())

    def _post(self, model: type[M], path: str, body: Any = None) -> M:
        return model.model_validate(self.request("POST", path, json=body).json())

    # Projects and batches

    def create_project(
        self, name: str, task_type: str, *, params: dict[str, Any] | None = None, **extra: Any
    ) -> ProjectRead:
        body = {"name": name, "type": task_type, "params": params, **extra}
        return self._post(ProjectRead, "/v1/projects", body)

    def get_project(self, name: str) -> ProjectRead:
        return self._get(ProjectRead, f"/v1/projects/{_quote(name)}")

    def projects(self) -> list[ProjectRead]:
        return [ProjectRead.model_validate(p) for p in self.request("GET", "/v1/projects").json()]

    def create_batch(self, name: str, project: str, **extra: Any) -> BatchRead:
        return self._post(BatchRead, "/v1/batches", {"name": name, "project": project, **extra})

    def finalize_batch(self, name: str) -> BatchRead:
        return self._post(BatchRead, f"/v1/batches/{_quote(name)}/finalize")

    def batch_status(self, name: str) -> BatchStatusRead:
        return self._get(BatchStatusRead, f"/v1/batches/{_quote(name)}/status")

    def batches(self, **filters: Any) -> Iterator[BatchRead]:
        offset = 0
        while True:
            page = self.request("GET", "/v1/batches", params={**filters, "offset": offset}).json()
            yield from (BatchRead.model_validate(b) for b in page["docs"])
            offset += len(page["docs"])
            if not page["has_more"]:
                return

    # Tasks

    def create_task(self, task_type: str, **body: Any) -> TaskRead:
        return self._post(TaskRead, f"/v1/task/{task_type}", body)

    def get_task(self, task_id: str) -> TaskRead:
        return self._get(TaskRead, f"/v1/task/{task_id}")

    def cancel_task(self, task_id: str) -> TaskRead:
        return self._post(TaskRead, f"/v1/task/{task_id}/cancel")

    def tasks(self, **filters: Any) -> Iterator[TaskRead]:
        """Every task matching the filters of ``GET /v1/tasks``, page after page."""
        token = None
        while True:
            params = {**filters, **({"next_token": token} if token else {})}
            page = self._get(TaskPage, "/v1/tasks", **params)
            yield from (TaskRead.model_validate(doc) for doc in page.docs)
            if not page.next_token:
                return
            token = page.next_token

    def import_tasks(
        self,
        project: str,
        rows: Iterable[dict[str, Any]],
        *,
        batch: str | None = None,
        mapping: dict[str, str] | None = None,
        chunk_rows: int = IMPORT_CHUNK_ROWS,
    ) -> ImportReport:
        """Create tasks from any iterable of dicts (a list, a generator, a ``datasets.Dataset``)."""
        report = ImportReport()
        line = 1
        for chunk in _chunks(rows, chunk_rows):
            body = {"rows": chunk, "batch": batch, "mapping": mapping, "first_line": line}
            response = self.request("POST", f"/v1/projects/{_quote(project)}/import", json=body)
            _merge(report, response.json())
            line += len(chunk)
        return report

    def export(
        self,
        project: str,
        export_format: str,
        target: str | Path,
        *,
        batch: str | None = None,
        include: str = "accepted",
    ) -> Path:
        """Download an export to ``target`` as it streams (folder formats arrive as a zip)."""
        params = {"format": export_format, "include": include}
        if batch is not None:
            params["batch"] = batch
        target = Path(target)
        path = f"/v1/projects/{_quote(project)}/export"
        with self.http.stream("GET", path, params=params) as response:
            if not response.is_success:
                response.read()
                _raise_for(response)
            with target.open("wb") as out:
                for block in response.iter_bytes():
                    out.write(block)
        return target

    # Export jobs

    def create_export_job(
        self,
        project: str,
        export_format: str,
        *,
        batch: str | None = None,
        include: str = "accepted",
        callback_url: str | None = None,
    ) -> ExportJobRead:
        """Queue an export that runs in the background (see ``wait_for_export``)."""
        body = _export_job_body(project, export_format, batch, include, callback_url)
        return self._post(ExportJobRead, "/v1/exports", body)

    def export_job(self, export_id: str) -> ExportJobRead:
        return self._get(ExportJobRead, f"/v1/exports/{export_id}")

    def export_jobs(self, **filters: Any) -> Iterator[ExportJobRead]:
        """Export jobs newest first (filters: ``project``, ``state``), page after page."""
        token = None
        while True:
            params = {**filters, **({"next_token": token} if token else {})}
            page = self._get(ExportJobPage, "/v1/exports", **params)
            yield from page.docs
            if not page.next_token:
                return
            token = page.next_token

    def wait_for_export(
        self,
        export_id: str,
        *,
        timeout: float = 3600.0,
        poll_seconds: float = 0.5,
        on_progress: Callable[[ExportJobRead], None] | None = None,
    ) -> ExportJobRead:
        """Poll until the job succeeded or failed; ``on_progress`` sees each state polled."""
        deadline = time.monotonic() + timeout
        while True:
            job = self.export_job(export_id)
            if on_progress is not None:
                on_progress(job)
            if job.state in EXPORT_DONE:
                return job
            if time.monotonic() > deadline:
                raise TimeoutError(f"export job {export_id} is still {job.state}")
            time.sleep(poll_seconds)

    def download_export(self, export_id: str, target: str | Path) -> Path:
        """Stream a finished job's artifact to ``target``."""
        target = Path(target)
        with self.http.stream("GET", f"/v1/exports/{export_id}/download") as response:
            if not response.is_success:
                response.read()
                _raise_for(response)
            with target.open("wb") as out:
                for block in response.iter_bytes():
                    out.write(block)
        return target

    # Callbacks

    def callbacks(self, state: str | None = None) -> Iterator[CallbackEventRead]:
        token = None
        while True:
            params = {k: v for k, v in (("state", state), ("next_token", token)) if v}
            page = self._get(CallbackEventPage, "/v1/callbacks", **params)
            yield from page.docs
            if not page.next_token:
                return
            token = page.next_token

    def callback(self, event_id: str) -> CallbackEventDetail:
        return self._get(CallbackEventDetail, f"/v1/callbacks/{event_id}")

    def redeliver_callback(self, event_id: str) -> CallbackEventRead:
        return self._post(CallbackEventRead, f"/v1/callbacks/{event_id}/redeliver")


class AsyncClient(_Base):
    """Asynchronous client with the same methods as ``Client``, awaited."""

    def __init__(self, api_key: str, base_url: str = "http://127.0.0.1:8000", **options: Any):
        super().__init__(api_key, base_url, **options)
        self.http = httpx.AsyncClient(base_url=self.base_url, auth=self.auth, timeout=self.timeout)

    async def __aenter__(self) -> "AsyncClient":
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self.http.aclose()

    async def request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        """One call with retries on 429/5xx and connection errors; raises ``QuorumError``."""
        for attempt in range(self.max_retries + 1):
            response = None
            try:
                response = await self.http.request(method, path, **kwargs)
            except httpx.TransportError:
                if attempt == self.max_retries:
                    raise
            if response is not None and (
                response.status_code not in RETRY_STATUSES or attempt == self.max_retries
            ):
                _raise_for(response)
                return response
            await asyncio.sleep(
                _retry_delay(attempt, response, self.backoff_seconds, self.backoff_max_seconds)
            )
        raise AssertionError("unreachable")

    async def _get(self, model: type[M], path: str, **params: Any) -> M:
        return model.model_validate((await self.request("GET", path, params=params)).json())

    async def _post(self, model: type[M], path: str, body: Any = None) -> M:
        return model.model_validate((await self.request("POST", path, json=body)).json())

    async def create_project(
        self, name: str, task_type: str, *, params: dict[str, Any] | None = None, **extra: Any
    ) -> ProjectRead:
        body = {"name": name, "type": task_type, "params": params, **extra}
        return await self._post(ProjectRead, "/v1/projects", body)

    async def get_project(self, name: str) -> ProjectRead:
        return await self._get(ProjectRead, f"/v1/projects/{_quote(name)}")

    async def create_batch(self, name: str, project: str, **extra: Any) -> BatchRead:
        body = {"name": name, "project": project, **extra}
        return await self._post(BatchRead, "/v1/batches", body)

    async def finalize_batch(self, name: str) -> BatchRead:
        return await self._post(BatchRead, f"/v1/batches/{_quote(name)}/finalize")

    async def batch_status(self, name: str) -> BatchStatusRead:
        return await self._get(BatchStatusRead, f"/v1/batches/{_quote(name)}/status")

    async def create_task(self, task_type: str, **body: Any) -> TaskRead:
        return await self._post(TaskRead, f"/v1/task/{task_type}", body)

    async def get_task(self, task_id: str) -> TaskRead:
        return await self._get(TaskRead, f"/v1/task/{task_id}")

    async def tasks(self, **filters: Any) -> AsyncIterator[TaskRead]:
        """Every task matching the filters of ``GET /v1/tasks``, page after page."""
        token = None
        while True:
            params = {**filters, **({"next_token": token} if token else {})}
            page = await self._get(TaskPage, "/v1/tasks", **params)
            for doc in page.docs:
                yield TaskRead.model_validate(doc)
            if not page.next_token:
                return
            token = page.next_token

    async def import_tasks(
        self,
        project: str,
        rows: Iterable[dict[str, Any]],
        *,
        batch: str | None = None,
        mapping: dict[str, str] | None = None,
        chunk_rows: int = IMPORT_CHUNK_ROWS,
    ) -> ImportReport:
        """Create tasks from any iterable of dicts, a chunk per request."""
        report = ImportReport()
        line = 1
        for chunk in _chunks(rows, chunk_rows):
            body = {"rows": chunk, "batch": batch, "mapping": mapping, "first_line": line}
            path = f"/v1/projects/{_quote(project)}/import"
            _merge(report, (await self.request("POST", path, json=body)).json())
            line += len(chunk)
        return report

    async def create_export_job(
        self,
        project: str,
        export_format: str,
        *,
        batch: str | None = None,
        include: str = "accepted",
        callback_url: str | None = None,
    ) -> ExportJobRead:
        """Queue an export that runs in the background (see ``wait_for_export``)."""
        body = _export_job_body(project, export_format, batch, include, callback_url)
        return await self._post(ExportJobRead, "/v1/exports", body)

    async def export_job(self, export_id: str) -> ExportJobRead:
        return await self._get(ExportJobRead, f"/v1/exports/{export_id}")

    async def export_jobs(self, **filters: Any) -> AsyncIterator[ExportJobRead]:
        """Export jobs newest first (filters: ``project``, ``state``), page after page."""
        token = None
        while True:
            params = {**filters, **({"next_token": token} if token else {})}
            page = await self._get(ExportJobPage, "/v1/exports", **params)
            for job in page.docs:
                yield job
            if not page.next_token:
                return
            token = page.next_token

    async def wait_for_export(
        self,
        export_id: str,
        *,
        timeout: float = 3600.0,
        poll_seconds: float = 0.5,
        on_progress: Callable[[ExportJobRead], None] | None = None,
    ) -> ExportJobRead:
        """Poll until the job succeeded or failed; ``on_progress`` sees each state polled."""
        deadline = time.monotonic() + timeout
        while True:
            job = await self.export_job(export_id)
            if on_progress is not None:
                on_progress(job)
            if job.state in EXPORT_DONE:
                return job
            if time.monotonic() > deadline:
                raise TimeoutError(f"export job {export_id} is still {job.state}")
            await asyncio.sleep(poll_seconds)

    async def download_export(self, export_id: str, target: str | Path) -> Path:
        """Stream a finished job's artifact to ``target``."""
        target = Path(target)
        async with self.http.stream("GET", f"/v1/exports/{export_id}/download") as response:
            if not response.is_success:
                await response.aread()
                _raise_for(response)
            with target.open("wb") as out:
                async for block in response.aiter_bytes():
                    out.write(block)
        return target

    async def callbacks(self, state: str | None = None) -> AsyncIterator[CallbackEventRead]:
        token = None
        while True:
            params = {k: v for k, v in (("state", state), ("next_token", token)) if v}
            page = await self._get(CallbackEventPage, "/v1/callbacks", **params)
            for event in page.docs:
                yield event
            if not page.next_token:
                return
            token = page.next_token

    async def redeliver_callback(self, event_id: str) -> CallbackEventRead:
        return await self._post(CallbackEventRead, f"/v1/callbacks/{event_id}/redeliver")
