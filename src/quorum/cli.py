"""The ``quorum`` command: serve, migrate, demo, organizations and keys.

Commands that create something print only its id or key on standard output, so scripts can
capture it; every other message goes to standard error.
"""

import ipaddress
import json
import os
import tempfile
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from quorum.accounts import service as accounts
from quorum.accounts.schemas import Role
from quorum.db import create_db_engine, session_factory, transaction
from quorum.db.migrate import upgrade
from quorum.errors import DomainError
from quorum.settings import InsecureSecretKey, get_settings

app = typer.Typer(help="Quorum: open-source data labeling.", no_args_is_help=True)
org_app = typer.Typer(help="Organizations (tenants).", no_args_is_help=True)
key_app = typer.Typer(help="API keys.", no_args_is_help=True)
payouts_app = typer.Typer(help="Worker payouts.", no_args_is_help=True)
staff_app = typer.Typer(help="Platform staff accounts (operators).", no_args_is_help=True)
app.add_typer(org_app, name="org")
app.add_typer(staff_app, name="staff")
app.add_typer(key_app, name="key")
app.add_typer(payouts_app, name="payouts")
err = Console(stderr=True, soft_wrap=True)


def _engine():  # type: ignore[no-untyped-def]
    settings = get_settings()
    return create_db_engine(settings.database_url, busy_timeout_ms=settings.sqlite_busy_timeout_ms)


def _run_server(host: str, port: int, workers: int) -> None:
    import uvicorn

    from quorum.ops.accept import uvicorn_loop
    from quorum.ops.logs import log_config

    if workers > 1 and not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        # Each worker process writes its request metrics here; /metrics adds them all up.
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="quorum-metrics-")
    settings = get_settings()
    # Several worker processes take turns accepting connections (quorum.ops.accept).
    with uvicorn_loop(workers) as loop:
        uvicorn.run(
            "quorum.app:create_app_from_environment",
            factory=True,
            host=host,
            port=port,
            workers=workers,
            loop=loop,
            # httptools, with deadlines on requests still arriving (quorum.ops.connections).
            http="quorum.ops.connections:DeadlineHttpProtocol",
            ws="none",
            timeout_keep_alive=settings.keep_alive_seconds,
            log_level="warning",
            log_config=log_config(settings.log_level),
            timeout_graceful_shutdown=30,
        )


def _is_loopback(host: str) -> bool:
    try:
        return host == "localhost" or ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _refuse_default_secret() -> None:
    """Stop with one line for the operator before serving with the public default secret."""
    try:
        get_settings().refuse_default_secret()
    except InsecureSecretKey as exc:
        err.print(f"[red]refusing to serve:[/red] {exc}", highlight=False, markup=True)
        raise typer.Exit(2) from None


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
    _refuse_default_secret()
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

    # The demo runs on the public default secret unless one is set, on this machine only; the
    # app is built from the environment (uvicorn's factory), so the environment says it is the
    # demo.
    if not seed_only and not _is_loopback(host):
        _refuse_default_secret()
    os.environ["QUORUM_ENV"] = "demo"
    get_settings.cache_clear()
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
    err.print(f"  Web app:  {base_url}/  (label as a worker)")
    err.print(f"            worker {summary.worker_email}, password {summary.worker_password}")
    err.print(f"            customers: {base_url}/customer/login with the API key below")
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


@staff_app.command("create")
def staff_create(
    email: str,
    password: Annotated[
        str,
        typer.Option(
            envvar="QUORUM_STAFF_PASSWORD",
            prompt=True,
            hide_input=True,
            confirmation_prompt=True,
            help="At least 12 characters; asked for when not given.",
        ),
    ],
    name: Annotated[str, typer.Option(help="Display name.")] = "",
) -> None:
    """Create a platform operator, who logs in at POST /v1/staff/login; prints the account id."""
    engine = _engine()
    upgrade(engine)
    with transaction(session_factory(engine)) as db:
        staff = accounts.create_staff(db, email=email, password=password, name=name)
        typer.echo(staff.id)


