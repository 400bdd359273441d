"""Task content is untrusted; sessions and leases are walled off."""

from collections.abc import Callable

import httpx
from playwright.sync_api import Page, expect

from tests.browser.conftest import Worker, make_project, sign_in, start_working
from tests.conftest import Tenant, ThreadedServer

PAYLOAD = '<img src=x onerror="window.__pwned = 1"><script>window.__pwned = 2</script>'
MARKDOWN_PAYLOAD = f"**bold** {PAYLOAD} [link](javascript:window.__pwned=3)"


def assert_inert(page: Page) -> None:
    page.wait_for_timeout(300)
    assert page.evaluate("window.__pwned") is None
    assert page.locator("img[src=x], #task script:not(.task-data)").count() == 0


def test_no_script_from_task_content_runs_in_any_tool(
    page: Page, tenant: Tenant, make_worker: Callable[..., Worker]
) -> None:
    projects = [
        make_project(
            tenant,
            "categorization",
            {"categories": ["a", "b"], "instruction": MARKDOWN_PAYLOAD},
            [{"attachment": PAYLOAD}],
        ),
        make_project(
            tenant,
            "comparison",
            {},
            [
                {
                    "prompt": MARKDOWN_PAYLOAD,
                    "answers": [{"content": MARKDOWN_PAYLOAD}, {"content": PAYLOAD}],
                }
            ],
        ),
        make_project(
            tenant,
            "textcollection",
            {"fields": [{"type": "text", "field_id": "x", "title": PAYLOAD, "hint": PAYLOAD}]},
            [{"attachments": [{"content": PAYLOAD}]}],
        ),
        make_project(
            tenant,
            "chat",
            {},
            [{"guidelines": MARKDOWN_PAYLOAD, "topic": PAYLOAD, "system_prompt": PAYLOAD}],
        ),
        make_project(
            tenant,
            "imageannotation",
            {"geometries": {"box": {"objects_to_annotate": [PAYLOAD]}}},
            [
                {
                    "attachment": "javascript:window.__pwned=4",
                    "image_width": 100,
                    "image_height": 100,
                }
            ],
        ),
    ]
    worker = make_worker(tenant, *(name for name, _ in projects))
    sign_in(page, worker)
    assert_inert(page)
    for name, _ in projects:
        page.goto("/work")
        start_working(page, name)
        page.wait_for_selector("#task")
        assert_inert(page)
    expect(page.locator(".ia-labels")).to_contain_text("<img src=x")
    page.goto("/work/history")
    assert_inert(page)


def test_a_worker_opening_another_workers_lease_or_project_gets_a_404_page(
    page: Page,
    tenant: Tenant,
    make_tenant: Callable[[], Tenant],
    make_worker: Callable[..., Worker],
) -> None:
    project, _ = make_project(
        tenant, "categorization", {"categories": ["a", "b"]}, [{"attachment": "x"}]
    )
    other_project, _ = make_project(
        tenant, "categorization", {"categories": ["a", "b"]}, [{"attachment": "y"}]
    )
    owner = make_worker(tenant, project)
    sign_in(page, owner)
    start_working(page, project)
    lease_url = page.url
    assert "/work/assignments/" in lease_url
    project_ids = tenant.client.get("/v1/projects").json()
    other_id = next(p["id"] for p in project_ids if p["name"] == other_project)

    page.context.clear_cookies()
    sign_in(page, make_worker(tenant, other_project))
    for url in (lease_url, lease_url + "/submit"):
        response = page.goto(url) if not url.endswith("submit") else None
        if response is not None:
            assert response.status == 404
            expect(page.locator("h1")).to_have_text("Not found")
    page.context.clear_cookies()
    sign_in(page, owner)
    response = page.goto(f"/work/projects/{other_id}")
    assert response is not None and response.status == 404
    expect(page.locator("h1")).to_have_text("Not found")


def test_unsafe_requests_without_the_csrf_token_are_refused(
    page: Page, server: ThreadedServer, tenant: Tenant, make_worker: Callable[..., Worker]
) -> None:
    project, (task_id,) = make_project(
        tenant, "categorization", {"categories": ["a", "b"]}, [{"attachment": "x"}]
    )
    sign_in(page, make_worker(tenant, project))
    start_working(page, project)
    assignment_id = page.url.rsplit("/", 1)[1]
    forged = page.request.post(
        f"/work/assignments/{assignment_id}/submit",
        data={"response": {"category": "a"}},
        headers={"Accept": "application/json"},
    )
    assert forged.status == 403
    cookies = {c["name"]: c["value"] for c in page.context.cookies()}
    assert {"quorum_worker_session", "quorum_csrf"} <= cookies.keys()
    session = next(c for c in page.context.cookies() if c["name"] == "quorum_worker_session")
    assert session["httpOnly"] and session["sameSite"] == "Lax"
    anonymous_login = httpx.post(f"{server.url}/login", data={"email": "a@b.c", "password": "x"})
    assert anonymous_login.status_code == 403
    assert tenant.client.get(f"/v1/task/{task_id}").json()["status"] == "pending"


def test_pages_forbid_inline_script(page: Page) -> None:
    response = page.goto("/login")
    assert response is not None
    policy = response.headers["content-security-policy"]
    assert "script-src 'self'" in policy and "unsafe-inline" not in policy
