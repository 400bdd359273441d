"""Attack table: tenant-named URLs never make the server reach what is not public.

Loopback is probed for real (a canary listener records any connection); other internal ranges
are judged without a connection attempt, since this machine must never send them traffic.
"""

import ipaddress
import json
import socket
import time
import uuid

import httpx
import pytest
from sqlalchemy import select

from quorum.accounts import service as accounts
from quorum.db import create_db_engine, session_factory, transaction
from quorum.db.migrate import upgrade
from quorum.outside import NetworkPolicy, OutsideClient, Refused, Unreachable, is_public
from quorum.tasks import service as tasks
from quorum.tasks.models import Task
from tests.conftest import ThreadedServer, server_settings
from tests.factories import TASK_PARAMS, create_project
from tests.security.listeners import Canary, ScriptedServer, answer, wait_until

# Every spelling of this machine's loopback that a resolver or a URL parser accepts.
LOOPBACK_HOSTS = [
    "127.0.0.1",
    "localhost",
    "LocalHost",
    "127.1",
    "127.0.1",
    "127.000.000.001",
    "0177.0.0.1",
    "0x7f.0.0.1",
    "0x7f000001",
    "2130706433",
    "017700000001",
    "0",
    "0.0.0.0",
    "[::1]",
    "[0:0:0:0:0:0:0:1]",
    "[::ffff:127.0.0.1]",
    "[::ffff:7f00:1]",
    "[0:0:0:0:0:ffff:127.0.0.1]",
    "[::]",
]
LOOPBACK_URL_SHAPES = [
    "http://{host}:{port}/hook",
    "https://{host}:{port}/hook",
    "http://user:secret@{host}:{port}/",
    "http://{host}:{port}/?next=https://example.com/",
    "http://{host}:{port}#@example.com/",
]

# Addresses a host name may resolve to that are never public; judged, never connected to.
INTERNAL_ADDRESSES = [
    "10.0.0.1",
    "10.255.255.254",
    "172.16.0.1",
    "172.31.255.1",
    "192.168.1.1",
    "169.254.169.254",  # cloud metadata
    "169.254.0.1",
    "100.64.0.1",  # carrier-grade NAT
    "100.127.255.254",
    "127.5.6.7",
    "0.0.0.0",
    "0.1.2.3",
    "192.0.0.8",
    "192.0.2.10",  # documentation
    "198.18.0.1",  # benchmarking
    "198.51.100.7",
    "203.0.113.9",
    "224.0.0.1",  # multicast
    "239.255.255.250",
    "240.0.0.1",  # reserved
    "255.255.255.255",
    "::",
    "::1",
    "::ffff:10.0.0.1",  # IPv4-mapped
    "::ffff:169.254.169.254",
    "::ffff:127.0.0.1",
    "::127.0.0.1",  # IPv4-compatible
    "::10.0.0.1",
    "64:ff9b::a9fe:a9fe",  # NAT64 of 169.254.169.254
    "64:ff9b::7f00:1",
    "64:ff9b:1::a00:1",  # local-use NAT64
    "2002:7f00:1::1",  # 6to4 of 127.0.0.1
    "2002:a00:1::1",  # 6to4 of 10.0.0.1
    "2001::1",  # Teredo
    "2001:db8::1",  # documentation
    "fc00::1",  # unique local
    "fd12:3456::1",
    "fe80::1",  # link-local
    "fe80::1%lo",
    "fec0::1",  # site-local
    "ff02::1",  # multicast
    "100::1",  # discard
]
PUBLIC_ADDRESSES = [
    "8.8.8.8",
    "1.1.1.1",
    "2001:4860:4860::8888",
    "::ffff:8.8.8.8",
    "2002:808:808::",
]

BAD_SCHEMES = [
    "file:///etc/passwd",
    "file://localhost/etc/passwd",
    "FILE:///proc/self/environ",
    "gopher://127.0.0.1:6379/_INFO",
    "dict://127.0.0.1:11211/stats",
    "ftp://example.com/x",
    "ldap://example.com/",
    "jar:http://example.com/a.jar!/",
    "data:text/html,<script>alert(1)</script>",
    "javascript:alert(1)",
    "unix:///var/run/docker.sock",
    "http:///no-host",
    "http://",
    "//127.0.0.1/relative",
    "127.0.0.1:8000/no-scheme",
    "/etc/passwd",
    "../../quorum.db",
    "",
]


@pytest.fixture
def canary():
    with Canary() as running:
        yield running


