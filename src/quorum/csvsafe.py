"""CSV files that spreadsheets open as data, never as formulas (OWASP's "CSV injection").

Every CSV the product writes goes through ``csv_text`` (or, for a CSV stored before this module,
``neutralized_csv``). The rule, cell by cell:

- **Numbers the product computed stay numbers.** An ``int``, ``float`` or ``Decimal`` is written
  as it is, so an amount of ``-12.50`` is a number in the sheet. Cells are told apart by their
  Python type, never by what a string looks like: a worker named ``-12.50`` or ``-1+1`` sent a
  string, and it is treated as one.
- **Strings are neutralized when a spreadsheet could read them as a formula**: when the first
  character that is not a space or invisible (a zero-width or other format character) is a
  control character (tab, carriage return, line feed or any other), ``=``, ``+``, ``-``, ``@``,
  the minus sign U+2212, or a character that Unicode folds to one of these (the fullwidth
  U+FF1D, U+FF0B, U+FF0D, U+FF20, their small and superscript forms). Such a string gets a
  single quote in front, which spreadsheets take as "this cell is text" (OWASP's advice); every
  other string is written unchanged. Quotes, commas and line breaks inside a cell are escaped by
  the ``csv`` module.
"""

import csv
import io
import unicodedata
from collections.abc import Callable, Collection, Iterable, Sequence
from decimal import Decimal

Cell = str | int | float | Decimal | None
FORMULA_STARTS = frozenset("=+-@\u2212")
_INVISIBLE = frozenset({"Zs", "Zl", "Zp", "Cf"})


def starts_a_formula(text: str) -> bool:
    """Whether a spreadsheet could read this string as a formula (the rule above)."""
    for char in text:
        category = unicodedata.category(char)
        if category not in _INVISIBLE:
            return category == "Cc" or unicodedata.normalize("NFKC", char)[:1] in FORMULA_STARTS
    return False


def neutralized(text: str) -> str:
    """The string as a cell no spreadsheet evaluates: quoted if it could start a formula."""
    return f"'{text}" if starts_a_formula(text) else text


def safe_cell(value: Cell) -> Cell:
    """A cell to write: numbers as they are, strings neutralized, ``None`` empty."""
    if value is None:
        return ""
    if isinstance(value, str):
        return neutralized(value)
    if isinstance(value, int | float | Decimal):
        return value
    raise TypeError(f"a CSV cell is a string or a number, not {type(value).__name__}")


def csv_text(header: Sequence[str], rows: Iterable[Sequence[Cell]]) -> str:
    """A whole CSV file, header first, every cell through ``safe_cell``."""
    return _written([header, *rows], lambda _column, value: safe_cell(value))


def neutralized_csv(text: str, *, numeric_columns: Collection[str]) -> str:
    """A stored CSV rewritten by the rule: the cells of ``numeric_columns`` (which the product
    computed) as they are, every other cell as a string. Written before this module existed, a
    stored CSV may hold a worker's formula; one written by ``csv_text`` comes back unchanged."""
    rows = list(csv.reader(io.StringIO(text)))
    if not rows:
        return text
    kept = {i for i, name in enumerate(rows[0]) if name in numeric_columns}
    return _written(rows, lambda column, value: value if column in kept else safe_cell(value))


def _written(rows: Iterable[Sequence[Cell]], cell: Callable[[int, Cell], Cell]) -> str:
    """Lines end in CRLF (RFC 4180): the csv module quotes a cell holding a character of the
    line terminator, so with "\\n" alone a carriage return in a name would break the row."""
    out = io.StringIO()
    csv.writer(out, lineterminator="\r\n").writerows(
        [cell(column, value) for column, value in enumerate(row)] for row in rows
    )
    return out.getvalue()
