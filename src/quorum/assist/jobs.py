"""The active-learning trainer: retrains each opted-in project's model once enough new tasks
are completed, off the labeling path.

A worker's submit only completes a task; this loop notices the new completions (one query per
pass), reads the training set in one short transaction, fits with no transaction open, and stores
the model, pre-labels and priorities in another. Several servers side by side are harmless: the
store step locks the project's model row and keeps the newest training.
"""

import logging
import threading

from sqlalchemy.orm import Session, sessionmaker

from quorum.assist import service
from quorum.assist.active_learning import learn
from quorum.db import transaction

log = logging.getLogger("quorum.assist")


class ActiveLearningTrainer:
    def __init__(self, sessions: sessionmaker[Session], interval_seconds: float) -> None:
        self.sessions = sessions
        self.interval_seconds = interval_seconds
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._run, name="quorum-active-learning", daemon=True)

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

    def _run(self) -> None:
        while not self.stopping.wait(self.interval_seconds):
            try:
                self.run_once()
            except Exception:  # the loop outlives a database hiccup
                log.exception("active-learning training failed")

    def start(self) -> None:
        self.thread.start()

    def stop(self) -> None:
        self.stopping.set()
        self.thread.join(timeout=10)