@staff_app.command("disable")
def staff_disable(email: str) -> None:
    """Disable a staff account: its sessions stop working at once."""
    with transaction(session_factory(_engine())) as db:
        accounts.disable_staff(db, email=email)
    err.print(f"disabled {email}")


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
    from quorum.payouts import service as payouts

    with transaction(session_factory(_engine())) as db:
        organization = accounts.get_organization_by_name(db, name=org)
        run = payouts.run_payouts(db, org_id=organization.id)
    # The run and its CSV are committed together; the file is a copy, replaced atomically.
    partial = out.with_name(out.name + ".partial")
    partial.write_text(payouts.payout_csv(run))
    partial.replace(out)
    err.print(f"paid {run.total_cents / 100:.2f} to {run.worker_count} workers; CSV in {out}")
    typer.echo(run.id)


# The customer's workflow: projects, batches, import, status, export, callbacks.

projects_app = typer.Typer(help="Projects (through the API).", no_args_is_help=True)
batches_app = typer.Typer(help="Batches (through the API).", no_args_is_help=True)
callbacks_app = typer.Typer(help="Callback deliveries (through the API).", no_args_is_help=True)
exports_app = typer.Typer(
    help="Export jobs: run in the background, downloaded when ready.", no_args_is_help=True
)
app.add_typer(projects_app, name="projects")
app.add_typer(batches_app, name="batches")
app.add_typer(callbacks_app, name="callbacks")
app.add_typer(exports_app, name="exports")

ApiKeyOption = Annotated[str, typer.Option("--key", envvar="QUORUM_API_KEY", help="API key.")]
ApiUrlOption = Annotated[
    str, typer.Option("--url", envvar="QUORUM_API_URL", help="Quorum server URL.")
]
DirectUrlOption = Annotated[
    str | None,
    typer.Option(
        "--url",
        envvar="QUORUM_API_URL",
        help="Go through this server; without it, straight to the database (the fast path).",
    ),
]
DEFAULT_API_URL = "http://127.0.0.1:8000"


def _client(key: str, url: str):  # type: ignore[no-untyped-def]
    from quorum.client import Client

    return Client(key, url)


def _echo_json(value: object) -> None:
    typer.echo(json.dumps(value, indent=2, default=str))


@projects_app.command("create")
def projects_create(
    name: str,
    task_type: Annotated[str, typer.Option("--type", help="Task type of the project.")],
    key: ApiKeyOption,
    url: ApiUrlOption = DEFAULT_API_URL,
    params: Annotated[str, typer.Option(help="Default task params, as JSON.")] = "{}",
    callback_url: Annotated[str | None, typer.Option(help="Default callback URL.")] = None,
) -> None:
    """Create a project; prints its id."""
    with _client(key, url) as client:
        extra = {"callback_url": callback_url} if callback_url else {}
        project = client.create_project(name, task_type, params=json.loads(params), **extra)
    typer.echo(project.id)


@projects_app.command("list")
def projects_list(key: ApiKeyOption, url: ApiUrlOption = DEFAULT_API_URL) -> None:
    """Projects of the organization, one name per line."""
    with _client(key, url) as client:
        for project in client.projects():
            typer.echo(f"{project.name}\t{project.type}")


@batches_app.command("create")
def batches_create(
    name: str,
    project: Annotated[str, typer.Option(help="Project of the batch.")],
    key: ApiKeyOption,
    url: ApiUrlOption = DEFAULT_API_URL,
) -> None:
    """Create a batch in staging; prints its id."""
    with _client(key, url) as client:
        typer.echo(client.create_batch(name, project).id)


@batches_app.command("finalize")
def batches_finalize(name: str, key: ApiKeyOption, url: ApiUrlOption = DEFAULT_API_URL) -> None:
    """Release a batch's tasks to the workforce."""
    with _client(key, url) as client:
        client.finalize_batch(name)
    err.print(f"finalized {name}")


@batches_app.command("list")
def batches_list(
    key: ApiKeyOption,
    url: ApiUrlOption = DEFAULT_API_URL,
    project: Annotated[str | None, typer.Option(help="Only this project's.")] = None,
) -> None:
    """Batches with their status, one per line."""
    filters = {"project": project} if project else {}
    with _client(key, url) as client:
        for batch in client.batches(**filters):
            typer.echo(f"{batch.name}\t{batch.project}\t{batch.status}")


