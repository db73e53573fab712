"""A value of megabytes quoted in a message is cut to what finds it: one line a person can
read, not the file again (canvass/errors.py, ``shortened``)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from canvass.domain.definition import load_definition
from canvass.errors import DefinitionError, IngestError, LogIntegrityError, RulesError


def test_a_definition_value_of_200000_characters() -> None:
    from canvass.demo.definition import demo_definition

    doc = demo_definition(counties=1, precincts=2)
    doc["parties"][1]["id"] = "x" * 200_000
    with pytest.raises(DefinitionError) as e:
        load_definition(json.dumps(doc).encode(), "election.json")
    assert str(e.value) == (
        "election.json: parties[1].id: expected text of length <= 100; found '"
        + "x" * 60
        + "…' (200,000 characters)"
    )


def test_an_rctab_setting_of_200000_characters(tmp_path: Path) -> None:
    from canvass.tabulate.rctab_config import load_config

    path = tmp_path / "config.json"
    path.write_text(
        json.dumps(
            {
                "outputSettings": {"contestName": "Mayor", "tabulateByBatch": "y" * 200_000},
                "cvrFileSources": [],
                "candidates": [],
                "rules": {},
            }
        )
    )
    with pytest.raises(RulesError) as e:
        load_config(path)
    message = str(e.value)
    assert len(message) < 5_000
    assert (
        "tabulateByBatch: expected true or false; found '" + "y" * 60 + "…' (200,000 characters)"
        in message
    )


def test_short_quotes_and_lists_of_problems_are_left_whole() -> None:
    text = "f.csv line 2: expected a count; found '" + "7" * 199 + "'"
    assert str(IngestError(text)) == text
    problems = [f"entry {i}: the hash differs" for i in range(1000)]
    assert str(LogIntegrityError(problems)) == "; ".join(problems)
