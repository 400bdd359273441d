"""Seed data for ``quorum demo``: a demo organization with a project of every task type."""

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from quorum.accounts import service as accounts
from quorum.accounts.models import Organization
from quorum.payouts import service as payouts
from quorum.tasks import service as tasks
from quorum.tasks.schemas import ProjectCreate
from quorum.workforce import service as workforce
from quorum.workforce.models import Worker
from quorum.workforce.schemas import WorkerInvite, WorkerSignup

DEMO_ORG = "Quorum Demo"
DEMO_WORKER_EMAIL = "demo-worker@example.com"
DEMO_WORKER_PASSWORD = "demo-worker-password"
DEMO_PAY_CENTS = {"imageannotation": 40, "textcollection": 60, "chat": 80}


@dataclass
class DemoSummary:
    org_name: str
    api_key: str
    projects: dict[str, int]
    worker_email: str
    worker_password: str


def _demo_projects(base_url: str) -> dict[str, tuple[dict[str, Any], list[dict[str, Any]]]]:
    """Per task type: the project's default params and the bodies of its tasks."""
    images = [f"{base_url}/static/demo/street-{i}.svg" for i in (1, 2, 3)]
    return {
        "imageannotation": (
            {
                "instruction": "Draw a box around every vehicle and a polygon around every tree.",
                "geometries": {
                    "box": {
                        "objects_to_annotate": ["car", "truck"],
                        "min_width": 5,
                        "min_height": 5,
                    },
                    "polygon": {"objects_to_annotate": ["tree"]},
                    "point": {"objects_to_annotate": ["wheel"]},
                },
                "annotation_attributes": {
                    "occluded": {"type": "category", "choices": ["no", "partly", "mostly"]}
                },
            },
            [{"attachment": url, "image_width": 640, "image_height": 480} for url in images],
        ),
        "categorization": (
            {
                "instruction": "What is the sentiment of this review?",
                "categories": ["positive", "neutral", "negative"],
            },
            [
                {"attachment": "The battery lasts two days. Best phone I've owned."},
                {"attachment": "Arrived on time. It does what the box says."},
                {"attachment": "Broke after a week and support never answered."},
            ],
        ),
        "textcollection": (
            {
                "instruction": "Write a question a curious student might ask about the passage, "
                "and a helpful, correct answer.",
                "fields": [
                    {
                        "type": "text",
                        "field_id": "question",
                        "title": "Question",
                        "min_characters": 10,
                        "max_characters": 300,
                    },
                    {
                        "type": "text",
                        "field_id": "answer",
                        "title": "Answer",
                        "min_characters": 40,
                        "max_characters": 2000,
                    },
                ],
            },
            [
                {"attachments": [{"type": "text", "content": text}]}
                for text in (
                    "Photosynthesis turns light, water and carbon dioxide into sugar and oxygen.",
                    "The Rhine flows from the Swiss Alps to the North Sea through six countries.",
                )
            ],
        ),
        "comparison": (
            {
                "instruction": "Which answer is more helpful, honest and harmless?",
                "rating_scale": {"min": 1, "max": 7},
            },
            [
                {
                    "prompt": "Explain recursion to a ten-year-old.",
                    "answers": [
                        {
                            "content": "Recursion is when a function calls itself until a base "
                            "case stops it.",
                            "model": "model-a",
                        },
                        {
                            "content": "Imagine Russian dolls: you open one and find a smaller one "
                            "inside, again and again, until the tiniest doll. That tiny doll is "
                            "where you stop.",
                            "model": "model-b",
                        },
                    ],
                },
                {
                    "prompt": "Write a haiku about autumn.",
                    "answers": [
                        {
                            "content": "Leaves let go of trees\nthe wind keeps what it can "
                            "hold\nsoftly, the ground waits",
                            "model": "model-a",
                        },
                        {"content": "Autumn is a season with leaves.", "model": "model-b"},
                    ],
                },
            ],
        ),
        "chat": (
            {
                "instruction": "Write a helpful conversation between a user and an assistant.",
                "min_turns": 4,
                "max_turns": 8,
            },
            [{"topic": "planning a weekend hike"}, {"topic": "debugging a Python import error"}],
        ),
    }


def seed_demo(db: Session, *, base_url: str) -> DemoSummary:
    """Create (or reuse) the demo organization, mint a fresh key, and seed missing projects."""
    org = db.scalar(select(Organization).where(Organization.name == DEMO_ORG))
    if org is None:
        org = accounts.create_organization(db, name=DEMO_ORG)
    key = accounts.create_api_key(db, org_id=org.id, name="demo")
    existing = {p.name for p in tasks.list_projects(db, org_id=org.id)}
    counts: dict[str, int] = {}
    for task_type, (params, bodies) in _demo_projects(base_url).items():
        name = f"demo-{task_type}"
        if name not in existing:
            tasks.create_project(
                db, org_id=org.id, data=ProjectCreate(name=name, type=task_type, params=params)
            )
            for body in bodies:
                tasks.create_task(
                    db, org_id=org.id, task_type=task_type, body={"project": name, **body}
                )
            payouts.set_project_rate(
                db, org_id=org.id, project=name, cents=DEMO_PAY_CENTS.get(task_type, 10)
            )
        counts[name] = len(bodies)
    worker = _demo_worker(db, org_id=org.id)
    for name in counts:
        workforce.add_member(db, org_id=org.id, project=name, worker_id=worker.id)
    return DemoSummary(
        org_name=org.name,
        api_key=key.secret,
        projects=counts,
        worker_email=DEMO_WORKER_EMAIL,
        worker_password=DEMO_WORKER_PASSWORD,
    )


def _demo_worker(db: Session, *, org_id: str) -> Worker:
    """The demo's worker account in the demo organization's pool, so the web app can be tried."""
    worker = db.scalar(select(Worker).where(Worker.email == DEMO_WORKER_EMAIL))
    if worker is not None:
        return worker
    _, invitation = workforce.invite_worker(
        db, org_id=org_id, data=WorkerInvite(email=DEMO_WORKER_EMAIL, name="Demo Worker")
    )
    return workforce.sign_up(
        db, data=WorkerSignup(invitation_token=invitation, password=DEMO_WORKER_PASSWORD)
    )