@app.command()
def status(batch: str, key: ApiKeyOption, url: ApiUrlOption = DEFAULT_API_URL) -> None:
    """A batch's status and task counts, as JSON."""
    with _client(key, url) as client:
        _echo_json(client.batch_status(batch).model_dump())


@app.command("import")
def import_command(
    source: Annotated[Path, typer.Argument(help="JSONL, CSV or Parquet file, or datasets folder.")],
    project: Annotated[str, typer.Option(help="Project the tasks go to.")],
    key: ApiKeyOption,
    url: DirectUrlOption = None,
    batch: Annotated[str | None, typer.Option(help="Batch the tasks go to.")] = None,
    source_format: Annotated[
        str | None, typer.Option("--format", help="jsonl, csv, parquet or hf (default: guessed).")
    ] = None,
    map_: Annotated[
        list[str] | None,
        typer.Option("--map", help="target=column (or target=json:column); repeatable."),
    ] = None,
    split: Annotated[str, typer.Option(help="Split of a datasets folder.")] = "train",
    atomic: Annotated[bool, typer.Option(help="All rows or none.")] = False,
    images: Annotated[
        bool,
        typer.Option(
            help="Copy each row's attachment (an http(s) URL, or a path inside FILE's folder) "
            "to the blob store."
        ),
    ] = False,
    rejects: Annotated[
        Path | None, typer.Option(help="Write rejected rows here (JSONL: line, reason).")
    ] = None,
) -> None:
    """Import tasks in bulk; re-running creates nothing twice (rows are keyed by unique_id).

    Exits with status 1 when any row was rejected (none is created if --atomic).
    """
    from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

    from quorum.blobs import BlobStore
    from quorum.bulk import cycle_collection_paused
    from quorum.outside import outside_client
    from quorum.tasks import ingest

    fmt = source_format or ingest.detect_format(source)
    mapping = ingest.parse_mapping(map_ or []) or None
    total = ingest.count_rows(source, fmt, split=split)
    rows = ingest.read_rows(source, fmt, split=split)
    progress = Progress(
        TextColumn("importing"),
        BarColumn(),
        TextColumn("{task.completed:,.0f}/{task.total:,.0f} rows"),
        TextColumn("{task.fields[rate]}"),
        TimeRemainingColumn(),
        console=err,
    )
    with progress:
        bar = progress.add_task("import", total=total, rate="")

        def advance(count: int) -> None:
            progress.advance(bar, count)
            speed = progress.tasks[0].speed
            progress.update(bar, rate=f"{speed:,.0f} rows/s" if speed else "")

        if url:
            if images or atomic:
                raise typer.BadParameter("--images and --atomic need the direct database path")
            report = _import_through_api(key, url, project, batch, mapping, rows, advance)
        else:
            settings = get_settings()
            engine = _engine()
            upgrade(engine)
            sessions = session_factory(engine)
            with transaction(sessions) as db:
                org_id = accounts.authenticate(db, secret=key).org_id
            blobs = (
                BlobStore.for_media(settings, fetcher=outside_client(settings)) if images else None
            )
            with cycle_collection_paused():
                report = ingest.run_import(
                    sessions,
                    org_id=org_id,
                    project=project,
                    batch=batch,
                    rows=rows,
                    mapping=mapping,
                    atomic=atomic,
                    blobs=blobs,
                    relative_to=source.parent,
                    on_progress=advance,
                )
    if rejects is not None:
        with rejects.open("w") as out:
            for error in report.rejected:
                out.write(json.dumps({"line": error.line, "reason": error.reason}) + "\n")
    for error in report.rejected[:20]:
        err.print(f"line {error.line}: {error.reason}", markup=False)
    if len(report.rejected) > 20:
        err.print(f"… and {len(report.rejected) - 20} more rejected rows")
    nothing = " (atomic: nothing imported)" if atomic and report.rejected else ""
    err.print(
        f"created {report.created:,}, already there {report.existing:,}, "
        f"rejected {len(report.rejected):,}{nothing}"
    )
    if report.rejected:
        raise typer.Exit(1)


