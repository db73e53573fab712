"""The election definition file: the example loads, the schema is published and current,
and every malformed document fails with the file, the path, what was expected and found."""

from __future__ import annotations

import json

import jsonschema
import pytest
import yaml

from canvass.demo.definition import demo_definition
from canvass.domain.definition import load_definition
from canvass.domain.model import ContestType, _normalize, contest_choices, definition_schema
from canvass.errors import DefinitionError
from tests.conftest import EXAMPLES, ROOT

EXAMPLE = (EXAMPLES / "election.yaml").read_bytes()
SCHEMA_FILE = ROOT / "schema" / "election-definition.schema.json"


def test_example_loads() -> None:
    d = load_definition(EXAMPLE, "election.yaml")
    assert d.election.id == "example-2026-general"
    assert d.election.date.isoformat() == "2026-11-03"
    assert [c.type for c in d.contests] == [
        ContestType.CANDIDATE,
        ContestType.CANDIDATE,
        ContestType.RANKED_CHOICE,
        ContestType.MEASURE,
        ContestType.RETENTION,
    ]
    candidates = {c.id: c for c in d.candidates}
    president = contest_choices(d.contests[0], candidates)
    assert [c.id for c in president] == ["harris", "trump", "write-in"]
    assert president[-1].write_in
    assert [c.id for c in contest_choices(d.contests[3], candidates)] == ["yes", "no"]


def test_json_and_yaml_are_the_same_document() -> None:
    as_json = json.dumps(yaml.safe_load(EXAMPLE), default=str).encode()
    assert load_definition(as_json, "election.json") == load_definition(EXAMPLE, "election.yaml")


def test_the_schema_does_not_depend_on_how_msgspec_renders_docstrings() -> None:
    """msgspec 0.23 strips a docstring's indentation and earlier releases keep it; before
    0.22 ``null`` came first in ``anyOf``. The published schema is the same under all."""
    older = {
        "description": "How a contest is counted.\n    Second line, indented.",
        "properties": {"rules": {"anyOf": [{"type": "null"}, {"$ref": "#/$defs/Rules"}]}},
    }
    newer = {
        "description": "How a contest is counted.\nSecond line, indented.",
        "properties": {"rules": {"anyOf": [{"$ref": "#/$defs/Rules"}, {"type": "null"}]}},
    }
    _normalize(older)
    _normalize(newer)
    assert older == newer
    assert newer["description"] == "How a contest is counted.\nSecond line, indented."


def test_published_schema_is_current() -> None:
    assert json.loads(SCHEMA_FILE.read_text()) == definition_schema(), (
        "regenerate with: canvass schema > schema/election-definition.schema.json"
    )


def test_published_schema_accepts_the_example_and_the_demo() -> None:
    schema = json.loads(SCHEMA_FILE.read_text())
    doc = json.loads(json.dumps(yaml.safe_load(EXAMPLE), default=str))
    jsonschema.validate(doc, schema)
    jsonschema.validate(demo_definition(counties=3, precincts=9), schema)
    doc["contests"][0]["type"] = "rankd"
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(doc, schema)


def test_demo_definition_is_deterministic_and_valid() -> None:
    a, b = demo_definition(), demo_definition()
    assert a == b
    d = load_definition(json.dumps(a).encode(), "demo.json")
    counties = [j for j in d.jurisdictions if j.kind == "county"]
    precincts = [j for j in d.jurisdictions if j.kind == "precinct"]
    assert len(counties) >= 100
    assert len(precincts) == 2500
    assert {c.type for c in d.contests} >= {"candidate", "ranked_choice", "measure"}
    assert any(c.votes_allowed == 2 for c in d.contests)
    assert demo_definition(seed=7) != a


def fails(old: str, new: str, name: str = "election.yaml") -> str:
    data = EXAMPLE.decode().replace(old, new, 1)
    assert data != EXAMPLE.decode(), f"{old!r} is not in the example"
    with pytest.raises(DefinitionError) as e:
        load_definition(data.encode(), name)
    return str(e.value)


def test_bad_yaml() -> None:
    assert fails("  - {id: cd-1,", "  - {id: cd-1,,") == (
        "election.yaml: line 12, column 15: expected valid YAML; "
        "expected the node content, but found ','"
    )


def test_bad_json() -> None:
    with pytest.raises(DefinitionError) as e:
        load_definition(b'{"election": {"id": "x",}}', "election.json")
    assert str(e.value) == (
        "election.json: line 1, column 25: expected valid JSON; "
        "Expecting property name enclosed in double quotes"
    )


def test_not_a_mapping() -> None:
    with pytest.raises(DefinitionError) as e:
        load_definition(b"- just\n- a list\n", "election.yaml")
    assert str(e.value) == "election.yaml: document: expected a mapping of fields; found a list"


def test_key_given_twice() -> None:
    assert fails(
        "name: Example County General Election",
        "name: Example County General Election\n  name: Other",
    ) == (
        "election.yaml: line 6, column 3: expected valid YAML; "
        "the key 'name' is given twice in one mapping"
    )


def test_missing_field() -> None:
    assert fails(
        "  - {id: cd-1, name: Congressional District 1, kind: district",
        "  - {id: cd-1, kind: district",
    ) == ("election.yaml: jurisdictions[1].name: expected a value; found the field missing")


