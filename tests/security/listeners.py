"""Real local listeners for the security tests: a canary that records every connection made to
it (so a test proves that no probe arrived), and small HTTP servers scripted to misbehave."""

import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Canary:
    """A TCP listener on ``host`` that answers any request with 200 and counts connections.

    No test of a guard may ever see ``connections`` grow: each connection is a request the
    server made to where it should not have.
    """

    host: str = "127.0.0.1"
    port: int = 0
    connections: list[str] = field(default_factory=list)
    sock: socket.socket | None = None
    stopping: threading.Event = field(default_factory=threading.Event)

    def __enter__(self) -> "Canary":
        family = socket.AF_INET6 if ":" in self.host else socket.AF_INET
        self.sock = socket.socket(family, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind((self.host, self.port))
        self.port = self.sock.getsockname()[1]
        self.sock.listen(64)
        self.sock.settimeout(0.1)
        threading.Thread(target=self._serve, daemon=True).start()
        return self

    def _serve(self) -> None:
        assert self.sock is not None
        while not self.stopping.is_set():
            try:
                connection, peer = self.sock.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            self.connections.append(str(peer[0]))
            with connection:
                connection.settimeout(1)
                try:
                    connection.recv(65536)
                    connection.sendall(
                        b"HTTP/1.1 200 OK\r\nContent-Type: image/png\r\nContent-Length: 16\r\n"
                        b"Connection: close\r\n\r\n\x89PNG\r\n\x1a\ncanary!!"
                    )
                except OSError:
                    pass

    def __exit__(self, *exc: object) -> None:
        self.stopping.set()
        if self.sock is not None:
            self.sock.close()


Handler = Callable[[BaseHTTPRequestHandler], None]


class ScriptedServer:
    """A real HTTP/1.1 server on ``host`` whose GET and POST answers come from ``handle``."""

    def __init__(self, handle: Handler, host: str = "127.0.0.1", port: int = 0) -> None:
        class RequestHandler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:
                handle(self)

            def do_POST(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                self.rfile.read(length)
                handle(self)

            def log_message(self, *args: object) -> None:
                pass

        self.httpd = ThreadingHTTPServer((host, port), RequestHandler)
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]
        self.url = f"http://{host}:{self.port}"

    def __enter__(self) -> "ScriptedServer":
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def answer(handler: BaseHTTPRequestHandler, status: int, body: bytes = b"", **headers: str) -> None:
    handler.send_response(status)
    for name, value in {"Content-Length": str(len(body)), **headers}.items():
        handler.send_header(name.replace("_", "-"), value)
    handler.end_headers()
    handler.wfile.write(body)


def wait_until(condition: Callable[[], bool], timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s")
        time.sleep(0.05)
