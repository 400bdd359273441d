"""Connections spread evenly over the processes of ``quorum serve --workers N``.

The processes share one listening socket, and whichever event loop wakes first accepts: uvloop
accepts every connection waiting at once, so a burst of new connections mostly lands on one
process. A worker's browser (or the SDK) keeps its connection alive, and a process serves only
its own connections, so the lopsided split lasts: on the dispatch bench 64 connections split
38/26 or 41/23, both processes ran flat out, and the workers on the crowded one waited half
again as long (next p99 48-65 ms; with an even split, 41-44 ms).

Here each process accepts a connection only while it holds no more connections than its least
loaded sibling; otherwise it leaves the connection to that sibling for a moment, then takes it
anyway (a sibling stuck in a long request must not stall new connections). The processes tell
each other how many connections they hold through one small file each, in a directory that
``quorum serve`` makes for the server's lifetime.

This is an event loop (uvicorn's ``loop`` setting takes a factory): uvicorn calls the loop's
``create_server`` with the shared socket, and this loop answers with its own accepting
listener instead of accepting every waiting connection.
"""

import asyncio
import logging
import os
import socket
import ssl
import struct
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import uvloop

SIBLINGS_DIR_VARIABLE = "QUORUM_SERVER_SIBLINGS_DIR"
# How long a crowded process leaves a new connection to a sibling: longer than a sibling's event
# loop may wait for its interpreter lock while a dispatch round runs (a 5 ms switch interval).
LEAVE_TO_SIBLING_S = 0.01
# Closed connections are noticed when the next one is accepted and at least this often.
RECOUNT_EVERY_S = 0.5
ACCEPT_RETRY_DELAY_S = 1.0
COUNT = struct.Struct("<Q")
log = logging.getLogger(__name__)


@contextmanager
def uvicorn_loop(workers: int) -> Iterator[str]:
    """uvicorn's ``loop`` setting for a server of ``workers`` processes; while open, the
    processes have a directory to share their connection counts in."""
    if workers == 1:
        yield "auto"
        return
    with tempfile.TemporaryDirectory(prefix="quorum-serve-") as siblings:
        os.environ[SIBLINGS_DIR_VARIABLE] = siblings
        yield f"{__name__}:new_event_loop"


def new_event_loop() -> asyncio.AbstractEventLoop:
    """uvicorn's ``loop`` setting: uvloop, accepting in turn with the sibling processes."""
    return BalancedLoop()


class BalancedLoop(uvloop.Loop):  # type: ignore[misc]
    async def create_server(  # type: ignore[override]
        self, protocol_factory: Any, host: Any = None, port: Any = None, **options: Any
    ) -> asyncio.AbstractServer:
        siblings = os.environ.get(SIBLINGS_DIR_VARIABLE)
        sock = options.get("sock")
        if siblings is None or sock is None:
            return await super().create_server(protocol_factory, host, port, **options)
        tls = options.get("ssl")
        listener = BalancedListener(self, sock, protocol_factory, Path(siblings), tls)
        listener.start(options.get("backlog", 100))
        return listener


