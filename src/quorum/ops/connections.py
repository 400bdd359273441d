"""The HTTP protocol of ``quorum serve``: uvicorn's httptools protocol, with deadlines on
connections that are still sending a request.

uvicorn bounds only the idle time between requests (``timeout_keep_alive``, armed after a
response). A connection that sends nothing, half a request line, or one header a second is held
for ever, and so is a file descriptor and whatever the headers weigh (httptools has no size
limit; h11's ``h11_max_incomplete_event_size`` caps size, not time). Here a connection waiting
for a request's headers must finish them within ``header_timeout_seconds`` and
``max_header_bytes``, or it is answered 408 / 431 with Quorum's JSON error body and closed.

The body is the ASGI middleware's (``quorum.api.middleware.ReadBodyFirst``): it reads each body
whole, against a deadline and a minimum rate, before the request takes a slot. Here the
connection stays *pending* until its body has arrived, and at most ``pending_connections``
connections per process are pending: past that the one pending the longest is closed, so
stalled clients cannot take every file descriptor while those that have sent their request are
served.
"""

import asyncio
import json
import weakref
from typing import Any

from uvicorn.config import Config
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
from uvicorn.server import ServerState

from quorum.ops.deadlines import DeadlineSweep
from quorum.settings import get_settings

# One sweep per event loop (uvicorn runs one loop per process; tests may run several).
_pending_by_loop: "weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, DeadlineSweep]" = (
    weakref.WeakKeyDictionary()
)


def error_response(status: int, reason: bytes, message: str) -> bytes:
    """A whole HTTP/1.1 response with Quorum's JSON error body, closing the connection."""
    body = json.dumps({"status_code": status, "error": message}).encode()
    return b"".join(
        [
            b"HTTP/1.1 %d %s\r\n" % (status, reason),
            b"content-type: application/json\r\n",
            b"content-length: %d\r\n" % len(body),
            b"connection: close\r\n\r\n",
            body,
        ]
    )


class DeadlineHttpProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol; a connection is pending from the first byte of a request
    (or from its opening) until the request's body is complete, and its headers are due within
    the header timeout."""

    def __init__(
        self,
        config: Config,
        server_state: ServerState,
        app_state: dict[str, Any],
        _loop: asyncio.AbstractEventLoop | None = None,
    ) -> None:
        super().__init__(config, server_state, app_state, _loop)
        settings = get_settings()
        self.header_timeout_s = settings.header_timeout_seconds
        self.max_header_bytes = settings.max_header_bytes
        self.max_pending = settings.pending_connections
        self.pending = _pending_by_loop.get(self.loop)
        if self.pending is None:
            self.pending = _pending_by_loop[self.loop] = DeadlineSweep(self.loop)
        self.awaiting_headers = False
        self.awaiting_since = 0.0
        self.header_bytes = 0  # sent in earlier reads, the request's headers still incomplete
        self.read_bytes = 0  # in the read being parsed
        self.refused = False

    def _await_request(self) -> None:
        """From now on the connection is pending, its headers due within the header timeout."""
        self.awaiting_headers = True
        self.awaiting_since = self.loop.time()
        self.header_bytes = 0
        self.pending.watch(self)
        if len(self.pending) > self.max_pending:
            oldest = self.pending.pop_oldest()
            assert isinstance(oldest, DeadlineHttpProtocol)
            oldest.evict()

    def _between_requests(self) -> bool:
        return self.cycle is None or self.cycle.response_complete

    # asyncio.Protocol

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._await_request()

    def data_received(self, data: bytes) -> None:
        if not self.awaiting_headers and self._between_requests():
            self._await_request()
        self.read_bytes = len(data)
        super().data_received(data)
        if self.awaiting_headers and not self.transport.is_closing():
            self.header_bytes += len(data)
            if self.header_bytes > self.max_header_bytes:
                self._refuse_headers_too_large()

    def connection_lost(self, exc: Exception | None) -> None:
        self.pending.unwatch(self)
        super().connection_lost(exc)

    # httptools parser callbacks

    def on_message_begin(self) -> None:
        super().on_message_begin()
        if not self.awaiting_headers:  # a pipelined request, or one after a keep-alive pause
            self._await_request()

    def on_headers_complete(self) -> None:
        # Counting exactly only when this read and the earlier ones could pass the limit.
        if self.header_bytes + self.read_bytes > self.max_header_bytes:
            size = len(self.url) + sum(len(name) + len(value) for name, value in self.headers)
            if size > self.max_header_bytes:
                self._refuse_headers_too_large()
                return
        self.awaiting_headers = False
        super().on_headers_complete()

    def on_body(self, body: bytes) -> None:
        if not self.refused:
            super().on_body(body)

    def on_message_complete(self) -> None:
        self.pending.unwatch(self)
        if not self.refused:
            super().on_message_complete()

    def on_response_complete(self) -> None:
        if not self.awaiting_headers:  # else it is the next request's headers that are due
            self.pending.unwatch(self)  # answered before its body was read (413, say)
        super().on_response_complete()

    # Watched, by the loop's sweep

    def overdue(self, now: float) -> bool:
        return self.awaiting_headers and now - self.awaiting_since > self.header_timeout_s

    def expire(self) -> None:
        """Its headers are late: close the connection, telling a client that began a request."""
        message = f"request headers not received within {self.header_timeout_s:g} s"
        self._refuse(error_response(408, b"Request Timeout", message))

    def evict(self) -> None:
        """Too many connections are pending and this one has waited longest: close it."""
        message = "too many connections are sending requests; retry shortly"
        self._refuse(error_response(503, b"Service Unavailable", message))

    def _refuse_headers_too_large(self) -> None:
        self.pending.unwatch(self)
        message = f"request line and headers exceed {self.max_header_bytes} bytes"
        self._refuse(error_response(431, b"Request Header Fields Too Large", message))

    def _refuse(self, response: bytes) -> None:
        """Close the connection, answering first if a request has begun and no response to an
        earlier one is under way."""
        began = self.awaiting_headers and self.header_bytes + self.read_bytes > 0
        self.awaiting_headers = False
        self.refused = True
        if self.transport.is_closing():
            return
        if began and self._between_requests():
            self.transport.write(response)
        self.transport.close()