def test_unknown_contest_type() -> None:
    assert fails("type: ranked_choice", "type: ranked-choice") == (
        "election.yaml: contests[2].type: expected one of candidate, ranked_choice, measure, "
        "retention; found 'ranked-choice'"
    )


def test_unknown_field() -> None:
    assert fails("    votes_allowed: 2", "    vote_allowed: 2") == (
        "election.yaml: contests[1].vote_allowed: expected a known field; found an unknown one"
    )


def test_wrong_type() -> None:
    assert fails("    votes_allowed: 2", "    votes_allowed: two") == (
        "election.yaml: contests[1].votes_allowed: expected a whole number; found 'two'"
    )


def test_bad_date() -> None:
    assert fails("date: 2026-11-03", "date: 2026-11-31") == (
        "election.yaml: election.date: expected a date (YYYY-MM-DD); found '2026-11-31'"
    )


def test_bad_id() -> None:
    assert fails("{id: ed, name: Election Day", "{id: 'e d', name: Election Day") == (
        "election.yaml: counting_groups[0].id: expected text matching "
        "'^[A-Za-z0-9][A-Za-z0-9._-]*$'; found 'e d'"
    )


def test_duplicate_id() -> None:
    assert fails("{id: cruz, name: Luis Cruz}", "{id: baker, name: Luis Cruz}") == (
        "election.yaml: candidates[7].id: expected a candidate id not used before; "
        "found 'baker', already at candidates[6].id"
    )


def test_duplicate_precinct_portion_id() -> None:
    assert fails("{id: elk-rapids-1-b,", "{id: central-lake-1,") == (
        "election.yaml: jurisdictions[5].portions[1].id: expected a jurisdiction or precinct "
        "portion id not used before; found 'central-lake-1', already at jurisdictions[4].id"
    )


def test_candidate_in_no_contest() -> None:
    assert fails("candidates: [baker, cruz, dunn]", "candidates: [baker, cruz]") == (
        "election.yaml: candidates[8]: expected every candidate to be in a contest; "
        "found 'dunn' in none"
    )


def test_unknown_candidate_lists_the_nearest() -> None:
    assert fails("candidates: [harris, trump]", "candidates: [harris, trumpp]") == (
        "election.yaml: contests[0].candidates[1]: expected the id of a candidate; "
        "found 'trumpp', which is not one (nearest: 'trump')"
    )


def test_unknown_parent() -> None:
    assert fails("parent: central-lake}", "parent: central-lak}") == (
        "election.yaml: jurisdictions[4].parent: expected the id of a jurisdiction; "
        "found 'central-lak', which is not one (nearest: 'central-lake', 'central-lake-1')"
    )


def test_two_roots() -> None:
    assert fails("kind: county, parent: michigan", "kind: county") == (
        "election.yaml: jurisdictions: expected exactly one jurisdiction without a parent "
        "(the state); found 2: 'michigan', 'antrim'"
    )


def test_ranked_choice_without_ranks() -> None:
    assert fails("    ranks: 3\n", "") == (
        "election.yaml: contests[2].ranks: expected the number of rankings a ranked-choice "
        "ballot has; found the field missing"
    )


def test_too_many_votes_allowed() -> None:
    assert fails("votes_allowed: 2", "votes_allowed: 5") == (
        "election.yaml: contests[1].votes_allowed: expected at most 4, the number of "
        "candidates and write-in lines; found 5"
    )


def test_ballot_style_names_an_unknown_precinct() -> None:
    assert fails("precincts: [elk-rapids-1-a]", "precincts: [elk-rapids-1-c]") == (
        "election.yaml: ballot_styles[1].precincts[0]: expected the id of a precinct or "
        "precinct portion; found 'elk-rapids-1-c', which is not one "
        "(nearest: 'elk-rapids-1-b', 'elk-rapids-1-a', 'elk-rapids-1')"
    )


def test_retention_without_candidate() -> None:
    assert fails("    candidate: hale\n", "") == (
        "election.yaml: contests[4].candidate: expected the official whose retention is "
        "asked; found the field missing"
    )


def test_not_utf8() -> None:
    with pytest.raises(DefinitionError) as e:
        load_definition(b"election: \xff\n", "election.yaml")
    assert (
        str(e.value)
        == "election.yaml line 1: expected UTF-8 text; found byte 0xFF (byte 11 of the file)"
    )


def test_registered_voters_are_a_count() -> None:
    county = "{id: antrim, name: Antrim County, kind: county, parent: michigan"
    good = EXAMPLE.decode().replace(county, county + ", registered_voters: 18402", 1)
    antrim = next(
        j for j in load_definition(good.encode(), "e.yaml").jurisdictions if j.id == "antrim"
    )
    assert antrim.registered_voters == 18402
    assert fails(county, county + ", registered_voters: -1") == (
        "election.yaml: jurisdictions[2].registered_voters: expected a whole number >= 0; "
        "found -1 (int)"
    )
    assert fails(county, county + ", registered_voters: many") == (
        "election.yaml: jurisdictions[2].registered_voters: expected a whole number; found 'many'"
    )
