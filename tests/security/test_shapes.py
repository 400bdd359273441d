"""Attack table: bounded shapes (issue 17).

Free-form JSON that a tenant or a worker sends is stored and read back by every surface. Each
row sends one shape that could not be stored or read back (too deep, too big, NUL, lone
surrogates, non-finite or 64-bit-overflowing numbers, too many or too long keys) through one
surface, and expects a 400 whose body names the field; bulk imports report the row instead.
Payloads are raw JSON text, since ``json.dumps`` cannot write 100,000 levels or NaN in a place
of our choosing, and a raw body is what an attacker sends.
"""

import json
import re
import uuid
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from quorum import Client
from quorum.db import transaction
from quorum.jsonbounds import (
    INT_MAX,
    INT_MIN,
    MAX_DEPTH,
    MAX_KEY_CHARS,
    MAX_OBJECT_KEYS,
    MAX_STRING_CHARS,
    METADATA,
    PAYLOAD,
    BoundedPayload,
    json_bound_problem,
)
from quorum.tasks.models import Batch, Task
from quorum.tasktypes import get_task_type, task_type_names
from tests.conftest import Tenant
from tests.dispatch.conftest import WorkerClient, make_worker  # noqa: F401
from tests.evaluation.conftest import create_campaign, make_owner  # noqa: F401
from tests.factories import TASK_PARAMS, create_project

CATEGORIZATION = '"attachment":"The food was great","categories":["good","bad"]'
DEEP = "nested deeper than 32 levels"


def nested_objects(levels: int) -> str:
    """An object ``levels`` deep: ``{"x":{"x":...{}}}``."""
    return '{"x":' * (levels - 1) + "{}" + "}" * (levels - 1)


def nested_lists(levels: int) -> str:
    """An object holding lists down to ``levels`` in all."""
    return '{"x":' + "[" * (levels - 1) + "]" * (levels - 1) + "}"


# (id, a JSON object as raw text, what the refusal says). Each offending value sits under "x"
# (or is a key) so that the refusal names a field inside the surface's own.
PAYLOADS = [
    ("depth-33-objects", nested_objects(MAX_DEPTH + 1), DEEP),
    ("depth-33-lists", nested_lists(MAX_DEPTH + 1), DEEP),
    ("depth-900", nested_objects(900), DEEP),
    ("depth-100000-raw", nested_objects(100_000), DEEP),
    ("depth-mixed-lists-objects", '{"x":' + '[{"y":' * 40 + "1" + "}]" * 40 + "}", DEEP),
    ("string-1M+1-chars", '{"x":"' + "a" * (MAX_STRING_CHARS + 1) + '"}', "longer than"),
    ("nul-in-value", '{"x":"a\\u0000b"}', "NUL"),
    ("nul-deep-in-list", '{"x":[{"y":["fine","\\u0000"]}]}', "NUL"),
    ("nul-in-key", '{"a\\u0000b":1}', "NUL"),
    ("lone-high-surrogate", '{"x":"\\ud800"}', "lone surrogate"),
    ("lone-low-surrogate-after-text", '{"x":"abc\\udfff"}', "lone surrogate"),
    ("lone-surrogate-key", '{"\\udbff":1}', "lone surrogate"),
    ("100k-keys", "{" + ",".join(f'"{i}":0' for i in range(100_000)) + "}", "more than"),
    ("key-257-chars", '{"' + "k" * (MAX_KEY_CHARS + 1) + '":1}', "key longer than"),
    ("int-2^63", '{"x":9223372036854775808}', "integer out of range"),
    ("int-minus-2^63-minus-1", '{"x":-9223372036854775809}', "integer out of range"),
    ("int-2^64", '{"x":[1,18446744073709551616]}', "integer out of range"),
    ("int-100-digits", '{"x":' + "9" * 100 + "}", "integer out of range"),
    ("NaN", '{"x":NaN}', "not a finite number"),
    ("Infinity", '{"x":Infinity}', "not a finite number"),
    ("minus-Infinity-in-list", '{"x":[-Infinity]}', "not a finite number"),
    ("float-1e400", '{"x":1e400}', "not a finite number"),
]
RAW_ONLY = {"depth-100000-raw"}  # no JSON library writes or reads it: only as bytes
# The SDK sends with httpx, whose encoder refuses these before anything leaves the client.
UNSENDABLE_BY_HTTPX = {
    "lone-high-surrogate",
    "lone-low-surrogate-after-text",
    "lone-surrogate-key",
    "NaN",
    "Infinity",
    "minus-Infinity-in-list",
    "float-1e400",
}


