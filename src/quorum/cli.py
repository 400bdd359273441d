"""The ``quorum`` command: serve, migrate, demo, organizations and keys.

Commands that create something print only its id or key on standard output, so scripts can
capture it; every other message goes to standard error.
"""

import os
import tempfile
from pathlib import Path
from typing import Annotated

import typer
import uvicorn
from rich.console import Console

from quorum.accounts import service as accounts
from quorum.accounts.schemas import Role
from quorum.db import create_db_engine, session_factory, transaction
from quorum.db.migrate import upgrade
from quorum.errors import DomainError
from quorum.ops.logs import log_config
from quorum.payouts import service as payouts
from quorum.settings import get_settings

app = typer.Typer(help="Quorum: open-source data labeling.", no_args_is_help=True)
org_app = typer.Typer(help="Organizations (tenants).", no_args_is_help=True)
key_app = typer.Typer(help="API keys.", no_args_is_help=True)
payouts_app = typer.Typer(help="Worker payouts.", no_args_is_help=True)
app.add_typer(org_app, name="org")
app.add_typer(key_app, name="key")
app.add_typer(payouts_app, name="payouts")
err = Console(stderr=True, soft_wrap=True)


def _engine():  # type: ignore[no-untyped-def]
    settings = get_settings()
    return create_db_engine(settings.database_url, busy_timeout_ms=settings.sqlite_busy_timeout_ms)


def _run_server(host: str, port: int, workers: int) -> None:
    if workers > 1 and not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        # Each worker process writes its request metrics here; /metrics adds them all up.
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="quorum-metrics-")
    uvicorn.run(
        "quorum.app:create_app_from_environment",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_level="warning",
        log_config=log_config(get_settings().log_level),
        timeout_graceful_shutdown=30,
    )


@app.command()
def migrate() -> None:
    """Apply database migrations up to the newest."""
    upgrade(_engine())
    err.print("[green]database is up to date[/green]")


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    workers: Annotated[int, typer.Option(help="Server processes.", min=1)] = 1,
) -> None:
    """Migrate the database, then serve the API (and pages) with N worker processes."""
    upgrade(_engine())
    err.print(f"Quorum on http://{host}:{port}  (API docs: http://{host}:{port}/docs)")
    _run_server(host, port, workers)


@app.command()
def demo(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    seed_only: Annotated[
        bool, typer.Option(help="Seed the demo, print the key, do not serve.")
    ] = False,
) -> None:
    """Create a demo organization with a project of every task type, print its key, and serve."""
    from quorum.demo import seed_demo

    engine = _engine()
    upgrade(engine)
    base_url = f"http://{host}:{port}"
    with transaction(session_factory(engine)) as db:
        summary = seed_demo(db, base_url=base_url)
    err.print(f"[bold]Quorum demo[/bold] — organization {summary.org_name!r}")
    for project, count in summary.projects.items():
        err.print(f"  project {project!r}: {count} tasks")
    err.print(f"  API:      {base_url}/v1  (HTTP Basic, the key as user name)")
    err.print(f"  API docs: {base_url}/docs")
    err.print("  Try:      curl -u $KEY: " + f"{base_url}/v1/tasks?project=demo-categorization")
    err.print("  API key (shown once):")
    typer.echo(summary.api_key)
    if not seed_only:
        _run_server(host, port, 1)


@org_app.command("create")
def org_create(name: str) -> None:
    """Create an organization; prints its id."""
    engine = _engine()
    upgrade(engine)
    with transaction(session_factory(engine)) as db:
        org = accounts.create_organization(db, name=name)
        typer.echo(org.id)


@key_app.command("create")
def key_create(
    org: Annotated[str, typer.Option(help="Organization name.")],
    test: Annotated[bool, typer.Option("--test", help="A test key instead of a live one.")] = False,
    name: Annotated[str, typer.Option(help="A label to recognize the key by.")] = "",
    role: Annotated[Role, typer.Option(help="What the key may do.")] = "owner",
    read_only: Annotated[bool, typer.Option("--read-only", help="Refuse every write.")] = False,
) -> None:
    """Create an API key; prints the secret, which is never shown again."""
    engine = _engine()
    upgrade(engine)
    with transaction(session_factory(engine)) as db:
        organization = accounts.get_organization_by_name(db, name=org)
        key = accounts.create_api_key(
            db,
            org_id=organization.id,
            kind="test" if test else "live",
            name=name,
            role=role,
            scope="read" if read_only else "full",
        )
        typer.echo(key.secret)


@key_app.command("revoke")
def key_revoke(key_id: str, org: Annotated[str, typer.Option(help="Organization name.")]) -> None:
    """Revoke an API key by id."""
    with transaction(session_factory(_engine())) as db:
        organization = accounts.get_organization_by_name(db, name=org)
        accounts.revoke_api_key(db, org_id=organization.id, key_id=key_id)
    err.print(f"revoked {key_id}")


@payouts_app.command("run")
def payouts_run(
    org: Annotated[str, typer.Option(help="Organization name.")],
    out: Annotated[Path, typer.Option(help="Where to write the run's CSV.")],
) -> None:
    """Pay every worker's settled balance; writes the CSV and prints the run id."""
    with transaction(session_factory(_engine())) as db:
        organization = accounts.get_organization_by_name(db, name=org)
        run = payouts.run_payouts(db, org_id=organization.id)
    # The run and its CSV are committed together; the file is a copy, replaced atomically.
    partial = out.with_name(out.name + ".partial")
    partial.write_text(run.csv)
    partial.replace(out)
    err.print(f"paid {run.total_cents / 100:.2f} to {run.worker_count} workers; CSV in {out}")
    typer.echo(run.id)


def main() -> None:
    """Entry point: domain errors become a one-line message and exit status 1."""
    try:
        app()
    except DomainError as exc:
        err.print(f"[red]error:[/red] {exc.message}")
        raise SystemExit(1) from None
