"""Campaign gold: gold judgments mixed into raters' work through the real dispatch path catch the
raters who vote at random, never reach the leaderboard, model owners or the customer's task counts,
and look to a rater exactly like the real comparisons around them."""

import math
import random
import re
from urllib.parse import quote

from scipy.stats import kendalltau

from quorum.app import create_app
from quorum.db import transaction
from quorum.evaluation import service as evaluation
from quorum.quality import service as quality_service
from quorum.settings import Settings
from quorum.tasks import stats
from tests.evaluation.conftest import PROMPTS, create_campaign

TRUE_STRENGTH = {"atlas": 3.0, "birch": 1.0, "cedar": -1.0, "dune": -3.0}
# Right answers are multiples of 17, wrong ones never are.
GOLD = [
    {
        "prompt": f"What is 17 times {n}?",
        "preferred": f"It is {17 * n}.",
        "rejected": f"It is {17 * n + 1}.",
    }
    for n in range(2, 32)
]
COMPARISONS = 90


def _submit_models(tenant, make_owner, campaign):
    """Four models whose answers carry a known strength; returns answer text -> strength."""
    strength_of_answer: dict[str, float] = {}
    for model, strength in TRUE_STRENGTH.items():
        owner = make_owner(tenant, campaign, f"{model}-labs")

        def answer(prompt, model=model, strength=strength):
            text = f"Answer {len(strength_of_answer)} to {prompt['prompt_id']}."
            strength_of_answer[text] = strength
            return text

        owner.submit(owner.register(model), answer)
    return strength_of_answer


