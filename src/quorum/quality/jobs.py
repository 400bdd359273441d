"""The quality refitter: re-fits each project's Dawid-Skene model and worker trust off the
labeling path, once ``REFIT_EVERY`` more tasks completed since the last fit.

Several servers side by side are harmless: a fit locks its project's quality row with SKIP LOCKED,
so a project being fitted elsewhere is passed over.
"""

import logging

from quorum.db import transaction
from quorum.db.periodic import PeriodicJob
from quorum.quality import service

log = logging.getLogger("quorum.quality")


class QualityRefitter(PeriodicJob):
    name = "quorum-quality-refitter"

    def run_once(self) -> int:
        """One pass; how many projects were re-fitted."""
        with transaction(self.sessions) as db:
            due = service.projects_due_for_refit(db)
        for project_id in due:
            try:
                with transaction(self.sessions) as db:
                    service.refit(db, project_id=project_id)
            except Exception:  # one project's failure does not starve the others
                log.exception("quality re-fit of project %s failed", project_id)
        return len(due)
