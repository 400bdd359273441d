"""The leaderboard's mathematics, free of the database: Bradley-Terry on the Elo scale, bootstrap
intervals, ranks with ties, win rates, style control and the sequential test that drops raters
who vote against the consensus.

A judgment compares a left and a right entry (indices into the list of entries) with an outcome:
1 when the left answer won, 0 when the right one did, 0.5 for a tie (a half win each). The
Bradley-Terry model is P(left wins) = sigmoid(beta_left - beta_right + gamma . style), fit as a
weighted logistic regression by Newton's method; weights carry rater trust. Scores are reported
on the Elo scale (400 points = 10:1 odds), centred on 1000.
"""

import math
import re
from dataclasses import dataclass

import numpy as np

ELO_PER_LOGIT = 400 / math.log(10)
ELO_CENTRE = 1000.0
RIDGE = 1e-4
NEWTON_STEPS = 50

# Style features measured on every answer; their left-right differences are covariates.
STYLE_FEATURES = ("length", "headers", "list_items", "bold")
_HEADER = re.compile(r"^\s{0,3}#{1,6}\s", re.MULTILINE)
_LIST_ITEM = re.compile(r"^\s*(?:[-*+]|\d+[.)])\s", re.MULTILINE)
_BOLD = re.compile(r"\*\*[^*\n]+\*\*|__[^_\n]+__")


@dataclass(frozen=True)
class Judgments:
    """Pairwise outcomes in arrays: left and right entry indices, outcome and weight per row.

    ``style`` holds, per row, the normalized left-minus-right difference of each style feature
    (shape rows x len(STYLE_FEATURES)), or None when no style control is wanted.
    """

    left: np.ndarray
    right: np.ndarray
    outcome: np.ndarray
    weight: np.ndarray
    style: np.ndarray | None = None

    def __len__(self) -> int:
        return len(self.left)

    def subset(self, rows: np.ndarray) -> "Judgments":
        return Judgments(
            self.left[rows],
            self.right[rows],
            self.outcome[rows],
            self.weight[rows],
            None if self.style is None else self.style[rows],
        )


def style_of(text: str) -> dict[str, int]:
    """Answer length in characters and its Markdown headers, list items and bold spans."""
    return {
        "length": len(text),
        "headers": len(_HEADER.findall(text)),
        "list_items": len(_LIST_ITEM.findall(text)),
        "bold": len(_BOLD.findall(text)),
    }


def style_difference(left: dict[str, int], right: dict[str, int]) -> list[float]:
    """Normalized differences (a - b) / (a + b), in [-1, 1]; 0 where both are 0 (as LMArena)."""
    differences = []
    for feature in STYLE_FEATURES:
        a, b = left[feature], right[feature]
        differences.append((a - b) / (a + b) if a + b else 0.0)
    return differences


def _design(judgments: Judgments, entries: int) -> np.ndarray:
    rows = np.arange(len(judgments))
    x = np.zeros((len(judgments), entries))
    x[rows, judgments.left] += 1.0
    x[rows, judgments.right] -= 1.0
    if judgments.style is not None:
        x = np.hstack([x, judgments.style])
    return x


def _logistic_fit(x: np.ndarray, y: np.ndarray, w: np.ndarray, start: np.ndarray) -> np.ndarray:
    """Weighted logistic regression with soft labels and a small ridge, by Newton's method."""
    beta = start.copy()
    ridge = RIDGE * max(float(w.sum()), 1.0) * np.eye(x.shape[1])
    for _ in range(NEWTON_STEPS):
        p = 1.0 / (1.0 + np.exp(-np.clip(x @ beta, -30, 30)))
        gradient = x.T @ (w * (y - p)) - ridge @ beta
        hessian = (x * (w * p * (1 - p))[:, None]).T @ x + ridge
        step = np.linalg.solve(hessian, gradient)
        beta += step
        if np.max(np.abs(step)) < 1e-8:
            break
    return beta