def test_gold_catches_random_raters_and_stays_out_of_the_leaderboard(
    tenant, make_owner, make_worker, sessions, monkeypatch
):
    # Which asks draw gold, and on which side its better answer shows, are random; drawn
    # afresh each run they decided which rater judged which pair, and with 90 judgments the
    # two best models swapped places in about one run in six.
    monkeypatch.setattr(quality_service, "_gold_draw", random.Random(7))
    monkeypatch.setattr(evaluation, "_gold_sides", random.Random(7))
    campaign = create_campaign(
        tenant.client, "arena", gold_rate=0.5, trust_threshold=0.65, trust_min_scored=8
    )
    added = tenant.client.post("/v1/evaluation/campaigns/arena/gold", json={"gold": GOLD})
    assert added.json() == {"imported": len(GOLD), "gold_count": len(GOLD)}
    strength_of_answer = _submit_models(tenant, make_owner, "arena")
    spy = make_owner(tenant, "arena", "spy-labs")
    queued = tenant.client.post(
        "/v1/evaluation/campaigns/arena/comparisons", json={"comparisons": COMPARISONS, "seed": 3}
    )
    assert queued.status_code == 200, queued.text

    project = quote(campaign["project"])
    raters = [make_worker(tenant, projects=(project,)) for _ in range(4)]
    truthful, careless = raters[:2], raters[2:]
    preferred_gold = {g["preferred"] for g in GOLD}
    rng = random.Random(5)
    payloads: dict[str, list[dict]] = {"gold": [], "real": []}
    replies: dict[str, set[tuple]] = {"gold": set(), "real": set()}
    busy = True
    while busy:
        busy = False
        for rater in raters:
            offered = rater.next()
            if offered.status_code == 204:
                continue
            assert offered.status_code == 200, offered.text
            busy = True
            assignment = offered.json()
            left, right = (a["content"] for a in assignment["params"]["answers"])
            is_gold = left in preferred_gold or right in preferred_gold
            payloads["gold" if is_gold else "real"].append(assignment)
            if rater in careless:
                preferred = rng.randrange(2)
            elif is_gold:
                preferred = 0 if left in preferred_gold else 1
            else:
                gap = strength_of_answer[left] - strength_of_answer[right]
                preferred = 0 if rng.random() < 1 / (1 + math.exp(-gap)) else 1
            submitted = rater.submit(assignment["assignment_id"], {"preferred": preferred})
            assert submitted.status_code == 200, submitted.text
            reply = submitted.json()
            replies["gold" if is_gold else "real"].add(
                (tuple(sorted(reply)), reply["state"], reply["task_completed"])
            )
    assert replies["gold"] == replies["real"], "the submit reply does not give gold away"
    assert len(payloads["real"]) == COMPARISONS
    assert len(payloads["gold"]) >= len(GOLD)

    # The quality module scored every rater on gold: the careless ones were paused or fell to
    # near a coin's trust, while the truthful ones were never wrong on it.
    quality = {
        w["worker_id"]: w
        for w in tenant.client.get(f"/v1/projects/{project}/worker_quality").json()
    }
    for rater in truthful:
        record = quality[rater.id]
        assert (record["paused"], record["gold_accuracy"]) == (False, 1.0), record
        assert record["trust"] > 0.9
    for rater in careless:
        record = quality[rater.id]
        assert record["gold_scored"] >= 8, record
        assert record["paused"] or record["trust"] < 0.75, record
    with transaction(sessions) as db:
        found = evaluation.get_campaign(db, org_id=tenant.org_id, name="arena")
        weights = evaluation.rater_weights(db, campaign=found, worker_ids=[r.id for r in raters])
    assert min(weights[r.id] for r in truthful) > 0.8
    assert max(weights[r.id] for r in careless) < 0.5
    golds = tenant.client.get("/v1/evaluation/campaigns/arena/gold").json()
    assert sum(g["served"] for g in golds) == len(payloads["gold"])
    assert {g["answer"]["preferred"] for g in golds} == {0, 1}, "the better side is drawn"

    # The leaderboard counts the real judgments only, and recovers the true order.
    board = tenant.client.get("/v1/evaluation/campaigns/arena/leaderboard").json()
    hygiene = board["hygiene"]
    seen = sum(
        hygiene[k] for k in ("judgments_counted", "void_identity_revealed", "over_rater_cap")
    )
    assert seen + hygiene["dropped_judgments"] == COMPARISONS
    scores = {e["model"]: e["score"] for e in board["entries"]}
    tau, _ = kendalltau([TRUE_STRENGTH[m] for m in scores], list(scores.values()))
    assert tau == 1.0, scores

    # Nothing of the gold reaches a model owner, through any GET route of the whole API.
    schema = create_app(Settings(database_url="sqlite://")).openapi()
    known = {"campaign": "arena", "project": campaign["project"], "name": campaign["project"]}
    leaked = [g["prompt"] for g in GOLD] + [g["rejected"] for g in GOLD] + [golds[0]["task_id"]]
    for path, operations in schema["paths"].items():
        if "get" in operations:
            concrete = re.sub(r"{(\w+)}", lambda m: known.get(m.group(1), "anything"), path)
            text = spy.client.get(concrete).text
            assert not [s for s in leaked if s in text], path
    assert spy.client.get("/v1/evaluation/owner/leaderboard").json()["hygiene"] == hygiene

    # Gold is never the customer's work: not listed, not counted in the project's progress.
    listed = tenant.client.get("/v1/tasks", params={"project": campaign["project"]}).json()
    assert listed["total"] == COMPARISONS
    with transaction(sessions) as db:
        progress = stats.project_progress(db, org_id=tenant.org_id)[campaign["project_id"]]
    assert progress.total == COMPARISONS

    # A rater cannot tell gold from real: the same keys, instruction and shape, no marker.
    def shape(payload):
        return (
            sorted(payload),
            sorted(payload["params"]),
            [sorted(a) for a in payload["params"]["answers"]],
            payload["instruction"],
            payload["project"],
            payload["type"],
        )

    assert {repr(shape(p)) for p in payloads["gold"]} == {repr(shape(payloads["real"][0]))}
    assert {repr(shape(p)) for p in payloads["real"]} == {repr(shape(payloads["real"][0]))}
    assert not [p for p in payloads["gold"] if "gold" in str(p).lower()]


