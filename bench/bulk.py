"""Bulk import and export through the CLI on PostgreSQL: rows per second and peak memory.

Writes N text (categorization) tasks as JSONL, imports them with ``quorum import`` (the direct
database path: COPY), marks them completed with one UPDATE (setup, not timed), then exports them
with ``quorum export`` to JSONL and to Parquet. Each step is its own process, timed from the
outside; peak memory is that process's maximum resident set. Last line: one JSON object, with
``cpu_probe_s``, the machine's speed when it ran (see ``_server.cpu_probe``).
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from sqlalchemy import Engine, text
from sqlalchemy.exc import DBAPIError

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _server import cpu_probe, organization_key, scratch_database
from quorum.accounts import service as accounts
from quorum.db import create_db_engine, session_factory, transaction
from quorum.tasks import service as tasks
from quorum.tasks.schemas import ProjectCreate

PROJECT = "bench-bulk"


def write_source(path: Path, rows: int) -> None:
    with path.open("w") as out:
        for i in range(rows):
            line = {
                "attachment": f"Review number {i}: the product arrived on time and works well.",
                "unique_id": f"row-{i}",
                "metadata": {"row": i},
            }
            out.write(json.dumps(line) + "\n")


def run_cli(args: list[str], database_url: str) -> tuple[float, float]:
    """Run ``quorum …``; (seconds, peak resident MB) of that process.

    Its CPU seconds go to stderr too: on a shared machine, wall time also counts waiting for a core.
    """
    env = {**os.environ, "QUORUM_DATABASE_URL": database_url}
    began = time.perf_counter()
    process = subprocess.Popen([sys.executable, "-m", "quorum", *args], env=env)
    _, status, usage = os.wait4(process.pid, 0)
    elapsed = time.perf_counter() - began
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"quorum {' '.join(args)} failed")
    cpu = usage.ru_utime + usage.ru_stime
    print(f"quorum {args[0]}: {elapsed:.1f} s wall, {cpu:.1f} s CPU in the client", file=sys.stderr)
    return elapsed, usage.ru_maxrss / 1024


def settle(engine: Engine) -> None:
    """Write out what earlier work left dirty (``CHECKPOINT``, as pgbench does), so that a timed
    step does not pay for the setup before it: the untimed UPDATE of every task leaves a
    checkpoint's worth of writes that would otherwise land in the export."""
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        try:
            connection.execute(text("CHECKPOINT"))
        except DBAPIError as exc:  # not allowed for this role: measure as things are
            print(f"no CHECKPOINT before the step: {exc.orig}", file=sys.stderr)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--quick", action="store_true", help="100,000 rows")
    options = parser.parse_args()
    rows = 100_000 if options.quick else options.rows
    probe = cpu_probe()

    with scratch_database("postgresql") as database_url, tempfile.TemporaryDirectory() as folder:
        key = organization_key(database_url, "bulk")
        engine = create_db_engine(database_url)
        sessions = session_factory(engine)
        with transaction(sessions) as db:
            org_id = accounts.authenticate(db, secret=key).org_id
            data = ProjectCreate(
                name=PROJECT, type="categorization", params={"categories": ["good", "bad"]}
            )
            tasks.create_project(db, org_id=org_id, data=data)
        source = Path(folder) / "tasks.jsonl"
        write_source(source, rows)
        print(f"{rows:,} rows, {source.stat().st_size / 1e6:.0f} MB of JSONL", file=sys.stderr)

        settle(engine)
        seconds, import_mb = run_cli(
            ["import", str(source), "--project", PROJECT, "--key", key], database_url
        )
        import_rate = rows / seconds
        print(f"import: {import_rate:,.0f} rows/s, peak {import_mb:.0f} MB", file=sys.stderr)

        with engine.begin() as connection:
            connection.execute(
                text(
                    "UPDATE task SET status = 'completed', response = '{\"category\": \"good\"}', "
                    "completed_at = now() WHERE org_id = :org"
                ),
                {"org": org_id},
            )
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.execute(text("VACUUM ANALYZE task"))
        rates = {}
        peaks = []
        for fmt, name in (("jsonl", "out.jsonl"), ("parquet", "out.parquet")):
            out = Path(folder) / name
            settle(engine)
            seconds, peak_mb = run_cli(
                ["export", "--project", PROJECT, "--format", fmt, "--out", str(out), "--key", key],
                database_url,
            )
            rates[fmt] = rows / seconds
            peaks.append(peak_mb)
            print(
                f"export {fmt}: {rates[fmt]:,.0f} rows/s, peak {peak_mb:.0f} MB, "
                f"{out.stat().st_size / 1e6:.0f} MB",
                file=sys.stderr,
            )
        engine.dispose()

    print(
        json.dumps(
            {
                "rows": rows,
                "import_rows_per_s": round(import_rate),
                "import_peak_mb": round(import_mb),
                "export_jsonl_rows_per_s": round(rates["jsonl"]),
                "export_parquet_rows_per_s": round(rates["parquet"]),
                "export_peak_mb": round(max(peaks)),
                "cpu_probe_s": probe,
            }
        )
    )


if __name__ == "__main__":
    main()
