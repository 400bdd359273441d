"""``among``: membership in a list passed as one parameter, in a statement whose text does not
depend on the list's length (so that PostgreSQL prepares and plans it once)."""

from collections.abc import Iterator

import pytest
from sqlalchemy import Column, MetaData, String, Table, event, select
from sqlalchemy.orm import Session

from quorum.db.among import among

_metadata = MetaData()
_word = Table("among_word", _metadata, Column("text", String(20), primary_key=True))
_WORDS_AMONG = select(_word.c.text).where(among(_word.c.text, "wanted")).order_by(_word.c.text)
_WORDS_NOT_AMONG = (
    select(_word.c.text).where(~among(_word.c.text, "unwanted")).order_by(_word.c.text)
)


@pytest.fixture
def words(db: Session) -> Iterator[None]:
    """A table of words, gone again before the test's transaction commits."""
    _metadata.create_all(db.connection())
    db.execute(_word.insert(), [{"text": t} for t in ("ant", "bee", "cat", "50% off", 'say "hi"')])
    yield
    _metadata.drop_all(db.connection())


@pytest.mark.usefixtures("words")
def test_among_matches_exactly_the_listed_values_whatever_their_number(db: Session):
    assert db.scalars(_WORDS_AMONG, {"wanted": ["cat", "ant", "dog"]}).all() == ["ant", "cat"]
    assert db.scalars(_WORDS_AMONG, {"wanted": ["bee"]}).all() == ["bee"]
    assert db.scalars(_WORDS_AMONG, {"wanted": ["50% off", 'say "hi"']}).all() == [
        "50% off",
        'say "hi"',
    ]
    assert db.scalars(_WORDS_AMONG, {"wanted": []}).all() == []


@pytest.mark.usefixtures("words")
def test_not_among_leaves_the_listed_values_out_and_an_empty_list_leaves_none_out(db: Session):
    assert db.scalars(_WORDS_NOT_AMONG, {"unwanted": ["bee", "cat", "ant"]}).all() == [
        "50% off",
        'say "hi"',
    ]
    assert len(db.scalars(_WORDS_NOT_AMONG, {"unwanted": []}).all()) == 5


@pytest.mark.usefixtures("words")
def test_the_database_gets_the_same_statement_text_for_lists_of_any_length(db: Session):
    sent: list[str] = []

    def record(_connection, _cursor, statement, *_args) -> None:  # type: ignore[no-untyped-def]
        sent.append(statement)

    engine = db.get_bind()
    event.listen(engine, "before_cursor_execute", record)
    try:
        for wanted in ([], ["ant"], ["ant", "bee", "cat"], [str(i) for i in range(40)]):
            assert len(db.scalars(_WORDS_AMONG, {"wanted": wanted}).all()) == len(
                {"ant", "bee", "cat"} & set(wanted)
            )
    finally:
        event.remove(engine, "before_cursor_execute", record)
    assert len(sent) == 4
    assert len(set(sent)) == 1