def refusal(response: httpx.Response) -> dict[str, Any]:
    assert response.status_code == 400, response.text[:500]
    return response.json()


def assert_names(body: dict[str, Any], names: tuple[str, ...], fragment: str, row: str) -> None:
    """The error says what is wrong and, in ``field`` and the message, where."""
    assert fragment in body["error"], body
    if row in RAW_ONLY:  # refused by the JSON parser: only the body can be named
        assert body["error"].startswith("body: ")
        return
    assert body["field"].split(".")[0] in names, body
    assert body["error"].startswith(f"{body['field']}: "), body


def post_raw(client: httpx.Client, path: str, raw: str) -> httpx.Response:
    return client.post(path, content=raw.encode(), headers={"Content-Type": "application/json"})


def post_json(client: httpx.Client, path: str, body: Any) -> httpx.Response:
    """Post ``body`` as Python's ``json`` writes it (lone surrogates escaped, which httpx's
    encoder cannot send)."""
    return post_raw(client, path, json.dumps(body))


class Surfaces:
    """Each way in that stores free-form JSON: ``send(raw)`` puts the payload there."""

    def __init__(self, tenant: Tenant, make_worker: Callable[..., WorkerClient]) -> None:  # noqa: F811
        self.tenant, self.api, self.make_worker = tenant, tenant.client, make_worker
        create_project(self.api, "categorization", "shapes")

    def task_create_metadata(self, raw: str) -> httpx.Response:
        body = f'{{"project":"shapes",{CATEGORIZATION},"metadata":{raw}}}'
        return post_raw(self.api, "/v1/task/categorization", body)

    def task_create_params(self, raw: str) -> httpx.Response:
        body = f'{{"project":"shapes","categories":["good","bad"],"attachment":{raw}}}'
        return post_raw(self.api, "/v1/task/categorization", body)

    def task_set_metadata(self, raw: str) -> httpx.Response:
        task = self.api.post(
            "/v1/task/categorization", json={"project": "shapes", **TASK_PARAMS["categorization"]}
        ).json()
        return post_raw(self.api, f"/v1/task/{task['task_id']}/setMetadata", raw)

    def batch_create_metadata(self, raw: str) -> httpx.Response:
        return post_raw(
            self.api, "/v1/batches", f'{{"project":"shapes","name":"b","metadata":{raw}}}'
        )

    def batch_set_metadata(self, raw: str) -> httpx.Response:
        assert self.api.post("/v1/batches", json={"project": "shapes", "name": "b"}).is_success
        return post_raw(self.api, "/v1/batches/b/setMetadata", raw)

    def project_create_params(self, raw: str) -> httpx.Response:
        body = f'{{"name":"p2","type":"categorization","params":{raw}}}'
        return post_raw(self.api, "/v1/projects", body)

    def project_set_params(self, raw: str) -> httpx.Response:
        return post_raw(self.api, "/v1/projects/shapes/setParams", raw)

    def worker_submit(self, raw: str) -> httpx.Response:
        """Through the dispatch hot path: a body it refuses goes on to the FastAPI route."""
        self.api.post(
            "/v1/task/categorization", json={"project": "shapes", **TASK_PARAMS["categorization"]}
        )
        worker = self.make_worker(self.tenant, projects=("shapes",))
        leased = worker.next()
        assert leased.status_code == 200, leased.text
        path = f"/v1/worker/assignments/{leased.json()['assignment_id']}/submit"
        return post_raw(worker.client, path, f'{{"response":{raw}}}')


