"""The ``quorum`` command as scripts use it: ids and keys alone on stdout, messages on stderr."""

import os
import re
import subprocess
import sys

import httpx

from tests.conftest import ServeProcess


def quorum(database_url, *args, check=True):
    env = {**os.environ, "QUORUM_DATABASE_URL": database_url}
    result = subprocess.run(
        [sys.executable, "-m", "quorum", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    if check:
        assert result.returncode == 0, result.stderr
    return result


def test_org_and_key_create_print_only_the_value(backend, fresh_database_url):
    url = fresh_database_url(backend)
    org_id = quorum(url, "org", "create", "Acme Labs").stdout
    assert re.fullmatch(r"[0-9a-f]{24}\n", org_id)
    key = quorum(url, "key", "create", "--org", "Acme Labs").stdout.strip()
    assert re.fullmatch(r"live_[0-9a-f]{32}", key)
    test_key = quorum(url, "key", "create", "--org", "Acme Labs", "--test").stdout.strip()
    assert test_key.startswith("test_")
    with ServeProcess(url) as server:
        response = httpx.get(f"{server.url}/v1/projects", auth=(key, ""))
        assert response.status_code == 200 and response.json() == []


def test_errors_exit_nonzero_with_a_message(backend, fresh_database_url):
    url = fresh_database_url(backend)
    quorum(url, "org", "create", "Twice")
    again = quorum(url, "org", "create", "Twice", check=False)
    assert again.returncode == 1
    assert again.stdout == ""
    assert "already exists" in again.stderr
    missing = quorum(url, "key", "create", "--org", "Nobody", check=False)
    assert missing.returncode == 1
    assert "no organization named 'Nobody'" in missing.stderr


def test_migrate_is_idempotent(backend, fresh_database_url):
    url = fresh_database_url(backend)
    quorum(url, "migrate")
    assert "up to date" in quorum(url, "migrate").stderr


def test_demo_seeds_every_task_type_and_the_key_works(backend, fresh_database_url):
    url = fresh_database_url(backend)
    seeded = quorum(url, "demo", "--seed-only")
    key = seeded.stdout.strip()
    assert key.startswith("live_")
    assert "/docs" in seeded.stderr
    with ServeProcess(url) as server:
        projects = httpx.get(f"{server.url}/v1/projects", auth=(key, "")).json()
        assert sorted(p["type"] for p in projects) == [
            "categorization",
            "chat",
            "comparison",
            "imageannotation",
            "textcollection",
        ]
        tasks = httpx.get(f"{server.url}/v1/tasks", auth=(key, "")).json()
        assert tasks["total"] >= 10
        image = httpx.get(f"{server.url}/static/demo/street-1.svg")
        assert image.status_code == 200 and image.text.startswith("<svg")
    # Running the demo again reuses the organization and mints a new key.
    second = quorum(url, "demo", "--seed-only").stdout.strip()
    assert second != key