class BalancedListener(asyncio.AbstractServer):
    """Accepts connections from a listening socket shared with sibling processes, one at a time,
    when this process holds no more connections than any sibling (or after waiting for them)."""

    def __init__(
        self,
        loop: asyncio.AbstractEventLoop,
        sock: socket.socket,
        protocol_factory: Any,
        siblings: Path,
        ssl_context: ssl.SSLContext | None,
    ) -> None:
        self._loop = loop
        self._sock = sock
        self._protocol_factory = protocol_factory
        self._ssl = ssl_context
        self._siblings = siblings
        self._count_file = siblings / str(os.getpid())
        self._count_fd = -1
        self._transports: set[asyncio.BaseTransport] = set()
        self._adopting: set[asyncio.Task[None]] = set()
        self._timer: asyncio.TimerHandle | None = None
        self._recount: asyncio.TimerHandle | None = None
        self._serving = False

    def start(self, backlog: int) -> None:
        self._sock.listen(backlog)
        self._sock.setblocking(False)
        self._count_fd = os.open(self._count_file, os.O_RDWR | os.O_CREAT, 0o600)
        self._serving = True
        self._publish()
        self._loop.add_reader(self._sock.fileno(), self._on_waiting)

    @property
    def connections(self) -> int:
        """Connections this process holds now (closed ones are dropped as they are counted)."""
        self._transports = {t for t in self._transports if not t.is_closing()}
        return len(self._transports) + len(self._adopting)

    def _on_waiting(self) -> None:
        """A connection is waiting: take it, or leave it to a less loaded sibling for a moment."""
        least = self._least_sibling_connections()
        if least is None or self.connections <= least:
            self._accept()
            return
        self._pause(LEAVE_TO_SIBLING_S, then=self._take_anyway)

    def _pause(self, seconds: float, *, then: Callable[[], None]) -> None:
        self._loop.remove_reader(self._sock.fileno())
        self._timer = self._loop.call_later(seconds, then)

    def _take_anyway(self) -> None:
        self._resume()
        self._accept()

    def _resume(self) -> None:
        self._timer = None
        self._loop.add_reader(self._sock.fileno(), self._on_waiting)

    def _accept(self) -> None:
        try:
            connection, _ = self._sock.accept()
        except (BlockingIOError, InterruptedError, ConnectionAbortedError):
            return  # a sibling took it, or the client gave up
        except OSError as error:
            # Out of file descriptors, say: as asyncio does, stop accepting for a second
            # rather than spin on a connection that cannot be taken.
            log.warning("accepting a connection failed: %s", error)
            self._pause(ACCEPT_RETRY_DELAY_S, then=self._resume)
            return
        connection.setblocking(False)
        task = self._loop.create_task(self._adopt(connection))
        self._adopting.add(task)
        task.add_done_callback(self._adopting.discard)
        self._publish()

    async def _adopt(self, connection: socket.socket) -> None:
        try:
            transport, _ = await self._loop.connect_accepted_socket(
                self._protocol_factory, connection, ssl=self._ssl
            )
        except (OSError, ssl.SSLError) as error:
            log.info("a new connection failed before its first request: %s", error)
            connection.close()
            return
        self._transports.add(transport)

    def _publish(self) -> None:
        """Write this process's connection count where its siblings read it, and again soon
        (connections close without telling the listener)."""
        if self._recount is not None:
            self._recount.cancel()
        os.pwrite(self._count_fd, COUNT.pack(self.connections), 0)
        self._recount = self._loop.call_later(RECOUNT_EVERY_S, self._publish)

    def _least_sibling_connections(self) -> int | None:
        """The fewest connections a live sibling holds; None when this process is alone."""
        least = None
        for entry in os.scandir(self._siblings):
            if entry.name == self._count_file.name:
                continue
            try:
                os.kill(int(entry.name), 0)
                with open(entry.path, "rb") as counts:
                    (held,) = COUNT.unpack(counts.read(COUNT.size))
            except ProcessLookupError:  # a sibling that died; the supervisor starts another
                Path(entry.path).unlink(missing_ok=True)
                continue
            except (OSError, ValueError, struct.error):  # just created, or not ours
                continue
            least = held if least is None else min(least, held)
        return least

    # asyncio.AbstractServer, as uvicorn uses it: stop accepting on shutdown.

    def close(self) -> None:
        if not self._serving:
            return
        self._serving = False
        if self._timer is None:
            self._loop.remove_reader(self._sock.fileno())
        else:
            self._timer.cancel()
        if self._recount is not None:
            self._recount.cancel()
        os.close(self._count_fd)
        self._count_file.unlink(missing_ok=True)

    async def wait_closed(self) -> None:
        return None

    def get_loop(self) -> asyncio.AbstractEventLoop:
        return self._loop

    def is_serving(self) -> bool:
        return self._serving
