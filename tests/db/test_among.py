"""``among``: membership in a list passed as one parameter, in a statement whose text does not
depend on the list's length (so that PostgreSQL prepares and plans it once)."""

from collections.abc import Iterator

import pytest
from sqlalchemy import Column, MetaData, String, Table, select
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


def test_the_statement_text_is_the_same_for_lists_of_any_length(db: Session):
    dialect = db.get_bind().dialect
    texts = set()
    for wanted in ([], ["a"], ["a", "b", "c"], [str(i) for i in range(40)]):
        compiled = _WORDS_AMONG.compile(dialect=dialect)
        texts.add(str(compiled))
        assert compiled.construct_params({"wanted": wanted})["wanted"] == wanted
    assert len(texts) == 1
