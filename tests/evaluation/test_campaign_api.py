"""Campaigns, model owners, fingerprinted submissions, re-checks and walls, through the server."""

import re

from quorum.app import create_app
from quorum.settings import Settings
from tests.evaluation.conftest import PROMPTS, create_campaign, expected_fingerprint


def answer_plainly(prompt):
    return f"An answer to {prompt['prompt_id']}."


def test_owner_receives_prompts_once_recorded_and_submissions_are_fingerprinted(tenant, make_owner):
    campaign = create_campaign(tenant.client)
    assert campaign["prompt_count"] == 4
    assert campaign["project"] == "evaluation: chat-arena"
    owner = make_owner(tenant, "chat-arena", "acme")
    model = owner.register("falcon", "2")
    prompts = owner.issue(model)
    assert [p["text"] for p in prompts] == [p["text"] for p in PROMPTS]

    first = owner.submit(model, answer_plainly, label="base")
    second = owner.submit(model, lambda p: f"A chattier answer to {p['prompt_id']}!", label="chat")
    assert first["fingerprint"] == expected_fingerprint(
        [(p["prompt_id"], answer_plainly(p)) for p in prompts]
    )
    assert first["fingerprint"] != second["fingerprint"]

    issues = tenant.client.get("/v1/evaluation/campaigns/chat-arena/prompt-issues").json()
    assert [(i["owner"], i["model_version_id"], i["prompt_id"]) for i in issues] == [
        ("acme", model, p["prompt_id"]) for p in prompts
    ]

    board = tenant.client.get("/v1/evaluation/campaigns/chat-arena/leaderboard").json()
    assert [
        (e["label"], e["fingerprint"], e["provisional"], e["score"]) for e in board["entries"]
    ] == [
        ("base", first["fingerprint"], True, None),
        ("chat", second["fingerprint"], True, None),
    ]


def test_a_submission_answers_exactly_the_prompts_issued(tenant, make_owner):
    create_campaign(tenant.client)
    owner = make_owner(tenant, "chat-arena", "acme")
    model = owner.register("falcon")
    path = f"/v1/evaluation/owner/models/{model}/submissions"
    refused = owner.client.post(path, json={"outputs": [{"prompt_id": "x", "output": "y"}]})
    assert refused.status_code == 400
    assert "no prompts were issued" in refused.json()["error"]

    prompts = owner.issue(model)
    unknown = owner.client.post(path, json={"outputs": [{"prompt_id": "nope", "output": "y"}]})
    assert unknown.status_code == 400
    assert unknown.json()["field"] == "outputs.0.prompt_id"
    partial = owner.client.post(
        path, json={"outputs": [{"prompt_id": prompts[0]["prompt_id"], "output": "y"}]}
    )
    assert partial.status_code == 400
    assert partial.json()["error"] == "outputs must answer every issued prompt: 3 of 4 are missing"


def test_owners_see_only_their_own_models_and_submissions(tenant, make_owner):
    create_campaign(tenant.client)
    acme, rival = (
        make_owner(tenant, "chat-arena", "acme"),
        make_owner(tenant, "chat-arena", "rival"),
    )
    model = acme.register("falcon")
    acme.submit(model, answer_plainly)
    for path in (f"/v1/evaluation/owner/models/{model}/prompts",):
        assert rival.client.post(path).status_code == 404
    stolen = rival.client.post(
        f"/v1/evaluation/owner/models/{model}/submissions",
        json={"outputs": [{"prompt_id": "x", "output": "y"}]},
    )
    assert stolen.status_code == 404
    assert rival.client.get("/v1/evaluation/owner/models").json() == []
    assert rival.client.get("/v1/evaluation/owner/submissions").json() == []
    assert len(acme.client.get("/v1/evaluation/owner/submissions").json()) == 1


