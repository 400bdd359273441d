"""Customers sign in with an API key and watch their projects move."""

from collections.abc import Callable

from playwright.sync_api import Page, expect

from tests.browser.conftest import Worker, make_project, screenshot, sign_in, start_working
from tests.conftest import Tenant


def customer_sign_in(page: Page, tenant: Tenant) -> None:
    page.goto("/customer/login")
    page.fill("input[name=api_key]", tenant.key)
    page.click("button[type=submit]")
    page.wait_for_url("**/customer")


def test_customer_sees_progress_move_and_the_result_drawn_over_the_image(
    page: Page, browser, server, tenant: Tenant, make_worker: Callable[..., Worker]
) -> None:
    project, (task_id,) = make_project(
        tenant,
        "imageannotation",
        {"geometries": {"box": {"objects_to_annotate": ["car"]}}},
        [
            {
                "attachment": f"{server.url}/static/demo/street-2.svg",
                "image_width": 640,
                "image_height": 480,
            }
        ],
    )
    customer_sign_in(page, tenant)
    row = page.locator(f"tr[data-project='{project}']")
    expect(row.locator(".count-pending")).to_have_text("1")
    expect(row.locator(".count-completed")).to_have_text("0")

    worker_context = browser.new_context(base_url=server.url)
    worker_page = worker_context.new_page()
    sign_in(worker_page, make_worker(tenant, project))
    start_working(worker_page, project)
    worker_page.wait_for_selector(".ia-svg image")
    box = {
        "uuid": "b1",
        "type": "box",
        "label": "car",
        "left": 120,
        "top": 300,
        "width": 150,
        "height": 80,
    }
    submitted = worker_page.evaluate(
        """async (box) => {
            const token = document.querySelector('meta[name=csrf-token]').content;
            const reply = await fetch(location.pathname + '/submit', {
                method: 'POST',
                headers: {'Content-Type': 'application/json', 'X-CSRF-Token': token},
                body: JSON.stringify({response: {annotations: [box]}}),
            });
            return reply.status;
        }""",
        box,
    )
    assert submitted == 200
    worker_context.close()

    # The table refreshes itself: no reload.
    expect(row.locator(".count-completed")).to_have_text("1", timeout=10_000)
    expect(row.locator(".count-pending")).to_have_text("0")
    screenshot(page, "customer-projects")

    page.click(f"tr[data-project='{project}'] a")
    expect(page.locator(".figure .count-completed")).to_have_text("1")
    expect(page.locator(".chart rect.bar[height]:not([height='0.0'])")).to_have_count(1)
    expect(page.locator("#quality")).to_be_visible()
    screenshot(page, "customer-project")

    page.goto("/customer/tasks")
    page.select_option("select[name=status]", "completed")
    expect(page.locator(f"tr[data-task='{task_id}']")).to_be_visible()
    page.click(f"tr[data-task='{task_id}'] a")
    expect(page.locator(".ia-svg rect.shape")).to_have_count(1)
    drawn = page.locator(".ia-svg rect.shape")
    assert [drawn.get_attribute(a) for a in ("x", "y", "width", "height")] == [
        "120",
        "300",
        "150",
        "80",
    ]
    screenshot(page, "customer-task")


def test_customer_pages_need_a_live_api_key(page: Page, tenant: Tenant) -> None:
    page.goto("/customer/tasks")
    page.wait_for_url("**/customer/login?next=/customer/tasks")
    page.fill("input[name=api_key]", "live_wrong")
    page.click("button[type=submit]")
    expect(page.locator(".error")).to_contain_text("invalid")
