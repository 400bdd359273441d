"""A worker labels one task of every type in the browser, from sign-in to the stored response."""

from collections.abc import Callable

from playwright.sync_api import Page, expect
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from quorum.dispatch.models import Assignment
from tests.browser.conftest import (
    Worker,
    make_project,
    screenshot,
    sign_in,
    start_working,
    wait_ready,
)
from tests.conftest import Tenant


def submitted_responses(sessions: sessionmaker[Session], task_id: str) -> list[dict]:
    """What workers submitted for a task, as stored by dispatch."""
    with sessions() as db:
        return list(
            db.scalars(
                select(Assignment.response).where(
                    Assignment.task_id == task_id, Assignment.state == "submitted"
                )
            )
        )


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
    start_working(page, project)
    expect(page.locator("#task .item-text")).to_have_text("Great phone, love it.")
    page.evaluate("window.sameDocument = true")
    screenshot(page, "categorization")
    page.keyboard.press("1")
    page.keyboard.press("Control+Enter")
    expect(page.locator("#task .item-text")).to_have_text("It broke in a week.")
    wait_ready(page)
    assert page.evaluate("window.sameDocument") is True, "the next task must come without a reload"
    page.keyboard.press("3")
    page.keyboard.press("Control+Enter")
    expect(page.locator("#done")).to_be_visible()
    assert stored_response(tenant, first)["category"] == "positive"
    assert stored_response(tenant, second)["category"] == "negative"


IMAGE_PARAMS = {
    "geometries": {
        "box": {"objects_to_annotate": ["car", "truck"], "min_width": 5, "min_height": 5},
        "polygon": {"objects_to_annotate": ["tree"]},
    },
    "annotation_attributes": {"occluded": {"type": "category", "choices": ["no", "yes"]}},
}


def image_to_screen(page: Page, x: float, y: float) -> tuple[float, float]:
    """Where an image pixel is on screen (the SVG's viewBox is the image's pixel space)."""
    return page.evaluate(
        """([x, y]) => {
            const svg = document.querySelector('.ia-svg');
            const p = svg.createSVGPoint(); p.x = x; p.y = y;
            const s = p.matrixTransform(svg.getScreenCTM());
            return [s.x, s.y];
        }""",
        [x, y],
    )


def test_image_annotation_box_and_polygon_drawn_with_the_mouse_are_stored_in_image_pixels(
    page: Page, server, tenant: Tenant, make_worker: Callable[..., Worker]
) -> None:
    project, (task_id,) = make_project(
        tenant,
        "imageannotation",
        IMAGE_PARAMS,
        [
            {
                "attachment": f"{server.url}/static/demo/street-1.svg",
                "image_width": 640,
                "image_height": 480,
            }
        ],
    )
    sign_in(page, make_worker(tenant, project))
    page.goto("/customer/login")  # a worker is not a customer: no leak between the two
    page.goto("/work")
    start_working(page, project)
    page.wait_for_selector(".ia-svg image")

    # A box around the big car, with the mouse: press, drag, release.
    page.keyboard.press("b")
    page.keyboard.press("1")
    page.mouse.move(*image_to_screen(page, 270, 318))
    page.mouse.down()
    page.mouse.move(*image_to_screen(page, 350, 360), steps=5)
    page.mouse.move(*image_to_screen(page, 425, 410), steps=5)
    page.mouse.up()
    expect(page.locator(".ia-shapes li")).to_have_count(1)
    page.select_option(".ia-attributes select[data-attribute=occluded]", "no")

    # A polygon point by point, closed with Enter.
    page.keyboard.press("p")
    for x, y in [(100, 100), (200, 120), (160, 220)]:
        page.mouse.click(*image_to_screen(page, x, y))
    page.keyboard.press("Enter")
    expect(page.locator(".ia-shapes li")).to_have_count(2)

    # Validation before submit: the polygon still lacks its required attribute.
    page.keyboard.press("Control+Enter")
    expect(page.locator("#task .errors")).to_contain_text("occluded")
    page.select_option(".ia-attributes select[data-attribute=occluded]", "yes")
    screenshot(page, "imageannotation")
    page.keyboard.press("Control+Enter")
    expect(page.locator("#done")).to_be_visible()

    shapes = {s["type"]: s for s in stored_response(tenant, task_id)["annotations"]}
    box, polygon = shapes["box"], shapes["polygon"]
    assert box["label"] == "car" and box["attributes"] == {"occluded": "no"}
    for key, expected in {"left": 270, "top": 318, "width": 155, "height": 92}.items():
        assert abs(box[key] - expected) <= 1.5, (key, box)
    assert polygon["label"] == "tree" and polygon["attributes"] == {"occluded": "yes"}
    for vertex, (x, y) in zip(
        polygon["vertices"], [(100, 100), (200, 120), (160, 220)], strict=True
    ):
        assert abs(vertex["x"] - x) <= 1.5 and abs(vertex["y"] - y) <= 1.5, polygon