def loopback_urls(port: int) -> list[str]:
    return [s.format(host=h, port=port) for h in LOOPBACK_HOSTS for s in LOOPBACK_URL_SHAPES]


def resolving_to(*answers: list[str]):
    """A resolver we control: each call gives the next answer (the last one repeats)."""
    calls: list[str] = []

    def resolve(host: str, port: int) -> list[str]:
        calls.append(host)
        return answers[min(len(calls), len(answers)) - 1]

    resolve.calls = calls  # type: ignore[attr-defined]
    return resolve


@pytest.mark.parametrize("address", INTERNAL_ADDRESSES)
def test_internal_addresses_are_refused_before_any_connection(address):
    policy = NetworkPolicy(resolve=resolving_to([address]))
    with pytest.raises(Refused, match="not a public address"):
        policy.checked_addresses("tenant.example", 443)


@pytest.mark.parametrize("address", PUBLIC_ADDRESSES)
def test_public_addresses_are_allowed(address):
    assert is_public(ipaddress.ip_address(address))


def test_a_name_with_one_internal_address_among_public_ones_is_refused_whole():
    policy = NetworkPolicy(resolve=resolving_to(["8.8.8.8", "10.0.0.1", "1.1.1.1"]))
    with pytest.raises(Refused, match=r"10\.0\.0\.1"):
        policy.checked_addresses("mixed.example", 80)


def test_an_operator_opens_only_the_networks_it_names():
    policy = NetworkPolicy.of(["10.1.0.0/16"], resolve=resolving_to(["10.1.2.3"]))
    assert policy.checked_addresses("model.internal", 80) == ["10.1.2.3"]
    for outside in ("10.2.0.1", "127.0.0.1", "169.254.169.254"):
        closed = NetworkPolicy.of(["10.1.0.0/16"], resolve=resolving_to([outside]))
        with pytest.raises(Refused):
            closed.checked_addresses("model.internal", 80)


@pytest.mark.parametrize("url", BAD_SCHEMES)
def test_only_http_and_https_urls_with_a_host_are_fetched(url, canary):
    client = OutsideClient(NetworkPolicy.of(["0.0.0.0/0", "::/0"]))
    with pytest.raises(Refused):
        client.get(url, max_bytes=1000)
    assert canary.connections == []


def test_every_spelling_of_loopback_is_refused_and_nothing_connects(canary):
    client = OutsideClient(NetworkPolicy())
    refused = 0
    for url in loopback_urls(canary.port):
        for method in ("GET", "POST"):
            with pytest.raises(Refused, match=r"not a public address|not a valid URL"):
                client.request(method, url, max_bytes=1000, max_redirects=5, content=b"{}")
            refused += 1
    assert refused == 2 * len(LOOPBACK_HOSTS) * len(LOOPBACK_URL_SHAPES)
    assert canary.connections == []


def test_a_redirect_is_checked_hop_by_hop(canary):
    # The operator opened 127.0.0.2 only; the server there redirects to loopback and beyond.
    targets = iter(
        [
            f"http://127.0.0.1:{canary.port}/meta",
            f"http://localhost:{canary.port}/",
            f"http://[::ffff:127.0.0.1]:{canary.port}/",
            "file:///etc/passwd",
            "gopher://127.0.0.1:6379/_",
        ]
    )

    def redirect(handler):
        answer(handler, 302, Location=next(targets))

    client = OutsideClient(NetworkPolicy.of(["127.0.0.2/32"]))
    with ScriptedServer(redirect, host="127.0.0.2") as allowed:
        for _ in range(5):
            with pytest.raises(Refused):
                client.get(f"{allowed.url}/image.png", max_bytes=1000)
    assert canary.connections == []


def test_redirect_chains_are_bounded():
    def loop(handler):
        answer(handler, 307, Location=handler.path + "x")

    client = OutsideClient(NetworkPolicy.of(["127.0.0.2/32"]))
    with (
        ScriptedServer(loop, host="127.0.0.2") as allowed,
        pytest.raises(Unreachable, match="redirects more than 5 times"),
    ):
        client.get(f"{allowed.url}/a", max_bytes=1000)


