"""A whole campaign through the real dispatch path: owners submit, comparisons are queued, simulated
raters (one of them adversarial) take and judge them as workers, and the leaderboard recovers the
models' true order."""

import math
import random
from urllib.parse import quote

from tests.evaluation.conftest import create_campaign

TRUE_STRENGTH = {"atlas": 2.0, "birch": 1.0, "cedar": 0.0, "dune": -1.0}


def test_simulated_raters_through_dispatch_recover_the_true_order(tenant, make_owner, make_worker):
    create_campaign(tenant.client, "arena", min_judgments=20)
    strength_of_answer: dict[str, float] = {}
    for model, strength in TRUE_STRENGTH.items():
        owner = make_owner(tenant, "arena", f"{model}-labs")
        model_id = owner.register(model)

        def answer(prompt, model=model, strength=strength):
            text = f"Answer {len(strength_of_answer)} to {prompt['prompt_id']}."
            strength_of_answer[text] = strength
            return text

        owner.submit(model_id, answer)
    leaky = make_owner(tenant, "arena", "leakco")
    leaky.submit(leaky.register("sieve"), lambda p: f"As Sieve by leakco: {p['prompt_id']}")

    queued = tenant.client.post(
        "/v1/evaluation/campaigns/arena/comparisons", json={"comparisons": 150, "seed": 7}
    )
    assert queued.status_code == 200, queued.text
    assert queued.json()["created"] == 150

    project = quote("evaluation: arena")
    raters = [make_worker(tenant, projects=(project,)) for _ in range(5)]
    adversary = raters[-1]
    rng = random.Random(11)
    busy = True
    while busy:
        busy = False
        for rater in raters:
            offered = rater.next()
            if offered.status_code == 204:
                continue
            busy = True
            assignment = offered.json()
            left, right = (a["content"] for a in assignment["params"]["answers"])
            if "leakco" in left + right:
                preferred = 0
            else:
                gap = strength_of_answer[left] - strength_of_answer[right]
                left_wins = rng.random() < 1 / (1 + math.exp(-gap))
                if rater is adversary:
                    left_wins = gap < 0
                preferred = 0 if left_wins else 1
            submitted = rater.submit(assignment["assignment_id"], {"preferred": preferred})
            assert submitted.status_code == 200, submitted.text

    board = tenant.client.get("/v1/evaluation/campaigns/arena/leaderboard").json()
    scored = [e["model"] for e in board["entries"] if e["score"] is not None]
    assert scored == ["atlas", "birch", "cedar", "dune"]
    assert board["entries"][-1]["model"] == "sieve"
    assert board["entries"][-1]["score"] is None
    hygiene = board["hygiene"]
    assert hygiene["dropped_raters"] == [adversary.id]
    assert hygiene["void_identity_revealed"] > 0
    assert board["entries"][0]["rank"] == 1
    assert all(e["lower"] <= e["score"] <= e["upper"] for e in board["entries"][:4])
    assert len(board["win_rates"]) == 5

    coding = tenant.client.get(
        "/v1/evaluation/campaigns/arena/leaderboard",
        params={"category": "coding", "style_controlled": "true"},
    ).json()
    assert coding["category"] == "coding"
    assert set(coding["style_coefficients"]) == {"length", "headers", "list_items", "bold"}

    chart = tenant.client.get("/v1/evaluation/campaigns/arena/leaderboard.svg")
    assert chart.headers["content-type"] == "image/svg+xml"
    assert chart.text.startswith("<svg") and "atlas" in chart.text
