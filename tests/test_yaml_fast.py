"""A definition the log recorded (so accepted once by PyYAML's own loader) is read again with
libyaml's parser (C) unless it holds what the two read apart. Where both accept a text,
they must read the same value; anything libyaml refuses, and every text not accepted
before, is read by PyYAML's loader, with its messages."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from canvass.errors import DefinitionError
from canvass.guard.documents import _REFUSED, _fast_yaml, _Loader, yaml_value
from tests.conftest import EXAMPLES

SIGNIFICANT = [*"ab1 0\n\t:-[]{},\"'#&!|>?%@`.~=+\\", "é", "\x85", "\u2028", "\ufeff", "\x07"]


def pure(text: str) -> object:
    try:
        return yaml.load(text, Loader=_Loader)
    except Exception as e:
        return type(e)


@settings(max_examples=1500, deadline=None)
@given(st.lists(st.sampled_from(SIGNIFICANT), max_size=40).map("".join))
def test_any_text_both_read_reads_the_same(text: str) -> None:
    fast, slow = _fast_yaml(text), pure(text)
    if fast is not _REFUSED and not (isinstance(slow, type) and issubclass(slow, Exception)):
        assert slow == fast


values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=12),
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(st.text(max_size=6) | st.integers(), inner, max_size=4)
    ),
    max_leaves=20,
)


@settings(max_examples=300, deadline=None)
@given(values, st.booleans(), st.sampled_from([None, '"', "'", "|", ">"]))
def test_documents_as_yaml_writes_them(value: object, flow: bool, style: str | None) -> None:
    text = yaml.safe_dump(value, default_flow_style=flow, default_style=style, allow_unicode=True)
    fast = _fast_yaml(text)
    assert fast is not _REFUSED or any(c in text for c in "*!\t\x85\u2028\u2029\ufeff")
    if fast is not _REFUSED:
        assert fast == pure(text)


@pytest.mark.parametrize("path", sorted(EXAMPLES.glob("*.yaml")), ids=lambda p: p.name)
def test_the_examples(path: Path) -> None:
    text = path.read_text()
    assert _fast_yaml(text) == yaml.load(text, Loader=_Loader)


@pytest.mark.parametrize(
    "text", ["a: 1\na: 2\n", "a: [1\n", "? [a]\n: 1\n", "a: &x 1\nb: *x\n", "a: b\t#\n"]
)
def test_refusals_are_the_same_whichever_loader_is_tried(text: str) -> None:
    with pytest.raises(DefinitionError) as first:
        yaml_value(text, "d.yaml", DefinitionError)
    assert "expected valid YAML" in str(first.value)
    with pytest.raises(DefinitionError) as again:
        yaml_value(text, "d.yaml", DefinitionError, accepted=True)
    assert str(again.value) == str(first.value)


def test_dates_stay_text_either_way() -> None:
    for accepted in (False, True):
        assert yaml_value("a: 2020-01-02\n", "d", DefinitionError, accepted=accepted) == {
            "a": "2020-01-02"
        }


def test_text_not_accepted_before_is_read_by_pyyaml() -> None:
    """libyaml takes a block scalar whose indicator runs into a comment; PyYAML refuses it,
    and its word is the one that counts for a file never accepted."""
    assert _fast_yaml("a: |#\n  x\n") == {"a": "x\n"}
    with pytest.raises(DefinitionError) as e:
        yaml_value("a: |#\n  x\n", "d.yaml", DefinitionError)
    assert "expected valid YAML" in str(e.value)
