"""The leaderboard's mathematics on simulated campaigns with known true strengths."""

import numpy as np

from quorum.evaluation.leaderboard import (
    ELO_CENTRE,
    ELO_PER_LOGIT,
    Judgments,
    against_consensus,
    consensus_probability,
    fit_scores,
    fit_with_intervals,
    ranks_with_ties,
    style_difference,
    style_of,
    win_rates,
)


def kendall_tau(a: np.ndarray, b: np.ndarray) -> float:
    i, j = np.triu_indices(len(a), 1)
    return float(np.mean(np.sign(a[i] - a[j]) * np.sign(b[i] - b[j])))


def simulate(
    strengths: np.ndarray,
    count: int,
    rng: np.random.Generator,
    *,
    tie_rate: float = 0.1,
    style: np.ndarray | None = None,
    style_effect: float = 0.0,
) -> Judgments:
    """Random pairs; the left wins with P = sigmoid(s_left - s_right + effect . style)."""
    entries = len(strengths)
    left = rng.integers(0, entries, count)
    right = (left + rng.integers(1, entries, count)) % entries
    logit = strengths[left] - strengths[right]
    if style is not None:
        logit = logit + style_effect * style[:, 0]
    p = 1 / (1 + np.exp(-logit))
    outcome = (rng.random(count) < p).astype(float)
    outcome[rng.random(count) < tie_rate] = 0.5
    return Judgments(left, right, outcome, np.ones(count), style)


def test_bradley_terry_recovers_the_true_ranking_of_eight_models():
    rng = np.random.default_rng(1)
    truth = np.linspace(-1.5, 1.5, 8)
    scores, _ = fit_scores(simulate(truth, 4000, rng), 8)
    assert kendall_tau(scores, truth) >= 0.9
    scores, _ = fit_scores(simulate(truth, 4000, rng, tie_rate=0.0), 8)
    expected = ELO_CENTRE + ELO_PER_LOGIT * (truth - truth.mean())
    assert np.max(np.abs(scores - expected)) < 40


def test_bootstrap_intervals_cover_the_truth_at_about_their_nominal_rate():
    rng = np.random.default_rng(2)
    truth = np.linspace(-1, 1, 6)
    expected = ELO_CENTRE + ELO_PER_LOGIT * (truth - truth.mean())
    covered = []
    for trial in range(12):
        judgments = simulate(truth, 1200, rng, tie_rate=0.0)
        fit = fit_with_intervals(judgments, 6, rounds=100, seed=trial)
        covered.extend((fit.lower <= expected) & (expected <= fit.upper))
    assert 0.85 <= np.mean(covered) <= 1.0


def test_ranks_are_shared_where_intervals_overlap():
    lower = np.array([1100.0, 1080.0, 950.0, 700.0])
    upper = np.array([1200.0, 1150.0, 1090.0, 800.0])
    # the second overlaps the first; the third overlaps the second but not the first
    assert ranks_with_ties(lower, upper).tolist() == [1, 1, 2, 4]


def test_ties_count_as_half_wins():
    judgments = Judgments(
        np.array([0, 0, 1]), np.array([1, 1, 0]), np.array([1.0, 0.5, 0.5]), np.ones(3)
    )
    rates = win_rates(judgments, 2)
    assert rates == [[None, 2 / 3], [1 / 3, None]]


def test_style_control_removes_a_pure_length_bias():
    """Equal models, one verbose: raters who like length make it win unless style is controlled."""
    rng = np.random.default_rng(3)
    count = 4000
    verbose = np.array([False, True, False, True])
    left = rng.integers(0, 4, count)
    right = (left + rng.integers(1, 4, count)) % 4
    shortest = np.where(verbose, 600, 100)
    longest = np.where(verbose, 2000, 900)
    lengths = rng.integers(shortest[[left, right]], longest[[left, right]])
    style = np.array(
        [
            style_difference({**style_of(""), "length": a}, {**style_of(""), "length": b})
            for a, b in lengths.T.tolist()
        ]
    )
    p = 1 / (1 + np.exp(-2.0 * style[:, 0]))
    outcome = (rng.random(count) < p).astype(float)
    raw = Judgments(left, right, outcome, np.ones(count))
    controlled = Judgments(left, right, outcome, np.ones(count), style)
    raw_scores, _ = fit_scores(raw, 4)
    controlled_scores, coefficients = fit_scores(controlled, 4)
    assert raw_scores[verbose].mean() - raw_scores[~verbose].mean() > 100
    assert abs(controlled_scores[verbose].mean() - controlled_scores[~verbose].mean()) < 25
    assert coefficients[0] > 1.5


def test_markdown_style_features_are_counted():
    text = "# Title\n\n- one\n- two\n1. three\n\nSome **bold** and __more__."
    assert style_of(text) == {"length": len(text), "headers": 1, "list_items": 3, "bold": 2}


def test_sequential_test_drops_an_adversarial_rater_and_keeps_honest_ones():
    rng = np.random.default_rng(4)
    truth = np.linspace(-1.5, 1.5, 6)
    honest = simulate(truth, 3000, rng, tie_rate=0.05)
    raters = rng.integers(0, 10, 3000)
    flipped = honest.outcome.copy()
    adversary = raters == 7
    flipped[adversary] = 1 - flipped[adversary]
    judgments = Judgments(honest.left, honest.right, flipped, honest.weight)
    scores, _ = fit_scores(judgments, 6)
    dropped = against_consensus(raters, judgments, consensus_probability(judgments, scores))
    assert dropped == {7}