SURFACES = {
    "task_create_metadata": ("metadata",),
    "task_create_params": ("attachment", "params"),
    "task_set_metadata": ("metadata",),
    "batch_create_metadata": ("metadata",),
    "batch_set_metadata": ("metadata",),
    "project_create_params": ("params",),
    "project_set_params": ("params",),
    "worker_submit": ("response",),
}


@pytest.fixture
def surfaces(tenant: Tenant, make_worker: Callable[..., WorkerClient]) -> Surfaces:  # noqa: F811
    return Surfaces(tenant, make_worker)


@pytest.mark.parametrize("surface", SURFACES)
@pytest.mark.parametrize(("row", "raw", "fragment"), PAYLOADS, ids=[p[0] for p in PAYLOADS])
def test_shape_is_refused_naming_the_field(
    surfaces: Surfaces, sessions: sessionmaker[Session], surface, row, raw, fragment
):
    before = count_tasks(sessions, surfaces.tenant.org_id)
    body = refusal(getattr(surfaces, surface)(raw))
    assert_names(body, SURFACES[surface], fragment, row)
    created = count_tasks(sessions, surfaces.tenant.org_id) - before
    assert created == (1 if surface in ("task_set_metadata", "worker_submit") else 0)


def count_tasks(sessions: sessionmaker[Session], org_id: str) -> int:
    with transaction(sessions) as db:
        return len(db.scalars(select(Task.id).where(Task.org_id == org_id)).all())


# Texts stored as columns: the same string rules.
TEXT_PAYLOADS = [
    ("nul", "an answer\x00", "nul character"),
    # pydantic's ``str`` refuses it first ("unable to parse raw data as a unicode string")
    ("lone-surrogate", "an answer \udc80", "unicode"),
    ("too-long", "a" * (MAX_STRING_CHARS + 1), "longer than"),
]
TEXT_IDS = [p[0] for p in TEXT_PAYLOADS]


@pytest.mark.parametrize(("row", "text", "fragment"), TEXT_PAYLOADS, ids=TEXT_IDS)
def test_text_answer_of_a_worker_is_refused_naming_the_field(
    tenant: Tenant,
    make_worker: Callable[..., WorkerClient],  # noqa: F811
    row,
    text,
    fragment,
):
    """A text answer with a NUL was 200 on SQLite and 500 on PostgreSQL: now 400 on both."""
    create_project(tenant.client, "textcollection", "texts")
    params = {"project": "texts", **TASK_PARAMS["textcollection"]}
    params["fields"] = [{**params["fields"][0], "max_characters": None}]
    assert tenant.client.post("/v1/task/textcollection", json=params).is_success
    worker = make_worker(tenant, projects=("texts",))
    assignment = worker.next().json()["assignment_id"]
    path = f"/v1/worker/assignments/{assignment}/submit"
    body = refusal(post_json(worker.client, path, {"response": {"annotations": {"summary": text}}}))
    assert body["field"] == "response.annotations.summary"
    assert fragment in body["error"].lower()


@pytest.mark.parametrize(("row", "text", "fragment"), TEXT_PAYLOADS, ids=TEXT_IDS)
def test_model_output_for_an_evaluation_is_refused_naming_the_field(
    tenant: Tenant,
    make_owner,  # noqa: F811
    row,
    text,
    fragment,
):
    create_campaign(tenant.client, "arena")
    owner = make_owner(tenant, "arena", "lab")
    model = owner.register("m")
    prompts = owner.issue(model)
    outputs = [{"prompt_id": p["prompt_id"], "output": "fine"} for p in prompts]
    outputs[1]["output"] = text
    response = post_json(
        owner.client, f"/v1/evaluation/owner/models/{model}/submissions", {"outputs": outputs}
    )
    body = refusal(response)
    assert body["field"] == "outputs.1.output"
    assert fragment in body["error"].lower()


@pytest.mark.parametrize(("row", "text", "fragment"), TEXT_PAYLOADS, ids=TEXT_IDS)
def test_task_instruction_and_tags_are_text_bounded(api, row, text, fragment):
    create_project(api, "categorization", "shapes")
    for field, value, named in (("instruction", text, "instruction"), ("tags", [text], "tags.0")):
        body = {"project": "shapes", **TASK_PARAMS["categorization"], field: value}
        refused = refusal(post_json(api, "/v1/task/categorization", body))
        assert refused["field"] == named
        assert fragment in refused["error"].lower()


