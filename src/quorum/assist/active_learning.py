"""The in-tree active-learning backend (kind ``builtin``, target ``active-learning``): a text
classifier for categorization projects, trained on the project's completed (consolidated) tasks.

It serves pre-labels like any backend, and scores how unsure it is of each pending task: the
margin between its two likeliest categories, turned into a task priority so that dispatch (which
serves by priority, then age) hands out the tasks a human label teaches the model most about.

Only single-choice ``categories`` tasks with text attachments take part; taxonomies, multiple
choice and images are left alone (no pre-label, priority untouched).
"""

import pickle
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from quorum.assist.backends import Suggestion
from quorum.errors import Invalid

if TYPE_CHECKING:  # scikit-learn takes seconds to import: only a training process pays for it
    from sklearn.pipeline import Pipeline

# Priorities are integers, and customers set them in [-1000, 1000]: uncertainty takes [0, 1000].
UNCERTAINTY_SCALE = 1000
MAX_FEATURES = 50_000


def text_of(task_type: str, params: dict[str, Any]) -> str | None:
    """The text a task asks about, when the task is one this model can learn (else None)."""
    if task_type != "categorization" or params.get("attachment_type", "text") != "text":
        return None
    if params.get("categories") is None or params.get("allow_multiple"):
        return None
    return str(params["attachment"])


def label_of(response: dict[str, Any] | None) -> str | None:
    """The single category of a consolidated response, or None for any other shape."""
    category = (response or {}).get("category")
    return category if isinstance(category, str) else None


@dataclass(frozen=True)
class Scored:
    category: str
    confidence: float
    uncertainty: float

    @property
    def priority(self) -> int:
        return round(self.uncertainty * UNCERTAINTY_SCALE)


class TextClassifier:
    """TF-IDF over words and word pairs, then a multinomial logistic regression."""

    def __init__(self, pipeline: "Pipeline") -> None:
        self.pipeline = pipeline
        self.classes: list[str] = [str(c) for c in pipeline.classes_]

    @classmethod
    def fit(cls, texts: Sequence[str], labels: Sequence[str]) -> "TextClassifier":
        if len(set(labels)) < 2:
            raise Invalid("active learning needs completed tasks of at least two categories")
        from sklearn.feature_extraction.text import TfidfVectorizer
        from sklearn.linear_model import LogisticRegression
        from sklearn.pipeline import make_pipeline

        pipeline = make_pipeline(
            TfidfVectorizer(sublinear_tf=True, ngram_range=(1, 2), max_features=MAX_FEATURES),
            LogisticRegression(C=10.0, max_iter=1000),
        )
        pipeline.fit(list(texts), list(labels))
        return cls(pipeline)

    def to_bytes(self) -> bytes:
        return pickle.dumps(self.pipeline, protocol=pickle.HIGHEST_PROTOCOL)

    @classmethod
    def from_bytes(cls, data: bytes) -> "TextClassifier":
        """Load a model this platform pickled (the database is as trusted as the code)."""
        try:
            return cls(pickle.loads(data))
        except Exception as exc:  # another scikit-learn version, a damaged row
            raise Invalid(f"the stored model cannot be loaded ({exc}); train it again") from None

    def predict(self, texts: Sequence[str]) -> list[str]:
        return [str(c) for c in self.pipeline.predict(list(texts))]

    def score(self, texts: Sequence[str], choices: Sequence[Sequence[str]]) -> list[Scored | None]:
        """Best category, its probability and the uncertainty (1 - margin between the two
        likeliest) of each text, among that task's own choices; None when none was learned."""
        if not texts:
            return []
        probabilities = self.pipeline.predict_proba(list(texts))
        column = {c: i for i, c in enumerate(self.classes)}
        scored: list[Scored | None] = []
        for row, allowed in zip(probabilities, choices, strict=True):
            known = [c for c in allowed if c in column]
            if not known:
                scored.append(None)
                continue
            p = np.array([row[column[c]] for c in known])
            p = p / p.sum() if p.sum() > 0 else np.full(len(known), 1 / len(known))
            order = np.argsort(-p, kind="stable")
            margin = p[order[0]] - p[order[1]] if len(known) > 1 else 1.0
            scored.append(
                Scored(
                    category=known[order[0]],
                    confidence=float(p[order[0]]),
                    uncertainty=float(np.clip(1.0 - margin, 0.0, 1.0)),
                )
            )
        return scored

    def suggest(self, task_type: str, params: dict[str, Any]) -> Suggestion:
        text = text_of(task_type, params)
        if text is None:
            raise Invalid("the active-learning backend answers single-choice text categorization")
        scored = self.score([text], [params["categories"]])[0]
        if scored is None:
            raise Invalid("the model has learned none of this task's categories yet")
        return Suggestion(response={"category": scored.category}, confidence=scored.confidence)


@dataclass
class TrainingSet:
    """What one training reads from the database: labeled texts, and pending ones to score."""

    project_id: str
    completed: int
    texts: list[str]
    labels: list[str]
    pending: list[tuple[str, str, list[str]]]  # task id, text, its categories


@dataclass
class Learned:
    """A training's result, ready to be stored: the model (None with fewer than two categories)
    and its answer for each pending task."""

    project_id: str
    completed: int
    classifier: TextClassifier | None
    scores: dict[str, Scored]


def learn(training: TrainingSet) -> Learned:
    """Fit on the labeled texts and score the pending ones; touches no database, so callers can
    run it outside any transaction."""
    if len(set(training.labels)) < 2:
        return Learned(training.project_id, training.completed, None, {})
    classifier = TextClassifier.fit(training.texts, training.labels)
    scored = classifier.score(
        [text for _, text, _ in training.pending], [choices for _, _, choices in training.pending]
    )
    scores = {task_id: s for (task_id, _, _), s in zip(training.pending, scored, strict=True) if s}
    return Learned(training.project_id, training.completed, classifier, scores)
