"""ASGI middleware: raw-path routing of encoded names, the request body size limit, and the
limit on requests in flight."""

import asyncio
import json
from typing import Any
from urllib.parse import unquote

from starlette.types import ASGIApp, Message, Receive, Scope, Send


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


async def _send_json(send: Send, status: int, body: dict[str, Any]) -> None:
    payload = json.dumps(body).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(payload)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": payload})


class BodySizeLimit:
    """Refuse request bodies over the limit with 413, by Content-Length or while streaming.

    For a streamed body the 413 is sent as soon as the limit is passed; the app then sees a
    disconnect, and whatever it tries to send afterwards is dropped.
    """

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        error = {"status_code": 413, "error": f"request body exceeds {self.max_bytes} bytes"}
        for name, value in scope.get("headers", []):
            if name == b"content-length":
                try:
                    too_big = int(value) > self.max_bytes
                except ValueError:
                    await _send_json(send, 400, {"status_code": 400, "error": "bad Content-Length"})
                    return
                if too_big:
                    await _send_json(send, 413, error)
                    return
        received = 0
        started = False
        refused = False

        async def limited_receive() -> Message:
            nonlocal received, refused
            if refused:
                return {"type": "http.disconnect"}
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    refused = True
                    if not started:
                        await _send_json(send, 413, error)
                    return {"type": "http.disconnect"}
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if refused:
                return
            started = started or message["type"] == "http.response.start"
            await send(message)

        await self.app(scope, limited_receive, tracking_send)


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
