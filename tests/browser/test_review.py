"""A reviewer rejects a submission drawn in its tool; the task goes back to the queue."""

from collections.abc import Callable

from playwright.sync_api import Page, expect

from tests.browser.conftest import (
    Worker,
    make_project,
    screenshot,
    sign_in,
    start_working,
    wait_ready,
)
from tests.conftest import Tenant


def test_reviewer_rejects_a_submission_and_the_task_returns_to_the_queue(
    page: Page, browser, server, tenant: Tenant, make_worker: Callable[..., Worker]
) -> None:
    project, (task_id,) = make_project(
        tenant,
        "imageannotation",
        {"geometries": {"box": {"objects_to_annotate": ["car"]}}},
        [
            {
                "attachment": f"{server.url}/static/demo/street-3.svg",
                "image_width": 640,
                "image_height": 480,
            }
        ],
    )
    qualification = tenant.client.post("/v1/qualifications", json={"name": "reviewer"}).json()
    configured = tenant.client.post(
        f"/v1/projects/{project}/quality",
        json={"review_levels": 1, "reviewer_qualification": "reviewer"},
    )
    assert configured.status_code == 200, configured.text
    labeler, reviewer, second = (make_worker(tenant, project) for _ in range(3))
    made = tenant.client.put(f"/v1/workers/{reviewer.id}/role", json={"role": "reviewer"})
    assert made.status_code == 200, made.text
    granted = tenant.client.put(f"/v1/workers/{reviewer.id}/qualifications/{qualification['id']}")
    assert granted.status_code == 204, granted.text

    sign_in(page, labeler)
    start_working(page, project)
    page.evaluate(
        """async () => {
            const token = document.querySelector('meta[name=csrf-token]').content;
            const box = {uuid: 'b1', type: 'box', label: 'car',
                         left: 40, top: 50, width: 90, height: 60};
            await fetch(location.pathname + '/submit', {method: 'POST',
                headers: {'Content-Type': 'application/json', 'X-CSRF-Token': token},
                body: JSON.stringify({response: {annotations: [box]}})});
        }"""
    )
    assert tenant.client.get(f"/v1/task/{task_id}").json()["status"] == "pending"  # awaits review

    page.context.clear_cookies()
    sign_in(page, reviewer)
    page.goto("/review")
    wait_ready(page)
    drawn = page.locator(".ia-svg rect.shape")
    expect(drawn).to_have_count(1)
    assert [drawn.get_attribute(a) for a in ("x", "y", "width", "height")] == [
        "40",
        "50",
        "90",
        "60",
    ]
    screenshot(page, "review")
    page.keyboard.press("Alt+r")
    page.fill("#reject-dialog textarea", "The box misses the car.")
    page.click("#reject-dialog button[value=reject]")
    expect(page.locator("#no-review")).to_be_visible()

    # Back in the queue: another worker gets it.
    page.context.clear_cookies()
    sign_in(page, second)
    start_working(page, project)
    assert tenant.client.get(f"/v1/task/{task_id}").json()["status"] == "pending"
    expect(page.locator("#task")).to_have_attribute("data-type", "imageannotation")