def test_a_campaign_is_invisible_to_another_organization(make_tenant):
    owner_org, other = make_tenant(), make_tenant()
    create_campaign(owner_org.client)
    base = "/v1/evaluation/campaigns/chat-arena"
    assert other.client.get("/v1/evaluation/campaigns").json() == []
    for method, path, body in (
        ("GET", base, None),
        ("GET", f"{base}/leaderboard", None),
        ("GET", f"{base}/leaderboard.svg", None),
        ("GET", f"{base}/prompt-issues", None),
        ("POST", f"{base}/prompts", {"prompts": PROMPTS}),
        ("POST", f"{base}/owners", {"name": "spy"}),
        ("POST", f"{base}/comparisons", {"comparisons": 1}),
        ("GET", f"{base}/gold", None),
        ("POST", f"{base}/gold", {"gold": [{"prompt": "p", "preferred": "a", "rejected": "b"}]}),
    ):
        response = other.client.request(method, path, json=body)
        assert response.status_code == 404, (path, response.text)
        assert response.json() == {"status_code": 404, "error": "no campaign named 'chat-arena'"}


def test_a_model_owner_cannot_read_the_prompt_set_through_any_endpoint(tenant, make_owner):
    """Every GET route of the whole API, with the owner's token (and ids it knows), leaks nothing
    of a prompt it was not given."""
    create_campaign(tenant.client)
    owner = make_owner(tenant, "chat-arena", "acme")
    model = owner.register("falcon")
    submission = owner.client.post(
        f"/v1/evaluation/owner/models/{model}/submissions",
        json={"outputs": [{"prompt_id": "x", "output": "y"}]},
    )
    assert submission.status_code == 400
    known = {
        "campaign": "chat-arena",
        "name": "evaluation: chat-arena",
        "model_version_id": model,
        "project": "evaluation: chat-arena",
    }
    schema = create_app(Settings(database_url="sqlite://")).openapi()
    for path, operations in schema["paths"].items():
        if "get" not in operations:
            continue
        concrete = re.sub(r"{(\w+)}", lambda m: known.get(m.group(1), "anything"), path)
        response = owner.client.get(concrete)
        assert "SECRET-PROMPT" not in response.text, path
    assert owner.client.get("/v1/evaluation/campaigns/chat-arena").status_code == 401
    assert owner.client.get("/v1/tasks", params={"project": known["project"]}).status_code == 401


def test_a_released_model_is_rechecked_against_its_fingerprint(tenant, make_owner):
    create_campaign(tenant.client)
    owner = make_owner(tenant, "chat-arena", "acme")
    model = owner.register("falcon")
    submission = owner.submit(model, answer_plainly)
    released = owner.client.post(
        f"/v1/evaluation/owner/models/{model}/release", json={"submission_id": submission["id"]}
    )
    assert released.json()["released_fingerprint"] == submission["fingerprint"]

    base = "/v1/evaluation/campaigns/chat-arena/rechecks"
    sample = tenant.client.get(
        f"{base}/sample", params={"submission_id": submission["id"], "size": 2}
    ).json()["prompt_ids"]
    assert len(sample) == 2
    same = tenant.client.post(
        base,
        json={
            "submission_id": submission["id"],
            "outputs": [
                {"prompt_id": p, "output": answer_plainly({"prompt_id": p})} for p in sample
            ],
        },
    ).json()
    assert (same["checked"], same["matched"], same["match_rate"]) == (2, 2, 1.0)
    swapped = tenant.client.post(
        base,
        json={
            "submission_id": submission["id"],
            "outputs": [
                {"prompt_id": sample[0], "output": answer_plainly({"prompt_id": sample[0]})},
                {"prompt_id": sample[1], "output": "a different, better-tuned model"},
            ],
        },
    ).json()
    assert swapped["match_rate"] == 0.5
    entry = tenant.client.get("/v1/evaluation/campaigns/chat-arena/leaderboard").json()["entries"][
        0
    ]
    assert (entry["released"], entry["last_recheck_match_rate"]) == (True, 0.5)
