"""A worker labels one task of every type in the browser, from sign-in to the stored response."""

from collections.abc import Callable

from playwright.sync_api import Page, expect

from tests.browser.conftest import Worker, make_project, screenshot, sign_in
from tests.conftest import Tenant


def stored_response(tenant: Tenant, task_id: str) -> dict:
    task = tenant.client.get(f"/v1/task/{task_id}").json()
    assert task["status"] == "completed", task
    return task["response"]


def test_categorization_by_number_keys_then_next_task_appears_without_reload(
    page: Page, tenant: Tenant, make_worker: Callable[..., Worker]
) -> None:
    project, (first, second) = make_project(
        tenant,
        "categorization",
        {"categories": ["positive", "neutral", "negative"]},
        [{"attachment": "Great phone, love it."}, {"attachment": "It broke in a week."}],
    )
    sign_in(page, make_worker(tenant, project))
    page.click(f"article[data-project='{project}'] >> text=Start working")
    expect(page.locator("#task .item-text")).to_have_text("Great phone, love it.")
    page.evaluate("window.sameDocument = true")
    screenshot(page, "categorization")
    page.keyboard.press("1")
    page.keyboard.press("Control+Enter")
    expect(page.locator("#task .item-text")).to_have_text("It broke in a week.")
    assert page.evaluate("window.sameDocument") is True, "the next task must come without a reload"
    page.keyboard.press("3")
    page.keyboard.press("Control+Enter")
    expect(page.locator("#done")).to_be_visible()
    assert stored_response(tenant, first)["category"] == "positive"
    assert stored_response(tenant, second)["category"] == "negative"