def fit_scores(
    judgments: Judgments, entries: int, start: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Elo-scale scores of the entries (centred on 1000) and the style coefficients (logits)."""
    x = _design(judgments, entries)
    beta = _logistic_fit(
        x, judgments.outcome, judgments.weight, np.zeros(x.shape[1]) if start is None else start
    )
    strengths = beta[:entries]
    scores = ELO_CENTRE + ELO_PER_LOGIT * (strengths - strengths.mean())
    return scores, beta[entries:]


@dataclass(frozen=True)
class Fit:
    """Scores with their bootstrap percentile intervals and ranks (ties where intervals overlap)."""

    scores: np.ndarray
    lower: np.ndarray
    upper: np.ndarray
    ranks: np.ndarray
    style_coefficients: dict[str, float]


def fit_with_intervals(
    judgments: Judgments,
    entries: int,
    *,
    rounds: int = 200,
    confidence: float = 0.95,
    seed: int = 0,
) -> Fit:
    """Fit, then refit on ``rounds`` bootstrap resamples of the judgments for the intervals."""
    scores, style = fit_scores(judgments, entries)
    rng = np.random.default_rng(seed)
    size = len(judgments)
    samples = np.empty((rounds, entries))
    start = np.concatenate([(scores - ELO_CENTRE) / ELO_PER_LOGIT, style])
    for index in range(rounds):
        counts = np.bincount(rng.integers(0, size, size), minlength=size).astype(float)
        resampled = Judgments(
            judgments.left,
            judgments.right,
            judgments.outcome,
            judgments.weight * counts,
            judgments.style,
        )
        samples[index], _ = fit_scores(resampled, entries, start)
    tail = (1 - confidence) / 2 * 100
    lower, upper = np.percentile(samples, [tail, 100 - tail], axis=0)
    coefficients = (
        dict(zip(STYLE_FEATURES, style.tolist(), strict=True))
        if judgments.style is not None
        else {}
    )
    return Fit(scores, lower, upper, ranks_with_ties(lower, upper), coefficients)


def ranks_with_ties(lower: np.ndarray, upper: np.ndarray) -> np.ndarray:
    """Rank = 1 + the number of entries whose lower bound is above this entry's upper bound."""
    return 1 + (lower[None, :] > upper[:, None]).sum(axis=1)


def win_rates(judgments: Judgments, entries: int) -> list[list[float | None]]:
    """Weighted share of wins of row over column (ties half); None for pairs never compared."""
    wins = np.zeros((entries, entries))
    games = np.zeros((entries, entries))
    np.add.at(wins, (judgments.left, judgments.right), judgments.weight * judgments.outcome)
    np.add.at(wins, (judgments.right, judgments.left), judgments.weight * (1 - judgments.outcome))
    np.add.at(games, (judgments.left, judgments.right), judgments.weight)
    np.add.at(games, (judgments.right, judgments.left), judgments.weight)
    return [
        [float(wins[i, j] / games[i, j]) if games[i, j] > 0 else None for j in range(entries)]
        for i in range(entries)
    ]


def consensus_probability(judgments: Judgments, scores: np.ndarray) -> np.ndarray:
    """P(left wins) under a fit of everyone's judgments, per row (style ignored)."""
    logits = (scores[judgments.left] - scores[judgments.right]) / ELO_PER_LOGIT
    return 1.0 / (1.0 + np.exp(-logits))


def against_consensus(
    raters: np.ndarray,
    judgments: Judgments,
    consensus: np.ndarray,
    *,
    alpha: float = 0.01,
    beta: float = 0.05,
) -> set[int]:
    """Raters whose votes follow the mirror image of the consensus beyond chance (Wald's SPRT).

    Per rater, in the order given, each decisive vote adds the log likelihood ratio of
    "votes against the consensus" (P(left) = 1 - p) over "votes with it" (P(left) = p). The rater
    is dropped once the sum passes log((1 - beta) / alpha), and cleared (the test stops) once it
    falls below log(beta / (1 - alpha)). Ties carry no evidence either way and are skipped.
    """
    drop_at = math.log((1 - beta) / alpha)
    clear_at = math.log(beta / (1 - alpha))
    p = np.clip(consensus, 0.05, 0.95)
    evidence = np.log((1 - p) / p)  # a vote for left under "against" vs "with"
    evidence = np.where(
        judgments.outcome == 1, evidence, np.where(judgments.outcome == 0, -evidence, 0)
    )
    dropped: set[int] = set()
    for rater in np.unique(raters):
        total = 0.0
        for value in evidence[raters == rater]:
            total += value
            if total >= drop_at:
                dropped.add(int(rater))
                break
            if total <= clear_at:
                break
    return dropped
