"""An answer in progress survives a reload, and a submit that hits a network failure is retried."""

from collections.abc import Callable

from playwright.sync_api import Page, Route, expect

from tests.browser.conftest import (
    Worker,
    make_project,
    screenshot,
    sign_in,
    start_working,
    wait_ready,
)
from tests.conftest import Tenant

FIELDS = {
    "fields": [
        {"type": "text", "field_id": "summary", "title": "Summary", "min_characters": 5},
        {"type": "number", "field_id": "stars", "title": "Stars", "min": 1, "max": 5},
    ]
}


def test_reload_in_the_middle_of_a_task_keeps_the_answer(
    page: Page, tenant: Tenant, make_worker: Callable[..., Worker]
) -> None:
    project, (task_id,) = make_project(
        tenant, "textcollection", FIELDS, [{"attachments": [{"content": "A passage."}]}]
    )
    sign_in(page, make_worker(tenant, project))
    start_working(page, project)
    url = page.url
    page.fill(".field[data-field=summary] textarea", "Half-written summ")
    page.fill(".field[data-field=stars] input", "4")
    page.reload()
    assert page.url == url, "the reload must reopen the same lease"
    wait_ready(page)
    expect(page.locator(".field[data-field=summary] textarea")).to_have_value("Half-written summ")
    expect(page.locator(".field[data-field=stars] input")).to_have_value("4")
    expect(page.locator("#task .status")).to_contain_text("restored")
    page.fill(".field[data-field=summary] textarea", "Half-written summary, done.")
    page.keyboard.press("Control+Enter")
    expect(page.locator("#done")).to_be_visible()
    task = tenant.client.get(f"/v1/task/{task_id}").json()
    assert task["response"]["annotations"] == {"summary": "Half-written summary, done.", "stars": 4}
    assert (
        page.evaluate("Object.keys(localStorage).filter(k => k.startsWith('quorum:draft:'))") == []
    )


def test_submit_lost_on_the_network_is_retried_and_the_worker_is_told(
    page: Page, tenant: Tenant, make_worker: Callable[..., Worker]
) -> None:
    project, (task_id,) = make_project(
        tenant, "categorization", {"categories": ["yes", "no"]}, [{"attachment": "Is it?"}]
    )
    sign_in(page, make_worker(tenant, project))
    # The network stays down until the test has seen the worker told so: a busy machine may
    # look later than the first retries.
    network = {"down": True, "lost": 0}

    def flaky(route: Route) -> None:
        if network["down"]:
            network["lost"] += 1
            route.abort("internetdisconnected")
        else:
            route.continue_()

    # Routed before the workbench loads: once, on a busy CI machine, a route added to the
    # loaded page let the first submit through.
    page.route("**/submit", flaky)
    start_working(page, project)
    page.keyboard.press("2")
    page.keyboard.press("Control+Enter")
    expect(page.locator("#task .status")).to_contain_text("Network problem")
    screenshot(page, "network-retry")
    network["down"] = False
    expect(page.locator("#done")).to_be_visible(timeout=30_000)
    assert network["lost"] >= 1
    assert tenant.client.get(f"/v1/task/{task_id}").json()["response"]["category"] == "no"
