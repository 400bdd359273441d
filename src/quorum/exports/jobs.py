"""The export runner: claims queued export jobs, writes them into the artifact store.

It runs as a thread inside ``quorum serve`` and inside ``quorum worker``; any number run side by
side against one database. While it writes, a heartbeat renews its lease and records progress, so
a job whose runner died is picked up again once the lease runs out.
"""

import logging
import shutil
import tempfile
import threading
import uuid
from pathlib import Path

from sqlalchemy.orm import Session, sessionmaker

from quorum.blobs import BlobStore
from quorum.db import transaction
from quorum.db.periodic import PeriodicJob
from quorum.db.session import read_snapshot
from quorum.errors import DomainError
from quorum.exports import service
from quorum.exports.formats import ExportStats, get_format
from quorum.settings import Settings

log = logging.getLogger("quorum.exports")


def artifact_store(settings: Settings) -> BlobStore:
    """Export artifacts: a blob store outside ``/blobs``, so they are only downloaded with a key."""
    return BlobStore(settings.home / "exports", settings.public_url)


class ExportRunner(PeriodicJob):
    """Runs due export jobs one after the other; ``run_once`` drains the queue for tests."""

    name = "quorum-export-runner"

    def __init__(self, settings: Settings, sessions: sessionmaker[Session]) -> None:
        super().__init__(sessions, settings.export_poll_seconds)
        self.settings = settings
        self.token = uuid.uuid4().hex

    def run_once(self) -> int:
        """Run jobs until none is due; how many were run."""
        ran = 0
        while not self.stopping.is_set() and self.run_next():
            ran += 1
        return ran

    def claim_next(self) -> service.ClaimedJob | None:
        with transaction(self.sessions) as db:
            return service.claim_export_job(
                db,
                claim_token=self.token,
                claim_seconds=self.settings.export_claim_seconds,
                max_attempts=self.settings.export_max_attempts,
                public_url=self.settings.public_url,
            )

    def run_next(self) -> bool:
        """Claim one job and run it to its end; False when none was due."""
        claim = self.claim_next()
        if claim is None:
            return False
        self.run(claim)
        return True

    def run(self, claim: service.ClaimedJob) -> None:
        """Write the export, move it into the store, record the outcome; never raises."""
        store = artifact_store(self.settings)
        workdir = Path(tempfile.mkdtemp(prefix=f"{claim.id}-", dir=store.scratch_dir()))
        stats = ExportStats()
        done = threading.Event()
        heartbeat = threading.Thread(
            target=self._heartbeat, args=(claim, stats, done), name=f"{self.name}-heartbeat"
        )
        stored, error = None, None
        try:
            with read_snapshot(self.sessions) as db:
                task_count = service.selected_task_count(db, claim=claim)
                self._renew(claim, stats, task_count)
                heartbeat.start()
                chosen = get_format(claim.format)
                target = workdir / f"export{chosen.suffix}"
                images = BlobStore.for_media(self.settings)
                try:
                    service.write_export(
                        db,
                        org_id=claim.org_id,
                        project=claim.project,
                        batch=claim.batch,
                        selection=claim.selection,
                        export_format=claim.format,
                        target=target,
                        blobs=images,
                        stats=stats,
                    )
                finally:
                    images.close()
            if chosen.directory:
                archive = workdir / "export.zip"
                service.zip_folder(target, archive)
                target = archive
            stored = store.put_file(target, service.artifact_suffix(claim.format))
        except DomainError as exc:
            error = exc.message
        except Exception as exc:  # the job fails with a reason; the runner goes on
            log.exception("export job %s failed", claim.id)
            error = f"internal error: {exc.__class__.__name__}"
        finally:
            done.set()
            if heartbeat.is_alive():
                heartbeat.join()
            shutil.rmtree(workdir, ignore_errors=True)
            store.close()
        with transaction(self.sessions) as db:
            recorded = service.finish_export_job(
                db,
                claim=claim,
                stats=stats,
                stored=stored,
                error=error,
                public_url=self.settings.public_url,
            )
        if not recorded:
            log.warning("export job %s: lease lost before it finished; result dropped", claim.id)

    def _renew(self, claim: service.ClaimedJob, stats: ExportStats, task_count: int | None) -> bool:
        with transaction(self.sessions) as db:
            return service.renew_claim(
                db,
                claim=claim,
                claim_seconds=self.settings.export_claim_seconds,
                row_count=stats.rows,
                task_count=task_count,
            )

    def _heartbeat(
        self, claim: service.ClaimedJob, stats: ExportStats, done: threading.Event
    ) -> None:
        """Renew the lease a few times per lease period while the export is written."""
        while not done.wait(self.settings.export_claim_seconds / 4):
            try:
                if not self._renew(claim, stats, None):
                    return
            except Exception:  # a missed beat only shortens the lease
                log.exception("export job %s: heartbeat failed", claim.id)
