"""``quorum serve --workers 2`` spreads connections evenly over its two processes, and still
takes new connections when one process is stuck."""

import os
import signal
import socket
import time
from collections.abc import Iterator

import pytest

from tests.conftest import ServeProcess

pytestmark = pytest.mark.slow


@pytest.fixture
def two_process_server(fresh_database_url) -> Iterator[ServeProcess]:
    with ServeProcess(fresh_database_url("sqlite"), workers=2) as server:
        yield server


def _children(pid: int) -> list[int]:
    with open(f"/proc/{pid}/task/{pid}/children") as children:
        return [int(child) for child in children.read().split()]


def _connections_held(pids: list[int], port: int) -> dict[int, int]:
    """How many established connections to ``port`` each process holds (Linux ``/proc``)."""
    inodes = set()
    with open("/proc/net/tcp") as table:
        for line in table.readlines()[1:]:
            fields = line.split()
            local_port = int(fields[1].split(":")[1], 16)
            if local_port == port and fields[3] == "01":  # ESTABLISHED
                inodes.add(fields[9])
    held = {}
    for pid in pids:
        links = [os.readlink(f"/proc/{pid}/fd/{fd}") for fd in os.listdir(f"/proc/{pid}/fd")]
        held[pid] = sum(link.startswith("socket:[") and link[8:-1] in inodes for link in links)
    return held


def _ask_health(connection: socket.socket) -> bytes:
    connection.sendall(b"GET /healthz HTTP/1.1\r\nHost: test\r\n\r\n")
    reply = b""
    while b"\r\n\r\n" not in reply:
        reply += connection.recv(4096)
    return reply


def _open(port: int, count: int) -> list[socket.socket]:
    """``count`` connections opened at once, then each asked for /healthz (so that a process
    has taken each of them)."""
    connections = [socket.create_connection(("127.0.0.1", port)) for _ in range(count)]
    for connection in connections:
        assert _ask_health(connection).startswith(b"HTTP/1.1 200")
    return connections


def _server_processes(server: ServeProcess) -> list[int]:
    """The two processes serving requests (the supervisor's other child tracks resources), once
    both have started: /healthz answers as soon as the first one has."""
    children = _children(server.process.pid)
    processes = [pid for pid in children if "resource_tracker" not in _command_line(pid)]
    assert len(processes) == 2
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        probes = _open(server.port, 2)
        both_serve = all(_connections_held(processes, server.port).values())
        for probe in probes:
            probe.close()
        if both_serve:
            return processes
        time.sleep(0.2)
    raise AssertionError("the second server process did not start serving")


def _command_line(pid: int) -> str:
    with open(f"/proc/{pid}/cmdline", "rb") as cmdline:
        return cmdline.read().decode()


def test_a_burst_of_connections_is_split_evenly(two_process_server):
    processes = _server_processes(two_process_server)
    connections = _open(two_process_server.port, 40)
    held = _connections_held(processes, two_process_server.port)
    assert sum(held.values()) == 40
    assert abs(held[processes[0]] - held[processes[1]]) <= 2, held
    for connection in connections:
        connection.close()


def test_new_connections_are_taken_when_the_other_process_is_stuck(two_process_server):
    processes = _server_processes(two_process_server)
    stuck, working = processes
    os.kill(stuck, signal.SIGSTOP)
    try:
        started = time.monotonic()
        connections = _open(two_process_server.port, 10)
        elapsed = time.monotonic() - started
        held = _connections_held(processes, two_process_server.port)
    finally:
        os.kill(stuck, signal.SIGCONT)
    # The working process left each connection to its idle sibling for 10 ms, then took it.
    assert held[working] == 10
    assert elapsed < 5
    for connection in connections:
        connection.close()