def _import_through_api(key, url, project, batch, mapping, rows, advance):  # type: ignore[no-untyped-def]
    """Send rows through the SDK; unreadable rows are reported without being sent."""
    from quorum.tasks.ingest import ImportReport, RowError

    report = ImportReport()
    with _client(key, url) as client:
        pending: list[tuple[int, dict]] = []

        def flush() -> None:
            body = {
                "rows": [row for _, row in pending],
                "batch": batch,
                "mapping": mapping,
                "first_line": 1,
            }
            reply = client.request("POST", f"/v1/projects/{project}/import", json=body).json()
            report.created += reply["created"]
            report.existing += reply["existing"]
            lines = [line for line, _ in pending]
            report.rejected.extend(
                RowError(lines[e["line"] - 1], e["reason"]) for e in reply["rejected"]
            )
            advance(len(pending))
            pending.clear()

        for line, row in rows:
            if isinstance(row, RowError):
                report.rejected.append(row)
                advance(1)
                continue
            pending.append((line, row))
            if len(pending) >= 1000:
                flush()
        if pending:
            flush()
    report.rejected.sort(key=lambda e: e.line)
    return report


@app.command("export")
def export_command(
    project: Annotated[str, typer.Option(help="Project to export.")],
    export_format: Annotated[
        str, typer.Option("--format", help="jsonl, sft, dpo, parquet, coco, yolo or hf.")
    ],
    out: Annotated[Path, typer.Option(help="File (or folder, for coco, yolo, hf) to write.")],
    key: ApiKeyOption,
    url: DirectUrlOption = None,
    batch: Annotated[str | None, typer.Option(help="Only this batch.")] = None,
    include: Annotated[
        str, typer.Option(help="accepted (default), completed, or all tasks.")
    ] = "accepted",
) -> None:
    """Export tasks, streaming; through a server, folder formats arrive as a zip at --out."""
    from quorum.blobs import BlobStore
    from quorum.bulk import cycle_collection_paused
    from quorum.exports.service import write_export

    if url:
        with _client(key, url) as client:
            client.export(project, export_format, out, batch=batch, include=include)
        err.print(f"exported to {out}")
        return
    settings = get_settings()
    sessions = session_factory(_engine())
    with transaction(sessions) as db, cycle_collection_paused():
        org_id = accounts.authenticate(db, secret=key).org_id
        stats = write_export(
            db,
            org_id=org_id,
            project=project,
            batch=batch,
            selection=include,  # type: ignore[arg-type]
            export_format=export_format,
            target=out,
            blobs=BlobStore.for_media(settings),
        )
    skipped = ", ".join(f"{n} {reason}" for reason, n in stats.skipped.items())
    err.print(
        f"exported {stats.rows:,} rows to {out}" + (f" (skipped {skipped})" if skipped else "")
    )


@exports_app.command("create")
def exports_create(
    project: Annotated[str, typer.Option(help="Project to export.")],
    export_format: Annotated[
        str, typer.Option("--format", help="jsonl, sft, dpo, parquet, coco, yolo or hf.")
    ],
    key: ApiKeyOption,
    url: ApiUrlOption = DEFAULT_API_URL,
    batch: Annotated[str | None, typer.Option(help="Only this batch.")] = None,
    include: Annotated[
        str, typer.Option(help="accepted (default), completed, or all tasks.")
    ] = "accepted",
    callback_url: Annotated[
        str | None, typer.Option(help="Where export.ready goes (default: the project's).")
    ] = None,
) -> None:
    """Queue an export job; prints its id."""
    with _client(key, url) as client:
        job = client.create_export_job(
            project, export_format, batch=batch, include=include, callback_url=callback_url
        )
    typer.echo(job.id)


@exports_app.command("list")
def exports_list(
    key: ApiKeyOption,
    url: ApiUrlOption = DEFAULT_API_URL,
    project: Annotated[str | None, typer.Option(help="Only this project's.")] = None,
) -> None:
    """Export jobs newest first, one per line: id, state, project, format, rows, size."""
    filters = {"project": project} if project else {}
    with _client(key, url) as client:
        for job in client.export_jobs(**filters):
            typer.echo(
                f"{job.id}\t{job.state}\t{job.project}\t{job.format}\t{job.row_count}\t"
                f"{job.size_bytes if job.size_bytes is not None else ''}"
            )


