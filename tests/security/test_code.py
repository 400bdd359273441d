"""Attack table, code: no string a tenant sends makes the server import or run code.

Python model backends are chosen by name among those the platform's operator offers (here
``sentiment-v2``, see tests/assist/conftest.py). Each row is a target an admin of an organization
sends; each is refused with a 400 before anything is imported, which the canary module proves:
importing it or calling its model leaves a file behind. Runs on SQLite and PostgreSQL.
"""

import sys
from pathlib import Path

import pytest

from quorum.assist.models import ModelBackendConfig
from quorum.db import transaction
from tests.assist.conftest import server  # noqa: F401  (the server whose operator offers models)
from tests.dispatch.conftest import add_task, categorization_project

CANARY = "tests.security.canary"
NOT_OFFERED = "must be the name of a model this platform offers"
TOO_LONG = "target: String should have at most 2000 characters"
NOT_A_STRING = "target: Input should be a valid string"

ENTRY_POINTS = [
    f"{CANARY}:model",
    f"{CANARY}:_leave_trace",
    "tests.assist.conftest:keyword_model",  # the offered model itself, by its import path
    "os:system",
    "os:remove",
    "os:execv",
    "posix:system",
    "shutil:rmtree",
    "subprocess:run",
    "subprocess:Popen",
    "subprocess:check_output",
    "builtins:exec",
    "builtins:eval",
    "builtins:__import__",
    "builtins:open",
    "importlib:import_module",
    "importlib.util:spec_from_file_location",
    "runpy:run_path",
    "pickle:loads",
    "ctypes:CDLL",
    "pty:spawn",
    "code:interact",
    "os.path:join",
    "os:environ.get",
    "quorum.settings:get_settings",
    "quorum.db.session:create_db_engine",
]
IMPORT_PATHS = [
    "os",
    "os.system",
    "shutil.rmtree",
    CANARY,
    f"{CANARY}.model",
    "tests/security/canary.py",
    "../tests/security/canary.py:model",
    "/etc/passwd",
    "file:///tmp/model.py",
    "http://127.0.0.1:1/model",
    "__import__('os').system('id')",
]
MALFORMED_ENTRY_POINTS = [
    ":system",
    "os:",
    ":",
    "os::system",
    "os : system",
    " os:system",
    "os:system [extra]",
    "os:system\n",
    f"{CANARY}:model.__call__",
    "os:getattr(os,'system')",
]
OFFERED_NAME_VARIANTS = [
    "sentiment-v2 ",
    " sentiment-v2",
    "sentiment-v2\n",
    "sentiment-v2\t",
    "sentiment-v2\r",
    "sentiment-v2\x00",
    "sentiment-v2\x00os:system",
    "Sentiment-V2",
    "SENTIMENT-V2",
    "".join(chr(ord(c) + 0xFEE0) for c in "sentiment-v2"),  # fullwidth: NFKC gives the name
    "sentiment\u2010v2",  # hyphen, not hyphen-minus
    "sentiment-v2\u200b",  # zero-width space
    "\ufeffsentiment-v2",  # byte-order mark
    "sent\u0131ment-v2",  # dotless i
    "sentiment-v2:keyword_model",
    "sentiment-v2:model",
    "sentiment-v2.keyword_model",
    "sentiment-v2/../os:system",
    "sentiment-v2;os:system",
    "sentiment-v2,os:system",
    "sentiment-v2 os:system",
    "sentiment-v2 | os:system",
    "sentiment-v",
    "sentiment-v2-",
    "sentiment-v2%00",
    "active-learning",  # the built-in, under the python kind
]
INSTALLED_ENTRY_POINTS = [
    "pytest",  # console_scripts names and values of packages installed with the server
    "quorum",
    "uvicorn",
    "pip",
    "_pytest.config:_console_main",
    "quorum.cli:main",
    "uvicorn.main:main",
    "alembic.config:main",
    "pip._internal.cli.main:cli",
    "httpx:main",
]

