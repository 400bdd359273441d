"""Pay: rates, the ledger through a task's life, adjustments, payout runs (API and CLI)."""

import csv
import io
import os
import subprocess
import sys

from tests.dispatch.conftest import categorization_project

GOOD = {"category": "good"}


def _work_one(worker):
    lease = worker.next().json()
    return worker.submit(lease["assignment_id"], GOOD).json()


def test_pay_is_pending_on_submit_and_earned_on_completion(tenant, make_worker):
    categorization_project(tenant, tasks=1, required_responses=2)
    rates = tenant.client.put("/v1/projects/sentiment/pay-rate", json={"cents": 30}).json()
    assert rates == {"projects": {"sentiment": 30}, "task_types": {}}
    first, second = (make_worker(tenant, projects=("sentiment",)) for _ in range(2))

    assert _work_one(first)["pending_cents"] == 30
    earnings = first.client.get("/v1/worker/earnings").json()
    assert (earnings["pending_cents"], earnings["balance_cents"]) == (30, 0)

    _work_one(second)
    for worker in (first, second):
        earnings = worker.client.get("/v1/worker/earnings").json()
        assert (earnings["pending_cents"], earnings["balance_cents"]) == (0, 30)
        assert sorted((e["kind"], e["cents"]) for e in earnings["entries"]) == [
            ("earned", 30),
            ("pending", -30),
            ("pending", 30),
        ]


def test_task_type_rate_applies_where_the_project_sets_none(tenant, make_worker):
    categorization_project(tenant, tasks=1)
    tenant.client.put("/v1/pay-rates/categorization", json={"cents": 12})
    worker = make_worker(tenant, projects=("sentiment",))
    assert _work_one(worker)["pending_cents"] == 12
    unknown = tenant.client.put("/v1/pay-rates/lidar", json={"cents": 1})
    assert unknown.status_code == 400


def test_payout_run_pays_each_entry_once(tenant, make_worker):
    categorization_project(tenant, tasks=3)
    tenant.client.put("/v1/projects/sentiment/pay-rate", json={"cents": 50})
    worker = make_worker(tenant, projects=("sentiment",))
    _work_one(worker)
    _work_one(worker)
    tenant.client.post(
        f"/v1/workers/{worker.id}/adjustments",
        json={"kind": "bonus", "cents": 25, "note": "fast and careful"},
    )
    tenant.client.post(
        f"/v1/workers/{worker.id}/adjustments",
        json={"kind": "clawback", "cents": 10, "note": "one box missed"},
    )

    run = tenant.client.post("/v1/payouts").json()
    assert (run["total_cents"], run["worker_count"]) == (115, 1)
    rows = list(csv.DictReader(io.StringIO(tenant.client.get(f"/v1/payouts/{run['id']}/csv").text)))
    assert rows == [
        {
            "payout_run_id": run["id"],
            "worker_id": worker.id,
            "email": worker.email,
            "name": "",
            "amount_cents": "115",
            "amount": "1.15",
            "entries": "4",
        }
    ]
    again = tenant.client.post("/v1/payouts").json()
    assert (again["total_cents"], again["worker_count"]) == (0, 0)

    _work_one(worker)
    third = tenant.client.post("/v1/payouts").json()
    assert third["total_cents"] == 50
    earnings = worker.client.get("/v1/worker/earnings").json()
    assert (earnings["balance_cents"], earnings["paid_cents"]) == (0, 165)
    assert [r["id"] for r in tenant.client.get("/v1/payouts").json()] == [
        third["id"],
        again["id"],
        run["id"],
    ]


def test_a_negative_balance_is_carried_not_paid(tenant, make_worker):
    worker = make_worker(tenant)
    tenant.client.post(
        f"/v1/workers/{worker.id}/adjustments",
        json={"kind": "clawback", "cents": 40, "note": "rejected work"},
    )
    run = tenant.client.post("/v1/payouts").json()
    assert (run["total_cents"], run["worker_count"]) == (0, 0)
    assert worker.client.get("/v1/worker/earnings").json()["balance_cents"] == -40


def test_cli_payout_run_prints_the_id_and_writes_the_csv(
    tmp_path, database_url, tenant, make_worker
):
    categorization_project(tenant, tasks=1)
    tenant.client.put("/v1/projects/sentiment/pay-rate", json={"cents": 99})
    worker = make_worker(tenant, projects=("sentiment",))
    _work_one(worker)
    out = tmp_path / "payout.csv"
    result = subprocess.run(
        [sys.executable, "-m", "quorum", "payouts", "run", "--org", tenant.name, "--out", str(out)],
        env={**os.environ, "QUORUM_DATABASE_URL": database_url},
        capture_output=True,
        text=True,
        check=True,
    )
    run_id = result.stdout.strip()
    assert [r["id"] for r in tenant.client.get("/v1/payouts").json()] == [run_id]
    rows = list(csv.DictReader(out.open()))
    assert [(r["worker_id"], r["amount_cents"]) for r in rows] == [(worker.id, "99")]
    assert out.read_bytes() == tenant.client.get(f"/v1/payouts/{run_id}/csv").content


def test_deleting_a_project_keeps_the_earnings_of_its_work(tenant, make_worker):
    _, (task_id,) = categorization_project(tenant, name="paid", tasks=1)
    assert tenant.client.put("/v1/projects/paid/pay-rate", json={"cents": 40}).status_code == 200
    worker = make_worker(tenant, projects=("paid",))
    lease = worker.next().json()
    assert worker.submit(lease["assignment_id"], {"category": "good"}).status_code == 200

    assert tenant.client.delete("/v1/projects/paid").status_code == 200

    earnings = worker.client.get("/v1/worker/earnings").json()
    assert earnings["balance_cents"] == 40
    assert {entry["assignment_id"] for entry in earnings["entries"]} == {None}
    assert tenant.client.get(f"/v1/task/{task_id}").status_code == 404
