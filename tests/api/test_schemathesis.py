"""Property-based fuzzing of the whole documented API with schemathesis: no input gives a 500."""

import subprocess
import sys
from pathlib import Path

import pytest

from tests.factories import create_project, create_task


@pytest.mark.slow
def test_no_generated_request_gets_a_server_error(server, tenant, api, tmp_path):
    create_project(api, "chat", "fuzz")
    create_task(api, "chat", "fuzz", unique_id="fuzz-1")
    api.post("/v1/batches", json={"project": "fuzz", "name": "fuzz-batch"})
    st = Path(sys.executable).parent / "st"
    result = subprocess.run(
        [
            str(st),
            "run",
            f"{server.url}/openapi.json",
            "--checks",
            "not_a_server_error",
            "--header",
            f"Authorization: Bearer {tenant.key}",
            "--max-examples",
            "25",
            "--generation-deterministic",
            "--workers",
            "2",
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=600,
    )
    summary = result.stdout[-3000:]
    assert result.returncode == 0, summary
    assert "passed" in summary