def test_dns_rebinding_cannot_move_a_checked_connection_to_loopback():
    """The name answers an allowed address first and loopback afterwards: the connection goes
    where the check looked, and the next lookup, now loopback, is refused."""
    hits: list[str] = []

    def image(handler):
        hits.append(handler.server.server_address[0])
        answer(handler, 200, b"\x89PNG\r\n\x1a\nrebind", Connection="close")

    with ScriptedServer(image, host="127.0.0.2") as allowed, Canary(port=allowed.port) as canary:
        resolver = resolving_to(["127.0.0.2"], ["127.0.0.1"])
        client = OutsideClient(NetworkPolicy.of(["127.0.0.2/32"], resolve=resolver))
        first = client.get(f"http://rebind.test:{allowed.port}/a.png", max_bytes=1000)
        assert first.content == b"\x89PNG\r\n\x1a\nrebind"
        with pytest.raises(Refused, match=r"resolves to 127\.0\.0\.1"):
            client.get(f"http://rebind.test:{allowed.port}/a.png", max_bytes=1000)
        assert resolver.calls == ["rebind.test", "rebind.test"]  # once per connection, no more
        assert hits == ["127.0.0.2"]
        assert canary.connections == []


def test_bodies_over_the_limit_are_cut_off():
    big = b"\x89PNG\r\n\x1a\n" + b"x" * 200_000

    def declared(handler):
        answer(handler, 200, big)

    def undeclared(handler):
        handler.send_response(200)
        handler.send_header("Transfer-Encoding", "chunked")
        handler.end_headers()
        for _ in range(50):
            handler.wfile.write(b"1000\r\n" + b"y" * 0x1000 + b"\r\n")
        handler.wfile.write(b"0\r\n\r\n")

    client = OutsideClient(NetworkPolicy.of(["127.0.0.0/8"]))
    for handle in (declared, undeclared):
        with ScriptedServer(handle) as server, pytest.raises(Unreachable, match="more than"):
            client.get(server.url, max_bytes=100_000)


def test_a_server_that_drips_is_cut_off_at_the_deadline():
    def drip(handler):
        handler.send_response(200)
        handler.send_header("Content-Length", "1000")
        handler.end_headers()
        for _ in range(100):
            handler.wfile.write(b"x")
            handler.wfile.flush()
            time.sleep(0.1)

    client = OutsideClient(NetworkPolicy.of(["127.0.0.0/8"]), timeout_seconds=1.0)
    started = time.monotonic()
    with ScriptedServer(drip) as server, pytest.raises(Unreachable, match="did not finish"):
        client.get(server.url, max_bytes=10_000)
    assert time.monotonic() - started < 3


def test_proxy_settings_of_the_environment_are_not_used(canary, monkeypatch):
    def image(handler):
        answer(handler, 200, b"\x89PNG\r\n\x1a\ndirect")

    for variable in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy"):
        monkeypatch.setenv(variable, f"http://127.0.0.1:{canary.port}")
    client = OutsideClient(NetworkPolicy.of(["127.0.0.2/32"]))
    with ScriptedServer(image, host="127.0.0.2") as allowed:
        assert client.get(allowed.url, max_bytes=1000).content.endswith(b"direct")
    assert canary.connections == []


# Through the public surfaces


def _complete(sessions, task_ids):
    with transaction(sessions) as db:
        rows = db.scalars(select(Task).where(Task.id.in_(task_ids))).all()
        tasks.mark_tasks_completed(db, completions=[(t, {"category": "good"}) for t in rows])


@pytest.fixture(scope="module")
def callback_server(backend, fresh_database_url):
    """A server on a database of its own, with the default network policy: the suite's shared
    database is also served by test servers that open loopback for their own receivers."""
    url = fresh_database_url(backend)
    engine = create_db_engine(url)
    upgrade(engine)
    settings = server_settings(
        url, callback_poll_seconds=0.05, lease_sweep_seconds=0, export_poll_seconds=0
    )
    with ThreadedServer(settings) as running:
        yield running, session_factory(engine)
    engine.dispose()


def test_callbacks_to_loopback_are_refused_and_never_posted(callback_server, canary):
    server, sessions = callback_server
    with transaction(sessions) as db:
        org = accounts.create_organization(db, name=f"org-{uuid.uuid4().hex[:10]}")
        key = accounts.create_api_key(db, org_id=org.id)
    api = httpx.Client(base_url=server.url, auth=(key.secret, ""), timeout=30)
    create_project(api, "categorization", "hooks")
    urls = [
        shape.format(host=host, port=canary.port)
        for host in LOOPBACK_HOSTS
        for shape in LOOPBACK_URL_SHAPES[:2]
    ]
    task_ids = []
    for url in urls:
        body = {"project": "hooks", "callback_url": url, **TASK_PARAMS["categorization"]}
        created = api.post("/v1/task/categorization", json=body)
        if created.status_code == 400:  # a spelling no URL parser takes is refused at once
            assert created.json()["field"] == "callback_url"
            continue
        assert created.status_code == 200, created.text
        task_ids.append(created.json()["task_id"])
    assert len(task_ids) >= len(urls) - 4
    _complete(sessions, task_ids)

    def dead_events():
        events = api.get("/v1/callbacks", params={"state": "dead", "limit": 100}).json()["docs"]
        return [e for e in events if e["task_id"] in task_ids]

    wait_until(lambda: len(dead_events()) == len(task_ids), timeout=60)
    for event in dead_events():
        assert event["attempts"] == 1
        assert "not a public address" in event["last_error"]
    assert canary.connections == []
    api.close()


