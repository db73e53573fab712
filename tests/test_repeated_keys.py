"""A key given twice in one JSON object is a named error in every file an import reads as
JSON, not the last value kept in silence (canvass/guard/unique.py): an election definition,
a NIST SP 1500-103 cast vote record report, a NIST SP 1500-100 results report, an RCTab
contest configuration, Dominion's manifests, a trust store.

Each place is the line and column of the opening brace of the object holding the key,
read off the sample by eye."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import shared_path

from canvass.domain.definition import load_definition
from canvass.errors import DefinitionError, IngestError, RulesError, VerificationError
from canvass.ingest import open_export

TAIL = "readers differ on which value they take"


def test_a_definition_in_json() -> None:
    data = b'{"election": {"name": "General",\n  "name": "Primary"}}'
    with pytest.raises(DefinitionError) as e:
        load_definition(data, "election.json")
    assert str(e.value) == (
        "election.json: line 1, column 14: expected each key once in an object; "
        f"found 'name' twice; {TAIL}"
    )


def test_a_definition_in_json_whose_key_needs_escaping() -> None:
    data = '{"a": 1,\n"\\n\u0430": 2, "\\n\u0430": 3}'.encode()
    with pytest.raises(DefinitionError) as e:
        load_definition(data, "election.json")
    assert str(e.value) == (
        "election.json: line 1, column 1: expected each key once in an object; "
        f"found '\\n\\u0430' twice; {TAIL}"
    )


def test_a_definition_the_log_accepted_is_read_as_it_was() -> None:
    """What was accepted before is read again without the check (a definition recorded
    before the check existed must still open); here it fails later, on its fields."""
    data = b'{"election": {"name": "General",\n  "name": "Primary"}}'
    with pytest.raises(DefinitionError) as e:
        load_definition(data, "election.json", accepted=True)
    assert "given twice" not in str(e.value)
    assert "found 'name' twice" not in str(e.value)


def test_a_nist_cast_vote_record_report(tmp_path: Path) -> None:
    sample = shared_path(
        "data", "nist-cdf", "test_data", "synthetic", "gen-01", "cvr_v1", "cvr-gen-01.json"
    )
    text = sample.read_text()
    first = '"CreatingDeviceId" : "rd",'
    assert text.splitlines()[3].startswith('   { "BallotPrePrintedId"')
    path = tmp_path / "cvr.json"
    path.write_text(text.replace(first, first + ' "CreatingDeviceId" : "rd-2",', 1))
    with pytest.raises(IngestError) as e:
        open_export("nist-cvr", [path]).read("county")
    assert str(e.value) == (
        f"{path}: line 4, column 4: expected each key once in an object; "
        f"found 'CreatingDeviceId' twice; {TAIL}"
    )


def test_a_nist_results_report(tmp_path: Path) -> None:
    from canvass.ingest.nist_err import read_err

    sample = shared_path(
        "data", "nist-cdf", "test_data", "synthetic", "gen-01", "err_v2", "err-gen-01.json"
    )
    text = sample.read_text()
    assert text.splitlines()[1] == ' { "Election" : '
    path = tmp_path / "err.json"
    path.write_text(text.replace('{ "Election" : ', '{ "Election" : [], "Election" : ', 1))
    with pytest.raises(IngestError) as e:
        read_err(path, None, "county")  # type: ignore[arg-type]
    assert str(e.value) == (
        f"{path}: line 2, column 2: expected each key once in an object; "
        f"found 'Election' twice; {TAIL}"
    )


def test_an_rctab_configuration(tmp_path: Path) -> None:
    from canvass.tabulate.rctab_config import load_config

    sample = shared_path("data", "rctab", "generic_csv_test", "generic_csv_test_config.json")
    lines = sample.read_text().splitlines(keepends=True)
    assert lines[44] == '  "rules" : {\n'
    assert lines[45].strip() == '"tiebreakMode" : "useCandidateOrder",'
    lines.insert(46, '    "tiebreakMode" : "random",\n')
    path = tmp_path / "config.json"
    path.write_text("".join(lines))
    with pytest.raises(RulesError) as e:
        load_config(path)
    assert str(e.value) == (
        f"{path}: line 45, column 13: expected each key once in an object; "
        f"found 'tiebreakMode' twice; {TAIL}"
    )


def test_a_dominion_manifest(tmp_path: Path) -> None:
    folder = shared_path("data", "dominion-sf2024")
    for manifest in (folder / "manifests").iterdir():
        (tmp_path / manifest.name).write_bytes(manifest.read_bytes())
    (tmp_path / "CvrExport_0.json").write_bytes((folder / "CvrExport_0.json").read_bytes())
    path = tmp_path / "CandidateManifest.json"
    text = path.read_text()
    assert text.startswith('{\n  "Version": "5.10.50.85",\n')
    path.write_text(text.replace('"Version"', '"List": [],\n  "Version"', 1))
    with pytest.raises(IngestError) as e:
        open_export("dominion", [tmp_path]).read("county")
    assert str(e.value) == (
        f"{path}: line 1, column 1: expected each key once in an object; found 'List' twice; {TAIL}"
    )


def test_a_trust_store(tmp_path: Path) -> None:
    from canvass.verify.trust import TrustStore

    path = tmp_path / "trust.json"
    path.write_text(json.dumps({"logs": {}})[:-1] + ', "logs": {"a": {}}}')
    with pytest.raises(VerificationError) as e:
        TrustStore(path)
    assert str(e.value) == (
        f"{path}: line 1, column 1: expected each key once in an object; found 'logs' twice; {TAIL}"
    )


def test_a_document_without_a_repeated_key_is_read() -> None:
    from canvass.guard.documents import json_value

    assert json_value(
        b'{"a": {"b": 1}, "b": {"a": 2}, "c": [{"a": 1}, {"a": 2}]}', "x", unique=True
    )