def test_metadata_over_its_size_is_refused(api):
    create_project(api, "categorization", "shapes")
    big = {"notes": ["n" * 1000] * 300}  # about 300 KiB, each string fine
    body = {"project": "shapes", **TASK_PARAMS["categorization"], "metadata": big}
    refused = refusal(api.post("/v1/task/categorization", json=body))
    assert refused == {
        "status_code": 400,
        "error": "metadata: larger than 256 KiB when encoded",
        "field": "metadata",
    }


def test_duplicate_keys_keep_the_last_value(api):
    """Decided: duplicate keys are not refused; the last one wins, as in every JSON parser the
    server uses, and the stored object holds the key once."""
    create_project(api, "categorization", "shapes")
    body = f'{{"project":"shapes",{CATEGORIZATION},"metadata":{{"a":1,"a":2}}}}'
    task = post_raw(api, "/v1/task/categorization", body).json()
    assert api.get(f"/v1/task/{task['task_id']}").json()["metadata"] == {"a": 2}


def test_negative_zero_is_stored_as_a_number_equal_to_zero(api):
    create_project(api, "categorization", "shapes")
    body = f'{{"project":"shapes",{CATEGORIZATION},"metadata":{{"a":-0,"b":-0.0}}}}'
    task = post_raw(api, "/v1/task/categorization", body).json()
    assert api.get(f"/v1/task/{task['task_id']}").json()["metadata"] == {"a": 0, "b": 0}


# Bulk imports: each bad row is reported with its reason, the good ones go in.

ROW_PREFIX = f'{{"unique_id":"bad",{CATEGORIZATION},"metadata":'


@pytest.mark.parametrize(("row", "raw", "fragment"), PAYLOADS, ids=[p[0] for p in PAYLOADS])
def test_import_over_the_api_reports_the_row(api, sessions, tenant, row, raw, fragment):
    create_project(api, "categorization", "shapes")
    good = json.dumps({"unique_id": "good", **TASK_PARAMS["categorization"]})
    body = f'{{"rows":[{good},{ROW_PREFIX}{raw}}}]}}'
    response = post_raw(api, "/v1/projects/shapes/import", body)
    if row in RAW_ONLY:  # the request's JSON itself cannot be parsed: nothing goes in
        assert_names(refusal(response), ("body",), fragment, row)
        assert count_tasks(sessions, tenant.org_id) == 0
        return
    assert response.status_code == 200, response.text[:500]
    report = response.json()
    assert report["created"] == 1
    [rejected] = report["rejected"]
    assert rejected["line"] == 2
    assert rejected["reason"].startswith("metadata") and fragment in rejected["reason"]


@pytest.mark.parametrize(
    ("row", "raw", "fragment"),
    [p for p in PAYLOADS if p[0] not in RAW_ONLY],
    ids=[p[0] for p in PAYLOADS if p[0] not in RAW_ONLY],
)
def test_import_through_the_sdk_reports_the_row(server, sessions, tenant, row, raw, fragment):
    create_project(tenant.client, "categorization", "shapes")
    rows = [
        {"unique_id": "good", **TASK_PARAMS["categorization"]},
        {"unique_id": "bad", **TASK_PARAMS["categorization"], "metadata": json.loads(raw)},
    ]
    with Client(tenant.key, base_url=server.url) as client:
        if row in UNSENDABLE_BY_HTTPX:
            with pytest.raises(ValueError):  # UnicodeEncodeError is one
                client.import_tasks("shapes", rows)
            assert count_tasks(sessions, tenant.org_id) == 0
            return
        report = client.import_tasks("shapes", rows)
    assert report.created == 1
    [rejected] = report.rejected
    assert rejected.line == 2
    assert rejected.reason.startswith("metadata") and fragment in rejected.reason


