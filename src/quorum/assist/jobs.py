"""The active-learning trainer: retrains each opted-in project's model once enough new tasks
are completed, off the labeling path.

A worker's submit only completes a task; this loop notices the new completions (one query per
pass), reads the training set in one short transaction, fits with no transaction open, and stores
the model, pre-labels and priorities in another. Several servers side by side are harmless: the
store step locks the project's model row and keeps the newest training.
"""

import logging

from quorum.assist import service
from quorum.assist.active_learning import learn
from quorum.db import transaction
from quorum.db.periodic import PeriodicJob

log = logging.getLogger("quorum.assist")


class ActiveLearningTrainer(PeriodicJob):
    name = "quorum-active-learning"

    def train(self, project_id: str) -> bool:
        """Train one project's model and store it; False if a newer one was stored meanwhile."""
        with transaction(self.sessions) as db:
            training = service.active_learning_training_set(db, project_id=project_id)
        learned = learn(training)
        with transaction(self.sessions) as db:
            return service.install_active_learning_model(db, learned=learned)

    def run_once(self) -> int:
        """One pass over the projects due for training; how many were trained."""
        with transaction(self.sessions) as db:
            due = service.due_active_learning_projects(db)
        trained = 0
        for project_id in due:
            try:
                trained += self.train(project_id)
            except Exception:  # one project's failure does not starve the others
                log.exception("active-learning training of project %s failed", project_id)
        return trained