def test_gold_comes_with_the_prompt_set_and_is_checked(tenant):
    create_campaign(tenant.client, "arena")
    base = "/v1/evaluation/campaigns/arena"
    imported = tenant.client.post(f"{base}/prompts", json={"prompts": PROMPTS, "gold": GOLD[:3]})
    assert imported.json() == {
        "imported": len(PROMPTS),
        "prompt_count": 2 * len(PROMPTS),
        "gold_imported": 3,
        "gold_count": 3,
    }
    same = tenant.client.post(
        f"{base}/gold", json={"gold": [{"prompt": "p", "preferred": "a", "rejected": "a"}]}
    )
    assert same.status_code == 400
    assert "preferred and rejected must be different answers" in same.json()["error"]
    campaign = tenant.client.get(base).json()
    assert (campaign["gold_count"], campaign["gold_rate"], campaign["trust_threshold"]) == (
        3,
        0.1,
        0.6,
    )
    golds = tenant.client.get(f"{base}/gold").json()
    assert [(g["project"], g["imported"], g["served"]) for g in golds] == [
        ("evaluation: arena", True, 0)
    ] * 3


def test_raters_need_the_campaign_qualification_for_real_and_gold_work(
    tenant, make_owner, make_worker
):
    assert tenant.client.post("/v1/qualifications", json={"name": "judge"}).status_code == 200
    unknown = tenant.client.post(
        "/v1/evaluation/campaigns",
        json={"name": "x", "categories": ["coding"], "required_qualifications": ["nobody"]},
    )
    assert unknown.status_code == 404
    assert unknown.json()["field"] == "required_qualifications"
    campaign = create_campaign(
        tenant.client, "arena", required_qualifications=["judge"], gold_rate=0.5
    )
    assert campaign["required_qualifications"] == ["judge"]
    tenant.client.post("/v1/evaluation/campaigns/arena/gold", json={"gold": GOLD[:2]})
    project = quote(campaign["project"])
    rater = make_worker(tenant, projects=(project,))
    for _ in range(10):  # at a gold rate of 0.5, ten draws would have served gold by now
        assert rater.next().status_code == 204
    refused = rater.next(campaign["project_id"])
    assert refused.status_code == 403
    assert refused.json()["error"] == "this project requires the qualification 'judge'"

    judge = tenant.client.get("/v1/qualifications").json()[0]["id"]
    granted = tenant.client.put(f"/v1/workers/{rater.id}/qualifications/{judge}")
    assert granted.status_code == 204, granted.text
    served = [rater.next() for _ in range(30)]
    leased = [r.json()["task_id"] for r in served if r.status_code == 200]
    assert leased and set(leased) <= {
        g["task_id"] for g in tenant.client.get("/v1/evaluation/campaigns/arena/gold").json()
    }


def test_a_judged_comparison_made_gold_keeps_its_judgment_and_adds_none(
    tenant, make_owner, make_worker
):
    campaign = create_campaign(tenant.client, "arena", gold_rate=0.5)
    for n, model in enumerate(("atlas", "birch")):
        owner = make_owner(tenant, "arena", f"{model}-labs")
        owner.submit(owner.register(model), lambda p, n=n: f"Answer {n} to {p['prompt_id']}")
    tenant.client.post("/v1/evaluation/campaigns/arena/comparisons", json={"comparisons": 1})
    project = quote(campaign["project"])
    first, second = (make_worker(tenant, projects=(project,)) for _ in range(2))
    lease = first.next().json()
    assert first.submit(lease["assignment_id"], {"preferred": 0}).json()["task_completed"]
    made = tenant.client.post(f"/v1/projects/{project}/gold", json={"task_id": lease["task_id"]})
    assert made.status_code == 200, made.text

    served = next(r for r in (second.next() for _ in range(40)) if r.status_code == 200).json()
    assert served["task_id"] == lease["task_id"]
    assert second.submit(served["assignment_id"], {"preferred": 1}).status_code == 200
    assert tenant.client.get("/v1/evaluation/campaigns/arena/gold").json()[0]["served"] == 1
    board = tenant.client.get("/v1/evaluation/campaigns/arena/leaderboard").json()
    assert board["hygiene"]["judgments_counted"] == 1
    assert sorted((e["model"], e["judgments"]) for e in board["entries"]) == [
        ("atlas", 1),
        ("birch", 1),
    ]
