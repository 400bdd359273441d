"""Label aggregation in vectorized numpy: weighted majority vote and Dawid-Skene.

Labels are three parallel integer arrays (``tasks``, ``workers``, ``labels``), one entry per answer,
with tasks in ``0..n_tasks-1``, workers in ``0..n_workers-1`` and classes in ``0..n_classes-1``.
Every loop over answers is a ``np.bincount``, so a million labels take well under a second per
EM iteration.
"""

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

# Added to every confusion count so an unseen (true, observed) pair is unlikely, never impossible.
CONFUSION_SMOOTHING = 0.01


@dataclass(frozen=True)
class Labels:
    """Categorical answers as parallel arrays, with the sizes of each index space."""

    tasks: NDArray[np.intp]
    workers: NDArray[np.intp]
    labels: NDArray[np.intp]
    n_tasks: int
    n_workers: int
    n_classes: int


@dataclass(frozen=True)
class DawidSkeneFit:
    """Posteriors per task (rows sum to 1), class priors, and each worker's confusion matrix.

    ``confusions[w, true, observed]`` is the probability that worker ``w`` answers ``observed``
    when the truth is ``true``; ``iterations`` is how many EM rounds ran.
    """

    posteriors: NDArray[np.float64]
    priors: NDArray[np.float64]
    confusions: NDArray[np.float64]
    iterations: int

    def worker_accuracy(self) -> NDArray[np.float64]:
        """Each worker's chance of a right answer, averaged over the class priors."""
        diagonal = np.diagonal(self.confusions, axis1=1, axis2=2)
        return diagonal @ self.priors


def _per_task_sums(labels: Labels, weights: NDArray[np.float64]) -> NDArray[np.float64]:
    """``out[t, k]`` = sum of ``weights`` over the answers to task ``t`` that chose ``k``."""
    flat = labels.tasks * labels.n_classes + labels.labels
    sums = np.bincount(flat, weights=weights, minlength=labels.n_tasks * labels.n_classes)
    return sums.reshape(labels.n_tasks, labels.n_classes)


def _normalize_rows(matrix: NDArray[np.float64]) -> NDArray[np.float64]:
    """Rows scaled to sum to 1; an all-zero row (a task nobody answered) becomes uniform."""
    totals = matrix.sum(axis=1, keepdims=True)
    uniform = np.full_like(matrix, 1.0 / matrix.shape[1])
    return np.divide(matrix, totals, out=uniform, where=totals > 0)


def weighted_majority(
    labels: Labels, worker_weights: NDArray[np.float64] | None = None
) -> NDArray[np.float64]:
    """Vote shares per task: each answer counts its worker's weight (1 when none is given)."""
    weights = (
        np.ones(len(labels.labels)) if worker_weights is None else worker_weights[labels.workers]
    )
    return _normalize_rows(_per_task_sums(labels, weights))


def _clamp(posteriors: NDArray[np.float64], gold: dict[int, int]) -> None:
    """Known answers are certain: their rows become one-hot, whatever the crowd said."""
    if not gold:
        return
    rows = np.fromiter(gold.keys(), dtype=np.intp, count=len(gold))
    classes = np.fromiter(gold.values(), dtype=np.intp, count=len(gold))
    posteriors[rows] = 0.0
    posteriors[rows, classes] = 1.0


def _m_step(
    labels: Labels, posteriors: NDArray[np.float64]
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Class priors and confusion matrices that best explain the answers under these posteriors."""
    k = labels.n_classes
    priors = posteriors.mean(axis=0)
    observed = labels.workers * k + labels.labels
    answered_true = posteriors[labels.tasks]  # (answers, true class)
    counts = np.empty((labels.n_workers * k, k))
    for true_class in range(k):
        counts[:, true_class] = np.bincount(
            observed, weights=answered_true[:, true_class], minlength=labels.n_workers * k
        )
    # counts[(w, observed), true] -> confusions[w, true, observed]
    confusions = counts.reshape(labels.n_workers, k, k).transpose(0, 2, 1) + CONFUSION_SMOOTHING
    confusions /= confusions.sum(axis=2, keepdims=True)
    return priors, confusions


def _e_step(
    labels: Labels, priors: NDArray[np.float64], confusions: NDArray[np.float64]
) -> tuple[NDArray[np.float64], float]:
    """Posterior over the true class of every task, and the log-likelihood per answer."""
    log_confusions = np.log(confusions)
    # For each answer, log P(observed | true = j) for every j: (answers, classes).
    evidence = log_confusions[labels.workers, :, labels.labels]
    log_posteriors = np.empty((labels.n_tasks, labels.n_classes))
    for true_class in range(labels.n_classes):
        log_posteriors[:, true_class] = np.bincount(
            labels.tasks, weights=evidence[:, true_class], minlength=labels.n_tasks
        )
    log_posteriors += np.log(np.maximum(priors, 1e-12))
    peaks = log_posteriors.max(axis=1, keepdims=True)
    posteriors = np.exp(log_posteriors - peaks)
    totals = posteriors.sum(axis=1, keepdims=True)
    posteriors /= totals
    log_likelihood = float((np.log(totals) + peaks).sum()) / max(len(labels.labels), 1)
    return posteriors, log_likelihood


def dawid_skene(
    labels: Labels,
    *,
    gold: dict[int, int] | None = None,
    max_iterations: int = 100,
    tolerance: float = 1e-5,
) -> DawidSkeneFit:
    """Fit the full-confusion-matrix Dawid-Skene model by EM, starting from majority vote.

    EM stops when the log-likelihood per answer gains less than ``tolerance`` in a round.
    ``gold`` maps task index to its known class; those tasks stay clamped to their answer in every
    round, so they anchor each worker's confusion matrix.
    """
    gold = gold or {}
    posteriors = weighted_majority(labels)
    _clamp(posteriors, gold)
    priors, confusions = _m_step(labels, posteriors)
    previous = -np.inf
    iterations = 0
    for iterations in range(1, max_iterations + 1):  # noqa: B007 (the count is returned)
        posteriors, log_likelihood = _e_step(labels, priors, confusions)
        _clamp(posteriors, gold)
        priors, confusions = _m_step(labels, posteriors)
        if log_likelihood - previous < tolerance:
            break
        previous = log_likelihood
    return DawidSkeneFit(
        posteriors=posteriors, priors=priors, confusions=confusions, iterations=iterations
    )


def item_posterior(
    priors: NDArray[np.float64], likelihoods: NDArray[np.float64]
) -> NDArray[np.float64]:
    """One task's posterior: ``likelihoods[i, j]`` = P(answer i | true class j) per answer."""
    log_posterior = np.log(np.maximum(priors, 1e-12)) + np.log(likelihoods).sum(axis=0)
    log_posterior -= log_posterior.max()
    posterior = np.exp(log_posterior)
    return posterior / posterior.sum()


def one_coin_likelihoods(
    answers: NDArray[np.intp], accuracies: NDArray[np.float64], n_classes: int
) -> NDArray[np.float64]:
    """P(answer | truth) for workers known only by an accuracy: errors spread evenly."""
    accuracies = np.clip(accuracies, 1e-3, 1 - 1e-3)
    wrong = (1 - accuracies) / max(n_classes - 1, 1)
    likelihoods = np.repeat(wrong[:, None], n_classes, axis=1)
    likelihoods[np.arange(len(answers)), answers] = accuracies
    return likelihoods