def test_text_collection_counts_characters_and_refuses_short_text(
    page: Page, tenant: Tenant, make_worker: Callable[..., Worker]
) -> None:
    project, (task_id,) = make_project(
        tenant,
        "textcollection",
        {
            "fields": [
                {
                    "type": "text",
                    "field_id": "question",
                    "title": "Question",
                    "min_characters": 10,
                    "max_characters": 80,
                },
                {
                    "type": "category",
                    "field_id": "level",
                    "title": "Level",
                    "choices": [
                        {"label": "Easy", "value": "easy"},
                        {"label": "Hard", "value": "hard"},
                    ],
                },
            ]
        },
        [{"attachments": [{"type": "text", "content": "The Rhine flows to the North Sea."}]}],
    )
    sign_in(page, make_worker(tenant, project))
    page.goto("/work")
    start_working(page, project)
    page.fill(".field[data-field=question] textarea", "Where?")
    expect(page.locator(".field[data-field=question] .chars")).to_have_text("6")
    page.check("input[value=hard]")
    page.keyboard.press("Control+Enter")
    expect(page.locator("#task .errors")).to_contain_text("at least 10 characters")
    page.fill(".field[data-field=question] textarea", "Where does the Rhine end?")
    expect(page.locator(".field[data-field=question] .chars")).to_have_text("25")
    screenshot(page, "textcollection")
    page.keyboard.press("Control+Enter")
    expect(page.locator("#done")).to_be_visible()
    assert stored_response(tenant, task_id)["annotations"] == {
        "question": "Where does the Rhine end?",
        "level": "hard",
    }


def test_comparison_records_choice_rating_rationale_and_the_order_shown(
    page: Page, tenant: Tenant, make_worker: Callable[..., Worker], sessions: sessionmaker[Session]
) -> None:
    project, (task_id,) = make_project(
        tenant,
        "comparison",
        {"rating_scale": {"min": 1, "max": 7}},
        [{"prompt": "Say **hi**", "answers": [{"content": "Hi!"}, {"content": "Hello *there*."}]}],
    )
    sign_in(page, make_worker(tenant, project))
    start_working(page, project)
    expect(page.locator(".prompt strong")).to_have_text("hi")
    shown = [
        int(i) for i in page.locator(".answer").evaluate_all("els => els.map(e => e.dataset.index)")
    ]
    page.keyboard.press("2")  # the second answer on screen
    for _ in range(3):
        page.keyboard.press("]")
    page.keyboard.press("r")
    page.keyboard.type("More friendly.")
    page.keyboard.press("Escape")
    screenshot(page, "comparison")
    page.keyboard.press("Control+Enter")
    expect(page.locator("#done")).to_be_visible()
    response = stored_response(tenant, task_id)
    assert response["preferred"] == shown[1]
    assert response["rating"] == 6  # the first "]" picks the middle of 1..7, then two steps up
    assert response["rationale"] == "More friendly."
    assert submitted_responses(sessions, task_id)[0]["presented_order"] == shown


def test_chat_alternates_turns_added_from_the_keyboard(
    page: Page, tenant: Tenant, make_worker: Callable[..., Worker]
) -> None:
    project, (task_id,) = make_project(
        tenant, "chat", {"min_turns": 3}, [{"topic": "planning a hike", "guidelines": "Be kind."}]
    )
    sign_in(page, make_worker(tenant, project))
    start_working(page, project)
    turns = page.locator(".turns textarea")
    turns.nth(0).fill("Where should I hike this weekend?")
    turns.nth(1).fill("Try the ridge trail: 12 km, views all the way.")
    page.keyboard.press("Control+Enter")
    expect(page.locator("#task .errors")).to_contain_text("at least 3 turns")
    page.keyboard.press("Alt+Enter")
    page.keyboard.type("Thanks!")
    screenshot(page, "chat")
    page.keyboard.press("Control+Enter")
    expect(page.locator("#done")).to_be_visible()
    assert stored_response(tenant, task_id)["messages"] == [
        {"role": "user", "content": "Where should I hike this weekend?"},
        {"role": "assistant", "content": "Try the ridge trail: 12 km, views all the way."},
        {"role": "user", "content": "Thanks!"},
    ]


def test_skip_with_a_reason_can_report_the_task_broken(
    page: Page, tenant: Tenant, make_worker: Callable[..., Worker], sessions
) -> None:
    project, (broken, _) = make_project(
        tenant,
        "categorization",
        {"categories": ["positive", "negative"]},
        [{"attachment": "%%% garbled %%%"}, {"attachment": "Works well."}],
    )
    sign_in(page, make_worker(tenant, project))
    start_working(page, project)
    expect(page.locator("#task .item-text")).to_have_text("%%% garbled %%%")
    wait_ready(page)
    page.keyboard.press("Alt+s")
    dialog = page.locator("#skip-dialog")
    expect(dialog).to_be_visible()
    dialog.locator("textarea").fill("The text is garbled")
    dialog.get_by_label("The task itself is broken").check()
    dialog.get_by_role("button", name="Skip task").click()
    expect(page.locator("#task .item-text")).to_have_text("Works well.")
    with sessions() as db:
        reported = db.execute(
            select(Assignment.state, Assignment.skip_reason, Assignment.reported_broken).where(
                Assignment.task_id == broken
            )
        ).one()
    assert tuple(reported) == ("skipped", "The text is garbled", True)