@pytest.mark.parametrize(("row", "raw", "fragment"), PAYLOADS, ids=[p[0] for p in PAYLOADS])
def test_cli_import_of_jsonl_reports_the_row(cli, tenant, tmp_path, row, raw, fragment):
    create_project(tenant.client, "categorization", "shapes")
    good = json.dumps({"unique_id": "good", **TASK_PARAMS["categorization"]})
    source = tmp_path / "rows.jsonl"
    source.write_text(f"{good}\n{ROW_PREFIX}{raw}}}\n")
    rejects = tmp_path / "rejects.jsonl"
    result = cli("import", source, "--project", "shapes", "--key", tenant.key, "--rejects", rejects)
    assert result.exit_code == 1
    assert "created 1," in result.output
    [rejected] = [json.loads(line) for line in rejects.read_text().splitlines()]
    assert rejected["line"] == 2
    if row in RAW_ONLY:  # past what Python's parser reads: the line is not JSON to us
        assert rejected["reason"].startswith("not valid JSON: recursion limit exceeded")
    else:
        assert rejected["reason"].startswith("metadata") and fragment in rejected["reason"]


def test_every_task_type_bounds_its_params_and_responses():
    """A new task type cannot forget the bound: its payload models must carry it."""
    for name in task_type_names():
        kind = get_task_type(name)
        assert issubclass(kind.Params, BoundedPayload), name
        assert issubclass(kind.Response, BoundedPayload), name


# Nothing stored can later make a read fail: tasks at each limit, read back everywhere.


def at_the_limits() -> list[dict[str, Any]]:
    deepest: Any = {}
    for _ in range(MAX_DEPTH - 1):
        deepest = {"x": deepest}
    numbers = {"max": INT_MAX, "min": INT_MIN, "huge": 1.7976931348623157e308, "tiny": 5e-324}
    return [
        {"metadata": deepest},
        {"metadata": {str(i): i for i in range(MAX_OBJECT_KEYS)}},
        {"metadata": {"k" * MAX_KEY_CHARS: "é✓𝄞" * 1000, "numbers": numbers, "zero": -0.0}},
        {"metadata": {"x": [[]] * 10 + [nested_list(MAX_DEPTH - 2)]}},
        {"metadata": {"notes": "n" * (METADATA.max_bytes - 12)}},  # exactly the size limit
        {"attachment": "long " + "a" * (MAX_STRING_CHARS - 5)},
    ]


def same_json(sent: Any, read: Any) -> bool:
    """``read`` is ``sent`` as JSON: the same numbers, strings, keys and nesting. PostgreSQL's
    jsonb keeps numbers as decimals and writes them without an exponent, so a float may come
    back as an int of the same value (``1e16`` as ``10000000000000000``)."""
    if type(sent) is float:
        return type(read) in (int, float) and float(read) == sent
    if type(sent) is dict:
        return (
            type(read) is dict
            and sent.keys() == read.keys()
            and all(same_json(sent[k], read[k]) for k in sent)
        )
    if type(sent) is list:
        return (
            type(read) is list
            and len(sent) == len(read)
            and all(same_json(a, b) for a, b in zip(sent, read, strict=True))
        )
    return type(read) is type(sent) and read == sent


def nested_list(levels: int) -> list[Any]:
    value: list[Any] = []
    for _ in range(levels - 1):
        value = [value]
    return value


def test_tasks_at_every_limit_read_back_on_every_surface(
    tenant: Tenant,
    make_worker: Callable[..., WorkerClient],  # noqa: F811
    server,
):
    api = tenant.client
    create_project(api, "categorization", "limits")
    sent = {}
    for fields in at_the_limits():
        body = {"project": "limits", **TASK_PARAMS["categorization"], **fields}
        created = api.post("/v1/task/categorization", json=body)
        assert created.status_code == 200, created.text[:300]
        sent[created.json()["task_id"]] = fields

    for task_id, fields in sent.items():
        read = api.get(f"/v1/task/{task_id}")
        assert read.status_code == 200
        for name, value in fields.items():
            stored = read.json()["metadata" if name == "metadata" else "params"]
            assert same_json(value, stored if name == "metadata" else stored[name])

    listed = api.get("/v1/tasks", params={"project": "limits", "limit": 100})
    assert listed.status_code == 200
    assert {doc["task_id"] for doc in listed.json()["docs"]} == set(sent)

    exported = api.get("/v1/projects/limits/export", params={"format": "jsonl", "include": "all"})
    assert exported.status_code == 200
    assert len(exported.text.splitlines()) == len(sent)

    worker = make_worker(tenant, projects=("limits",))
    leased = set()
    for _ in sent:
        next_task = worker.next()
        assert next_task.status_code == 200, next_task.text[:300]
        leased.add(next_task.json()["task_id"])
    assert leased == set(sent)

    page = customer_page_client(server.url, tenant.key)
    for task_id in sent:
        assert page.get(f"/customer/tasks/{task_id}").status_code == 200


