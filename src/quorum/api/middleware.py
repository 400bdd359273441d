"""ASGI middleware: raw-path routing of encoded names, reading request bodies whole (in time,
within the size limit) before anything else, and the limit on requests in flight."""

import asyncio
import json
from typing import Any
from urllib.parse import unquote

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from quorum.ops.deadlines import DeadlineSweep


class RawPathSegments:
    """Route on the raw path so that a name containing "/" (sent as %2F) stays one segment.

    Servers decode %2F into "/" before routing, which would split ``projects/a%2Fb``. We decode each
    raw segment ourselves and re-encode only "%" and "/", which ``PathName`` decodes again.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        raw = scope.get("raw_path")
        if scope["type"] == "http" and raw and b"%" in raw:
            raw_path = raw.decode("latin-1").split("?", 1)[0]
            segments = [
                unquote(segment).replace("%", "%25").replace("/", "%2F")
                for segment in raw_path.split("/")
            ]
            scope = {**scope, "path": "/".join(segments)}
        await self.app(scope, receive, send)


async def _send_json(send: Send, status: int, body: dict[str, Any], *, close: bool = False) -> None:
    payload = json.dumps(body).encode()
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(payload)).encode()),
    ]
    if close:  # the rest of the request is still on the wire: the connection cannot be reused
        headers.append((b"connection", b"close"))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": payload})


class _Arrival:
    """A body being read: due whole by ``deadline``, and at ``min_rate`` on average once
    ``grace_until`` has passed. Watched by a ``DeadlineSweep``, which cancels the reading task
    when it is overdue."""

    __slots__ = ("deadline", "expired", "grace_until", "min_rate", "received", "started", "task")

    def __init__(self, task: asyncio.Task[Any], now: float, limits: "ReadBodyFirst") -> None:
        self.task = task
        self.started = now
        self.grace_until = now + limits.grace_s
        self.deadline = now + limits.timeout_s
        self.min_rate = limits.min_bytes_per_s
        self.received = 0
        self.expired = False

    def overdue(self, now: float) -> bool:
        if now > self.deadline:
            return True
        return now > self.grace_until and self.received < self.min_rate * (now - self.started)

    def expire(self) -> None:
        self.expired = True
        self.task.cancel()


class ReadBodyFirst:
    """Read each request's whole body before the rest of the app sees the request.

    The layers inside (the request slots of ``ConcurrencyLimit`` above all) then hold only
    requests that have arrived: a client announcing a body and sending it a byte at a time
    holds nothing but its connection. A body is refused while it arrives: over ``max_bytes``
    with 413 (by Content-Length, or as it streams), not whole within ``timeout_s`` or slower
    than ``min_bytes_per_s`` on average after ``grace_s`` with 408, and with 503 while the
    bodies held by this process's requests would pass ``buffer_bytes``; each refusal closes the
    connection. Deadlines are kept by a sweep (``quorum.ops.deadlines``), not a timer per
    request: a body that comes in one packet, as next and submit do, costs one ``receive``.
    """

    def __init__(
        self,
        app: ASGIApp,
        *,
        max_bytes: int,
        timeout_s: float,
        grace_s: float,
        min_bytes_per_s: float,
        buffer_bytes: int,
    ) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.timeout_s = timeout_s
        self.grace_s = grace_s
        self.min_bytes_per_s = min_bytes_per_s
        self.buffer_bytes = buffer_bytes
        self.buffered = 0
        self.sweep: DeadlineSweep | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        has_body = False
        for name, value in scope["headers"]:
            if name == b"content-length":
                try:
                    length = int(value)
                except ValueError:
                    await _send_json(
                        send, 400, {"status_code": 400, "error": "bad Content-Length"}, close=True
                    )
                    return
                if length > self.max_bytes:
                    error = self._too_large()
                    await _send_json(send, 413, {"status_code": 413, "error": error}, close=True)
                    return
                has_body = has_body or length > 0
            elif name == b"transfer-encoding":
                has_body = True
        if not has_body:
            await self.app(scope, receive, send)
            return
        held = 0
        try:
            body = await self._read(receive, send)
            if body is None:
                return
            held = len(body)
            await self.app(scope, replay_body(body, receive), send)
        finally:
            self.buffered -= held

    async def _read(self, receive: Receive, send: Send) -> bytes | None:
        """The whole body, counted in ``buffered``; None when the client left or was refused
        (and answered)."""
        if self.sweep is None:
            self.sweep = DeadlineSweep(asyncio.get_running_loop())
        task = asyncio.current_task()
        assert task is not None
        arrival = _Arrival(task, self.sweep.loop.time(), self)
        chunks: list[bytes] = []
        refusal: tuple[int, str] | None = None
        self.sweep.watch(arrival)
        try:
            while True:
                message = await receive()
                if message["type"] != "http.request":
                    self.buffered -= arrival.received
                    return None  # the client left
                chunk = message.get("body", b"")
                if arrival.received + len(chunk) > self.max_bytes:
                    refusal = 413, self._too_large()
                    break
                if self.buffered + len(chunk) > self.buffer_bytes:
                    refusal = 503, "the server is receiving too many request bodies; retry shortly"
                    break
                arrival.received += len(chunk)
                self.buffered += len(chunk)
                chunks.append(chunk)
                if not message.get("more_body", False):
                    return chunks[0] if len(chunks) == 1 else b"".join(chunks)
        except asyncio.CancelledError:
            if not arrival.expired or task.uncancel() > 0:
                self.buffered -= arrival.received
                raise
            refusal = (
                408,
                (
                    f"request body not received in time: within {self.timeout_s:g} s, at "
                    f"{self.min_bytes_per_s:g} bytes/s or more after {self.grace_s:g} s"
                ),
            )
        finally:
            self.sweep.unwatch(arrival)
        # Refused: answered out of the sweep's watch, so that a deadline cannot cut the answer.
        self.buffered -= arrival.received
        status, error = refusal
        await _send_json(send, status, {"status_code": status, "error": error}, close=True)
        return None

    def _too_large(self) -> str:
        return f"request body exceeds {self.max_bytes} bytes"


def replay_body(body: bytes, receive: Receive) -> Receive:
    """The request's body as one message, then the connection's own messages (a disconnect)."""
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if sent:
            return await receive()
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    return replay


class ConcurrencyLimit:
    """Admit at most ``limit`` requests at once; the rest wait here, holding nothing.

    A request holds a pooled database connection between the thread hops of its dependencies and
    its endpoint. With more requests in flight than the pool has connections, threads block on the
    pool while the requests that hold connections wait for a thread: under load that stalls until
    the pool's timeout. Queueing requests before they touch the database keeps both in balance.
    """

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app = app
        self.slots = asyncio.Semaphore(limit)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        async with self.slots:
            await self.app(scope, receive, send)