def _wait_with_progress(client, export_id: str, timeout: float):  # type: ignore[no-untyped-def]
    """Poll a job with a progress bar of rows written against tasks selected."""
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    progress = Progress(
        TextColumn("exporting ({task.fields[state]})"),
        BarColumn(),
        TextColumn("{task.fields[rows]}"),
        TimeElapsedColumn(),
        console=err,
    )
    with progress:
        bar = progress.add_task("export", total=None, state="queued", rows="")

        def show(job) -> None:  # type: ignore[no-untyped-def]
            of = f"/{job.task_count:,}" if job.task_count is not None else ""
            rows = f"{job.row_count:,}{of} rows"
            progress.update(
                bar, total=job.task_count, completed=job.row_count, state=job.state, rows=rows
            )

        return client.wait_for_export(export_id, timeout=timeout, on_progress=show)


@exports_app.command("wait")
def exports_wait(
    export_id: str,
    key: ApiKeyOption,
    url: ApiUrlOption = DEFAULT_API_URL,
    out: Annotated[Path | None, typer.Option(help="Download the artifact here when done.")] = None,
    timeout: Annotated[float, typer.Option(help="Give up after this many seconds.")] = 3600,
) -> None:
    """Wait for an export job with a progress display; exits 1 if it failed."""
    with _client(key, url) as client:
        job = _wait_with_progress(client, export_id, timeout)
        if job.state == "failed":
            err.print(f"[red]export {export_id} failed:[/red] {job.error}", markup=True)
            raise typer.Exit(1)
        err.print(f"export {export_id}: {job.row_count:,} rows, {job.size_bytes:,} bytes")
        if out is not None:
            client.download_export(export_id, out)
            err.print(f"downloaded to {out}")


@exports_app.command("download")
def exports_download(
    export_id: str,
    out: Annotated[Path, typer.Option(help="File to write (folder formats arrive as a zip).")],
    key: ApiKeyOption,
    url: ApiUrlOption = DEFAULT_API_URL,
) -> None:
    """Download a finished export job's artifact."""
    with _client(key, url) as client:
        client.download_export(export_id, out)
    err.print(f"downloaded to {out}")


@callbacks_app.command("list")
def callbacks_list(
    key: ApiKeyOption,
    url: ApiUrlOption = DEFAULT_API_URL,
    state: Annotated[str | None, typer.Option(help="pending, delivered or dead.")] = None,
) -> None:
    """Callback events, one per line: id, state, attempts, task, last error."""
    with _client(key, url) as client:
        for event in client.callbacks(state=state):
            typer.echo(
                f"{event.id}\t{event.state}\t{event.attempts}\t{event.task_id}\t"
                f"{event.last_error or ''}"
            )


@callbacks_app.command("redeliver")
def callbacks_redeliver(
    event_id: str, key: ApiKeyOption, url: ApiUrlOption = DEFAULT_API_URL
) -> None:
    """Queue a (dead or delivered) callback event again."""
    with _client(key, url) as client:
        client.redeliver_callback(event_id)
    err.print(f"queued {event_id} for redelivery")


@app.command()
def worker() -> None:
    """Deliver callbacks and run export jobs until stopped (SIGINT or SIGTERM); run as many as
    you like."""
    import signal

    from quorum.callbacks.jobs import CallbackSender
    from quorum.exports.jobs import ExportRunner

    settings = get_settings()
    sessions = session_factory(_engine())
    sender = CallbackSender(settings, sessions)
    runner = ExportRunner(settings, sessions) if settings.export_poll_seconds > 0 else None
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: sender.stopping.set())
    if runner is not None:
        runner.start()
    err.print("delivering callbacks and running exports; Ctrl-C to stop")
    sender.run()
    if runner is not None:
        runner.stop()
    sender.stop()


def main() -> None:
    """Entry point: domain errors become a one-line message and exit status 1."""
    try:
        app()
    except DomainError as exc:
        err.print(f"[red]error:[/red] {exc.message}")
        raise SystemExit(1) from None
