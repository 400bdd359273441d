"""Dawid-Skene, weighted majority and Beta-prior trust, on hand-checkable data and against
crowd-kit's reference implementation."""

import numpy as np
import pandas as pd
import pytest
from crowdkit.aggregation import DawidSkene, MajorityVote

from quorum.quality.aggregation import Labels, dawid_skene, item_posterior, weighted_majority
from quorum.quality.models import ProjectQuality, WorkerTrust
from quorum.quality.service import beta_trust, pause_due
from quorum.quality.synthetic import make_crowd, simulate_labels


def labels_of(answers: list[tuple[int, int, int]], n_classes: int = 2) -> Labels:
    tasks, workers, labels = (np.array(column) for column in zip(*answers, strict=True))
    return Labels(tasks, workers, labels, tasks.max() + 1, workers.max() + 1, n_classes)


def test_weighted_majority_counts_each_answer_at_its_workers_weight():
    labels = labels_of([(0, 0, 0), (0, 1, 1), (0, 2, 1), (1, 0, 0), (1, 1, 0), (1, 2, 1)])
    assert weighted_majority(labels).tolist() == [[1 / 3, 2 / 3], [2 / 3, 1 / 3]]
    shares = weighted_majority(labels, np.array([4.0, 1.0, 1.0]))
    assert shares.tolist() == [[4 / 6, 2 / 6], [5 / 6, 1 / 6]]


def test_gold_teaches_dawid_skene_that_a_worker_always_answers_the_opposite():
    # Worker 0 is always right, worker 1 always wrong: majority vote is a coin toss on every task.
    truth = [0, 1, 1, 0, 1]
    answers = [(t, 0, y) for t, y in enumerate(truth)] + [
        (t, 1, 1 - y) for t, y in enumerate(truth)
    ]
    labels = labels_of(answers)
    assert weighted_majority(labels).tolist() == [[0.5, 0.5]] * 5

    fit = dawid_skene(labels, gold={0: 0})

    assert fit.posteriors.argmax(axis=1).tolist() == truth
    assert fit.posteriors[0].tolist() == [1.0, 0.0], "a gold task stays clamped to its answer"
    assert fit.confusions[0].argmax(axis=1).tolist() == [0, 1], "worker 0 answers the truth"
    assert fit.confusions[1].argmax(axis=1).tolist() == [1, 0], "worker 1 answers the opposite"
    assert fit.worker_accuracy()[0] > 0.95 > 0.05 > fit.worker_accuracy()[1]


def test_item_posterior_multiplies_the_evidence_of_each_answer():
    # Two answers for class 0 at 0.8 accuracy, one for class 1 at 0.6, two classes, flat prior.
    likelihoods = np.array([[0.8, 0.2], [0.8, 0.2], [0.4, 0.6]])
    posterior = item_posterior(np.array([0.5, 0.5]), likelihoods)
    expected = 0.8 * 0.8 * 0.4 / (0.8 * 0.8 * 0.4 + 0.2 * 0.2 * 0.6)
    assert posterior[0] == pytest.approx(expected)


def test_our_dawid_skene_matches_crowdkit_and_beats_majority_vote():
    rng = np.random.default_rng(5)
    crowd = make_crowd(200, 4, rng)
    labels, truth = simulate_labels(5000, 3, crowd, rng)
    frame = pd.DataFrame({"task": labels.tasks, "worker": labels.workers, "label": labels.labels})

    ours = (dawid_skene(labels).posteriors.argmax(axis=1) == truth).mean()
    reference = (DawidSkene(n_iter=100, tol=1e-5).fit_predict(frame).sort_index() == truth).mean()
    majority = (MajorityVote().fit_predict(frame).sort_index() == truth).mean()

    assert abs(ours - reference) <= 0.005
    assert ours > majority + 0.03


def test_trust_starts_at_the_beta_prior_and_follows_gold_and_em_evidence():
    assert beta_trust() == 0.75
    assert beta_trust(gold_scored=10, gold_score_sum=10) == 13 / 14
    assert beta_trust(gold_scored=10, gold_score_sum=2) == 5 / 14
    # EM evidence counts at half weight: 40 labels at 1/3 accuracy weigh like 20 gold answers.
    spammer = beta_trust(em_accuracy=1 / 3, em_labels=40)
    assert spammer == pytest.approx((3 + 20 / 3) / (4 + 20))
    assert beta_trust(gold_scored=4, gold_score_sum=4, em_accuracy=0.95, em_labels=40) > 0.9


def scored_worker(
    gold_scored: int = 0,
    gold_right: float = 0.0,
    em_accuracy: float | None = None,
    em_labels: int = 0,
    scored_at_reinstatement: int = 0,
) -> WorkerTrust:
    return WorkerTrust(
        gold_scored=gold_scored,
        gold_score_sum=gold_right,
        em_accuracy=em_accuracy,
        em_labels=em_labels,
        scored_at_reinstatement=scored_at_reinstatement,
        paused_at=None,
    )


def test_a_worker_is_paused_only_once_their_accuracy_is_likely_under_the_threshold():
    settings = ProjectQuality(trust_threshold=0.55, trust_min_scored=15)
    # A fair worker's unlucky start: 1 of 3 gold right and 15 answers fitted at 0.5. Their mean
    # (0.53) is under the threshold, but the chance that they are under it is only 54 %.
    unlucky = scored_worker(gold_scored=3, gold_right=1, em_accuracy=0.5, em_labels=15)
    assert beta_trust(3, 1, 0.5, 15) < settings.trust_threshold
    assert not pause_due(unlucky, settings)
    # A spammer (1/3) is not yet distinguishable after 15 answers, and is after 40.
    assert not pause_due(scored_worker(em_accuracy=1 / 3, em_labels=15), settings)
    assert pause_due(scored_worker(em_accuracy=1 / 3, em_labels=40), settings)
    # Average (0.65) and biased workers with plenty of work stay.
    assert not pause_due(scored_worker(4, 2, em_accuracy=0.65, em_labels=92), settings)


def test_a_pause_needs_the_minimum_of_scored_work_since_any_reinstatement():
    settings = ProjectQuality(trust_threshold=0.55, trust_min_scored=15)
    assert not pause_due(scored_worker(gold_scored=10, gold_right=0), settings)
    assert pause_due(scored_worker(gold_scored=15, gold_right=0), settings)
    reinstated = scored_worker(em_accuracy=1 / 3, em_labels=40, scored_at_reinstatement=30)
    assert not pause_due(reinstated, settings), "10 answers since the reinstatement"
    never = ProjectQuality(trust_threshold=0.0, trust_min_scored=15)
    assert not pause_due(scored_worker(gold_scored=40, gold_right=0), never)