@pytest.mark.parametrize("url", ["file:///etc/passwd", "gopher://127.0.0.1/", "http:///x", "//h/x"])
def test_callback_urls_that_are_not_http_are_refused_at_creation(api, url):
    create_project(api, "categorization", "hooks")
    task = {"project": "hooks", "callback_url": url, **TASK_PARAMS["categorization"]}
    project = {"name": f"p-{uuid.uuid4().hex[:6]}", "type": "chat", "callback_url": url}
    for path, body in (("/v1/task/categorization", task), ("/v1/projects", project)):
        reply = api.post(path, json=body)
        assert reply.status_code == 400, reply.text
        assert "http or https" in reply.json()["error"]


def test_image_import_never_reaches_loopback(cli, tenant, tmp_path, canary):
    create_project(
        tenant.client,
        "imageannotation",
        "street",
        params={"geometries": {"box": {"objects_to_annotate": ["car"]}}},
    )
    urls = [f"http://{host}:{canary.port}/a.png" for host in LOOPBACK_HOSTS]
    source = tmp_path / "rows.jsonl"
    source.write_text("".join(json.dumps({"attachment": url}) + "\n" for url in urls))
    result = cli("import", source, "--project", "street", "--key", tenant.key, "--images")
    assert result.exit_code == 1
    assert "rejected 19" in result.output
    refusals = result.output.count("not a public address") + result.output.count("not a valid URL")
    assert refusals == len(urls)
    assert canary.connections == []
    assert tenant.client.get("/v1/tasks", params={"project": "street"}).json()["docs"] == []


def test_a_loopback_listener_on_ipv6_sees_nothing_either():
    try:
        canary = Canary(host="::1").__enter__()
    except OSError:
        pytest.skip("no IPv6 loopback here")
    try:
        client = OutsideClient(NetworkPolicy())
        for host in ("[::1]", "localhost", "[::ffff:127.0.0.1]", "[0:0:0:0:0:0:0:1]"):
            with pytest.raises(Refused):
                client.get(f"http://{host}:{canary.port}/", max_bytes=100)
        assert canary.connections == []
    finally:
        canary.__exit__()


def test_the_guard_connects_to_the_checked_address_only():
    """The socket the client opens goes to the address that was checked, not to a new lookup."""
    seen = []
    with ScriptedServer(
        lambda h: (seen.append(h.server.server_address[0]), answer(h, 200, b"ok"))
    ) as s:
        client = OutsideClient(
            NetworkPolicy.of(["127.0.0.0/8"], resolve=resolving_to(["127.0.0.1"]))
        )
        host = socket.gethostname()  # a name the system would resolve on its own, differently
        reply = client.get(f"http://{host}:{s.port}/", max_bytes=100)
        assert reply.content == b"ok" and seen == ["127.0.0.1"]


def test_model_backends_never_reach_loopback(api, canary):
    create_project(api, "categorization", "assisted")
    task = {"project": "assisted", **TASK_PARAMS["categorization"]}
    assert api.post("/v1/task/categorization", json=task).status_code == 200
    run = {"project": "assisted", "role": "prelabel"}
    for index, url in enumerate(loopback_urls(canary.port)):
        body = {"name": f"model-{index}", "kind": "http", "target": url}
        registered = api.post("/v1/assist/backends", json=body)
        if registered.status_code == 400:  # a spelling no URL parser takes is refused at once
            assert registered.json()["field"] == "target"
            continue
        assert registered.status_code == 200, registered.text
        reply = api.post(f"/v1/assist/backends/model-{index}/runs", json=run)
        assert reply.status_code == 400
        assert "not a public address" in reply.json()["error"]
    assert canary.connections == []


@pytest.mark.parametrize("url", BAD_SCHEMES)
def test_model_backend_urls_that_are_not_http_are_refused_at_registration(api, url):
    body = {"name": "model", "kind": "http", "target": url}
    reply = api.post("/v1/assist/backends", json=body)
    assert reply.status_code == 400, reply.text
