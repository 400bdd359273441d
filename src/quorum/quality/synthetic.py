"""A seeded synthetic crowd with known truth, for the tests, the benchmark and the demo.

Each worker has a confusion matrix: experts are right about 95 % of the time, average workers
about 70 %, spammers answer uniformly at random, and biased workers lean on one favourite class.
"""

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from quorum.quality.aggregation import Labels

CROWD_MIX = {"expert": 0.15, "average": 0.5, "spammer": 0.25, "biased": 0.1}


@dataclass(frozen=True)
class Crowd:
    """Workers' kinds and confusion matrices (``confusions[w, true, observed]``)."""

    kinds: list[str]
    confusions: NDArray[np.float64]

    def answer(
        self, rng: np.random.Generator, workers: NDArray[np.intp], truths: NDArray[np.intp]
    ) -> NDArray[np.intp]:
        """Draw each worker's answer to a task of the given true class."""
        probabilities = self.confusions[workers, truths]
        cumulative = probabilities.cumsum(axis=1)
        draws = rng.random(len(workers))[:, None]
        return np.minimum((draws > cumulative).sum(axis=1), self.confusions.shape[1] - 1)


def _confusion(kind: str, n_classes: int, rng: np.random.Generator) -> NDArray[np.float64]:
    if kind == "spammer":
        return np.full((n_classes, n_classes), 1.0 / n_classes)
    if kind == "biased":
        favourite = int(rng.integers(n_classes))
        matrix = 0.5 * _confusion("expert", n_classes, rng)
        matrix[:, favourite] += 0.5
        return matrix
    accuracy = {"expert": 0.95, "average": 0.7}[kind] + rng.uniform(-0.03, 0.03)
    matrix = np.full((n_classes, n_classes), (1 - accuracy) / (n_classes - 1))
    np.fill_diagonal(matrix, accuracy)
    return matrix


def make_crowd(n_workers: int, n_classes: int, rng: np.random.Generator) -> Crowd:
    """A crowd in the proportions of ``CROWD_MIX`` (rounded, at least one expert)."""
    kinds: list[str] = []
    for kind, share in CROWD_MIX.items():
        kinds += [kind] * round(share * n_workers)
    kinds = (kinds + ["average"] * n_workers)[:n_workers]
    kinds[0] = "expert"
    confusions = np.stack([_confusion(kind, n_classes, rng) for kind in kinds])
    return Crowd(kinds=kinds, confusions=confusions)


def simulate_labels(
    n_tasks: int,
    per_task: int,
    crowd: Crowd,
    rng: np.random.Generator,
    priors: NDArray[np.float64] | None = None,
) -> tuple[Labels, NDArray[np.intp]]:
    """Truth for every task and ``per_task`` answers each from distinct workers."""
    n_workers, n_classes = crowd.confusions.shape[:2]
    truth = rng.choice(n_classes, size=n_tasks, p=priors)
    # Distinct workers per task: a random start and a stride too short to wrap onto itself.
    start = rng.integers(n_workers, size=n_tasks)
    stride = rng.integers(1, max(2, n_workers // per_task), size=n_tasks)
    workers = (start[:, None] + stride[:, None] * np.arange(per_task)) % n_workers
    tasks = np.repeat(np.arange(n_tasks), per_task)
    workers = workers.reshape(-1)
    labels = crowd.answer(rng, workers, truth[tasks])
    return Labels(tasks, workers, labels, n_tasks, n_workers, n_classes), truth