ROWS = [
    *(pytest.param(t, NOT_OFFERED, id=f"entry-point-{t}") for t in ENTRY_POINTS),
    *(pytest.param(t, NOT_OFFERED, id=f"import-path-{t}") for t in IMPORT_PATHS),
    *(pytest.param(t, NOT_OFFERED, id=f"malformed-{t!r}") for t in MALFORMED_ENTRY_POINTS),
    *(pytest.param(t, NOT_OFFERED, id=f"name-variant-{t!r}") for t in OFFERED_NAME_VARIANTS),
    *(pytest.param(t, NOT_OFFERED, id=f"installed-{t}") for t in INSTALLED_ENTRY_POINTS),
    pytest.param("x" * 2000, NOT_OFFERED, id="2000-characters"),
    pytest.param("os:" + "a" * 1997, NOT_OFFERED, id="2000-character-entry-point"),
    pytest.param("sentiment-v2" * 200, TOO_LONG, id="2400-characters"),
    pytest.param("os:system" + " " * 100_000, TOO_LONG, id="100-000-characters"),
    pytest.param(7, NOT_A_STRING, id="number"),
    pytest.param(1.5, NOT_A_STRING, id="float"),
    pytest.param(True, NOT_A_STRING, id="boolean"),
    pytest.param(None, NOT_A_STRING, id="null"),
    pytest.param(["os:system"], NOT_A_STRING, id="list"),
    pytest.param({"module": "os", "attr": "system"}, NOT_A_STRING, id="object"),
    pytest.param({"name": "sentiment-v2"}, NOT_A_STRING, id="object-with-offered-name"),
]


@pytest.fixture
def canary(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The folder where the canary module leaves its traces (the server runs in this process)."""
    folder = tmp_path / "canary"
    folder.mkdir()
    monkeypatch.setenv("QUORUM_TEST_CANARY_DIR", str(folder))
    return folder


def assert_nothing_ran(canary: Path) -> None:
    assert sorted(p.name for p in canary.iterdir()) == []
    assert CANARY not in sys.modules


@pytest.mark.parametrize(("target", "refusal"), ROWS)
def test_a_python_backend_naming_code_is_refused_and_runs_nothing(tenant, canary, target, refusal):
    categorization_project(tenant, "sentiment")
    add_task(tenant, "sentiment", attachment="A great meal")
    refused = tenant.client.post(
        "/v1/assist/backends", json={"name": "judge", "kind": "python", "target": target}
    )
    assert refused.status_code == 400, refused.text
    assert refused.json()["status_code"] == 400
    assert refusal in refused.json()["error"]
    if refusal == NOT_OFFERED:
        assert refused.json()["error"].endswith("; offered: sentiment-v2")
    run = tenant.client.post(
        "/v1/assist/backends/judge/runs", json={"project": "sentiment", "role": "rater"}
    )
    assert run.status_code == 404
    assert tenant.client.get("/v1/assist/backends").json() == []
    assert_nothing_ran(canary)


@pytest.mark.parametrize("kind", ["PYTHON", "python ", "entrypoint", "module", "exec", "", None])
def test_a_kind_that_is_not_offered_is_refused(tenant, canary, kind):
    refused = tenant.client.post(
        "/v1/assist/backends", json={"name": "judge", "kind": kind, "target": f"{CANARY}:model"}
    )
    assert refused.status_code == 400, refused.text
    assert refused.json()["error"].startswith("kind: Input should be 'http', 'python' or")
    assert_nothing_ran(canary)


def test_the_offered_name_itself_is_accepted(tenant, canary):
    """The control row: the table refuses what is not offered, not every python backend."""
    categorization_project(tenant, "sentiment")
    add_task(tenant, "sentiment", attachment="A great meal")
    body = {"name": "judge", "kind": "python", "target": "sentiment-v2"}
    assert tenant.client.post("/v1/assist/backends", json=body).status_code == 200
    run = tenant.client.post(
        "/v1/assist/backends/judge/runs", json={"project": "sentiment", "role": "rater"}
    )
    assert run.json() == {"answered": 1}
    assert_nothing_ran(canary)


@pytest.mark.parametrize(
    "stored_target",
    [f"{CANARY}:model", "shutil:rmtree", "os:system", "tests.assist.conftest:keyword_model"],
)
def test_a_backend_stored_with_an_entry_point_is_refused_when_run(
    tenant, sessions, canary, stored_target
):
    """A python backend registered before tenants chose by name keeps its row, and is refused
    with a 400 that says what to register instead; nothing is imported."""
    categorization_project(tenant, "sentiment")
    add_task(tenant, "sentiment", attachment="A great meal")
    with transaction(sessions) as db:
        db.add(
            ModelBackendConfig(
                org_id=tenant.org_id, name="legacy", kind="python", target=stored_target
            )
        )
    run = tenant.client.post(
        "/v1/assist/backends/legacy/runs", json={"project": "sentiment", "role": "prelabel"}
    )
    assert run.json() == {
        "status_code": 400,
        "error": "target of a python backend must be the name of a model this platform offers, "
        f"got {stored_target!r}; offered: sentiment-v2",
        "field": "target",
    }
    report = tenant.client.get("/v1/assist/backends/legacy/report", params={"project": "sentiment"})
    assert report.json()["prelabeled_tasks"] == 0
    assert_nothing_ran(canary)