def customer_page_client(url: str, key: str) -> httpx.Client:
    """A browser-like client logged in to the customer pages with ``key``."""
    client = httpx.Client(base_url=url, timeout=30)
    form = client.get("/customer/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', form.text).group(1)
    login = client.post("/customer/login", data={"api_key": key, "csrf_token": token})
    assert login.status_code == 303, login.text[:300]
    return client


# The bound itself: a property test.

STORABLE_CHARACTERS = st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00")
json_scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=INT_MIN, max_value=INT_MAX)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(STORABLE_CHARACTERS)
)
json_values = st.recursive(
    json_scalars,
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(
            st.text(STORABLE_CHARACTERS, max_size=40),
            children,
            max_size=4,
        )
    ),
    max_leaves=30,
)


@pytest.fixture(scope="module")
def batch_id(sessions: sessionmaker[Session]) -> str:
    """A batch whose metadata column each example is written to and read back from."""
    from quorum.accounts import service as accounts
    from quorum.tasks import service as tasks
    from quorum.tasks.schemas import BatchCreate, ProjectCreate

    with transaction(sessions) as db:
        org = accounts.create_organization(db, name=f"org-{uuid.uuid4().hex[:10]}")
        tasks.create_project(db, org_id=org.id, data=ProjectCreate(name="p", type="chat"))
        batch, _ = tasks.create_batch(db, org_id=org.id, data=BatchCreate(project="p", name="b"))
        return batch.id


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(value=json_values)
def test_any_value_within_the_bounds_passes_and_round_trips(sessions, batch_id, value):
    assert json_bound_problem(value, METADATA) is None
    assert json_bound_problem(value, PAYLOAD) is None
    # A fresh key each time: 0 == 0.0 == False in Python, so an "equal" value would not be
    # written over the last example's and the test would read that one back.
    metadata = {"value": value, "example": uuid.uuid4().hex}
    with transaction(sessions) as db:
        db.get(Batch, batch_id).metadata_ = metadata
    with transaction(sessions) as db:
        assert same_json(metadata, db.get(Batch, batch_id).metadata_)


@settings(max_examples=100, deadline=None)
@given(
    value=json_values,
    wrappers=st.lists(st.sampled_from(["list", "object"]), min_size=MAX_DEPTH + 1, max_size=40),
)
def test_anything_nested_past_the_depth_is_refused(value, wrappers):
    for wrapper in wrappers:
        value = [value] if wrapper == "list" else {"k": value}
    assert json_bound_problem(value, PAYLOAD) == ((), DEEP)


@settings(max_examples=100, deadline=None)
@given(
    value=json_values, bad=st.sampled_from(["\x00", "\ud800", float("inf"), 2**63, -(2**63) - 1])
)
def test_one_bad_leaf_anywhere_is_refused_at_its_path(value, bad):
    container = {"good": value, "bad": [bad]}
    loc, _ = json_bound_problem(container, PAYLOAD)
    assert loc == ("bad", 0)


def test_size_is_counted_across_the_whole_value():
    within = {"notes": ["n" * 1000] * 250}
    over = {"notes": ["n" * 1000] * 270}
    assert json_bound_problem(within, METADATA) is None
    assert json_bound_problem(over, METADATA) == ((), "larger than 256 KiB when encoded")
    assert json_bound_problem({"x": ["y" * 100_000] * 50}, PAYLOAD) == (
        (),
        "larger than 4 MiB when encoded",
    )
