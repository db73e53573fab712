"""Hostile input: each class of crash the fuzzer found, as its smallest input, ending in the
one-line message that names the file, the place, what was expected and what was found.

Bombs are refused in a child process whose peak memory is measured: under 500 MB."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from canvass.domain.definition import load_definition
from canvass.errors import DefinitionError, IngestError, RulesError
from canvass.guard import limits
from canvass.ingest import open_export
from canvass.ingest.ballots import to_parquet
from canvass.ingest.manifest import read_ballot_manifest
from canvass.ingest.nist_err import read_err
from canvass.ingest.results_csv import read_precinct_results
from canvass.tabulate.rctab_config import load_config
from tests.conftest import EXAMPLES, ROOT, shared_path

DOMINION = ("dominion-sf2024", "manifests")


def read(fmt: str, paths: list[Path]) -> None:
    export = open_export(fmt, paths)
    to_parquet(export.read("county"), export.contests)


def refused(fmt: str, paths: list[Path]) -> str:
    with pytest.raises(IngestError) as e:
        read(fmt, paths)
    return str(e.value)


def dominion_folder(tmp_path: Path, sessions: list[object] | None = None) -> Path:
    """SF's manifests and a CvrExport.json of ``sessions`` (by default one real session)."""
    manifests = shared_path("data", *DOMINION)
    folder = tmp_path / "export"
    folder.mkdir()
    for f in manifests.iterdir():
        (folder / f.name).write_bytes(f.read_bytes())
    if sessions is None:
        real = json.loads(shared_path("data", "dominion-sf2024", "CvrExport_0.json").read_bytes())
        sessions = real["Sessions"][:1]
    (folder / "CvrExport.json").write_text(json.dumps({"Sessions": sessions}))
    return folder


# --- text: encodings, line endings, numbers -----------------------------------------------

CSV_READERS = {
    "generic-csv": b"card,Mayor\n1,Ann\n2,B\xffb\n",
    "clear-ballot": (
        b"RowNumber,BoxID,BoxPosition,BallotID,PrecinctID,BallotStyleID,ScanComputerName,"
        b"Choice_1_1:Mayor:1:Vote For 1:Ann:NON\n1,1,1,1,P1,S1,C1,1\n2,1,2,2,P1,S1,C1,\xff\n"
    ),
}


@pytest.mark.parametrize("fmt", sorted(CSV_READERS))
def test_invalid_utf8_names_line_and_byte(tmp_path: Path, fmt: str) -> None:
    path = tmp_path / "cvr.csv"
    path.write_bytes(CSV_READERS[fmt])
    line = CSV_READERS[fmt].count(b"\n", 0, CSV_READERS[fmt].index(b"\xff")) + 1
    byte = CSV_READERS[fmt].index(b"\xff") + 1
    assert refused(fmt, [path]) == (
        f"{path} line {line}: expected UTF-8 text; found byte 0xFF (byte {byte} of the file)"
    )


@pytest.mark.parametrize("fmt", ["generic-csv", "clear-ballot", "dominion-csv"])
def test_utf16_byte_order_mark_is_named(tmp_path: Path, fmt: str) -> None:
    path = tmp_path / "cvr.csv"
    path.write_bytes("card,Mayor\n1,Ann\n".encode("utf-16"))
    assert refused(fmt, [path]) == (
        f"{path}: expected UTF-8 text; found a UTF-16 byte-order mark (save the file as UTF-8)"
    )


def test_manifest_invalid_utf8(tmp_path: Path) -> None:
    path = tmp_path / "manifest.csv"
    path.write_bytes(b"Batch Name,Number of Ballots\nB\xe9,3\n")
    with pytest.raises(IngestError) as e:
        read_ballot_manifest(path)
    assert str(e.value) == (
        f"{path} line 2: expected UTF-8 text; found byte 0xE9 (byte 31 of the file)"
    )


def test_manifest_with_old_macintosh_line_endings_is_read(tmp_path: Path) -> None:
    path = tmp_path / "manifest.csv"
    path.write_bytes(b"Tabulator,Batch Name,Number of Ballots\rT1,B1,10\rT1,B2,5\r")
    batches = read_ballot_manifest(path)
    assert [(b.tabulator, b.id, b.cards) for b in batches] == [("T1", "B1", 10), ("T1", "B2", 5)]


@pytest.mark.parametrize("count", ["99999999999999999999999", "²", "٣"])
def test_manifest_count_must_be_ascii_digits_within_64_bits(tmp_path: Path, count: str) -> None:
    path = tmp_path / "manifest.csv"
    path.write_text(f"Batch Name,Number of Ballots\nB1,{count}\n")
    with pytest.raises(IngestError) as e:
        read_ballot_manifest(path)
    assert str(e.value) == (
        f"{path} row 2, column 'Number of Ballots': expected a whole number; found {count!r}"
    )


def test_csv_field_past_the_csv_limit(tmp_path: Path) -> None:
    path = tmp_path / "cvr.csv"
    path.write_bytes(b'card,Mayor\n1,"' + b"x" * 200_000 + b'"\n')
    assert refused("generic-csv", [path]) == (
        f"{path} line 2: expected CSV; found a field longer than 131,072 characters"
    )


def test_ranks_beyond_the_ballot_table(tmp_path: Path) -> None:
    path = tmp_path / "cvr.csv"
    path.write_text("card,Judge (Ranks=300)\n1,A\n")
    assert refused("generic-csv", [path]) == (
        f"{path} row 1, column 2: expected Ranks= a whole number from 1 to 127; found '300'"
    )
    path.write_text("card,Judge (Ranks=3)\n1," + ">".join(["A"] * 200) + "\n")
    assert refused("generic-csv", [path]) == (
        f"{path} row 2, column 2: expected at most 127 rankings; found 200"
    )


def test_precinct_results_count_past_what_a_count_can_be(tmp_path: Path) -> None:
    definition = load_definition((EXAMPLES / "election.yaml").read_bytes(), "election.yaml")
    path = tmp_path / "results.csv"
    path.write_text("county,precinct,harris_eday\nantrim,P1,9223372036854775808\n")
    with pytest.raises(IngestError) as e:
        read_precinct_results(path, definition)
    assert str(e.value) == (
        f"{path} row 2, column 'harris_eday': expected a whole number of votes up to "
        "1,000,000,000,000; found '9223372036854775808'"
    )


# --- JSON: retyped and missing fields, numbers, surrogates, nesting ----------------------


def nist_report(**changes: object) -> dict[str, object]:
    report: dict[str, object] = {
        "@type": "CVR.CastVoteRecordReport",
        "Election": [{"Contest": [{"@id": "c1", "ContestSelection": [{"@id": "s1"}]}]}],
        "CVR": [
            {
                "CurrentSnapshotId": "a",
                "CVRSnapshot": [
                    {
                        "@id": "a",
                        "CVRContest": [
                            {
                                "ContestId": "c1",
                                "CVRContestSelection": [
                                    {
                                        "ContestSelectionId": "s1",
                                        "SelectionPosition": [{"NumberVotes": 1}],
                                    }
                                ],
                            }
                        ],
                    }
                ],
            }
        ],
    }
    report.update(changes)
    return report


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"CVR": 5}, "CVR: expected a list; found a whole number"),
        (
            {"Election": [{"Contest": [{"@id": 7}]}]},
            "Election[0].Contest[0].@id: expected text; found a whole number",
        ),
        (
            {"Election": [{"Contest": [{"Name": "x"}]}]},
            "Election[0].Contest[0].@id: expected a value; found none",
        ),
        (
            {"Election": [{"Contest": [{"@id": "c", "VotesAllowed": 2**64}]}]},
            "Election[0].Contest[0].VotesAllowed: expected a whole number of at most 64 bits; found one of 20 digits",
        ),
    ],
)
def test_nist_cvr_retyped_fields(tmp_path: Path, changes: dict[str, object], message: str) -> None:
    path = tmp_path / "cvr.json"
    path.write_text(json.dumps(nist_report(**changes)))
    assert refused("nist-cvr", [path]) == f"{path}: {message}"


def test_nist_cvr_rank_beyond_the_ballot_table(tmp_path: Path) -> None:
    report = nist_report()
    position = report["CVR"][0]["CVRSnapshot"][0]["CVRContest"][0]["CVRContestSelection"][0]  # type: ignore[index]
    position["SelectionPosition"][0]["Rank"] = 200
    path = tmp_path / "cvr.json"
    path.write_text(json.dumps(report))
    assert refused("nist-cvr", [path]) == (
        f"{path}: CVR[0].CVRSnapshot[0].CVRContest[0].CVRContestSelection[0]"
        ".SelectionPosition[0].Rank: expected a whole number <= 127"
    )


def test_lone_surrogate_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "cvr.json"
    path.write_text(json.dumps(nist_report()).replace('"c1"', '"\\ud800"', 1))
    assert refused("nist-cvr", [path]) == (
        f"{path}: expected JSON; found a lone surrogate \\ud800 (byte 74), which is no character"
    )


@pytest.mark.parametrize("depth", [150, 100_000])
def test_deep_json_is_refused(tmp_path: Path, depth: int) -> None:
    path = tmp_path / "cvr.json"
    path.write_text('{"@type": "CVR.CastVoteRecordReport", "X": ' + "[" * depth + "]" * depth + "}")
    assert refused("nist-cvr", [path]) == (
        f"{path}: document: expected at most 100 levels of nesting; found more "
        "(set CANVASS_MAX_NESTING to raise it)"
    )


def test_nesting_limit_can_be_raised(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "cvr.json"
    report = nist_report(X=json.loads("[" * 150 + "]" * 150))
    path.write_text(json.dumps(report))
    assert "levels of nesting" in refused("nist-cvr", [path])
    monkeypatch.setenv("CANVASS_MAX_NESTING", "200")
    read("nist-cvr", [path])
    monkeypatch.setenv("CANVASS_MAX_NESTING", "lots")
    assert refused("nist-cvr", [path]) == (
        "CANVASS_MAX_NESTING: expected a whole number of levels above 0; found 'lots'"
    )


def test_dominion_id_past_64_bits(tmp_path: Path) -> None:
    folder = dominion_folder(tmp_path)
    doc = json.loads((folder / "CvrExport.json").read_text())
    doc["Sessions"][0]["TabulatorId"] = 2**64
    (folder / "CvrExport.json").write_text(json.dumps(doc))
    assert refused("dominion", [folder]) == (
        f"{folder / 'CvrExport.json'}: Sessions[0].TabulatorId: expected a whole number "
        "<= 9223372036854775807"
    )


def test_dominion_manifest_retyped(tmp_path: Path) -> None:
    folder = dominion_folder(tmp_path)
    doc = json.loads((folder / "ContestManifest.json").read_text())
    doc["List"][0]["VoteFor"] = "one"
    (folder / "ContestManifest.json").write_text(json.dumps(doc))
    assert refused("dominion", [folder]) == (
        f"{folder / 'ContestManifest.json'}: List[0].VoteFor: expected a whole number or "
        "nothing; found text"
    )


def test_dominion_deep_nesting_in_an_unread_field(tmp_path: Path) -> None:
    folder = dominion_folder(tmp_path)
    (folder / "CvrExport.json").write_text(
        '{"Sessions": [], "X": ' + "[" * 100_000 + "]" * 100_000 + "}"
    )
    assert refused("dominion", [folder]) == (
        f"{folder / 'CvrExport.json'}: document: expected at most 100 levels of nesting; found "
        "more (set CANVASS_MAX_NESTING to raise it)"
    )


def test_nist_err_count_retyped(tmp_path: Path) -> None:
    definition = load_definition((EXAMPLES / "election.yaml").read_bytes(), "election.yaml")
    path = tmp_path / "err.json"
    report = {
        "@type": "ElectionResults.ElectionReport",
        "Election": [
            {
                "Contest": [
                    {
                        "Name": "x",
                        "ContestSelection": [{"VoteCounts": [{"GpUnitId": "u", "Count": "many"}]}],
                    }
                ]
            }
        ],
    }
    path.write_text(json.dumps(report))
    with pytest.raises(IngestError) as e:
        read_err(path, definition, "antrim")
    assert str(e.value) == (
        f"{path}: Election[0].Contest[0].ContestSelection[0].VoteCounts[0].Count: expected a "
        "whole number; found text"
    )


def test_rctab_config_retyped_and_impossible_path(tmp_path: Path) -> None:
    path = tmp_path / "x_config.json"
    config = {
        "outputSettings": {"contestName": "Mayor"},
        "cvrFileSources": [{"provider": "genericCsv", "filePath": "a\u0000b"}],
        "candidates": [{"name": "Ann", "aliases": 5}],
        "rules": {},
    }
    path.write_text(json.dumps(config))
    with pytest.raises(RulesError) as e:
        load_config(path)
    problems = str(e.value).splitlines()
    assert (
        "  cvrFileSources[0].filePath: expected the path of a CVR file or folder; found 'a\\x00b'"
        in problems
    )
    assert "  candidates[0].aliases: expected a list of names; found int" in problems


def test_rctab_config_deep_nesting(tmp_path: Path) -> None:
    path = tmp_path / "x_config.json"
    path.write_text('{"rules": ' + "[" * 5000 + "]" * 5000 + "}")
    with pytest.raises(RulesError) as e:
        load_config(path)
    assert str(e.value) == (
        f"{path}: document: expected at most 100 levels of nesting; found more "
        "(set CANVASS_MAX_NESTING to raise it)"
    )


# --- definitions: YAML -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            b"a: &a [x, x]\nb: &b [*a, *a]\n",
            "line 2, column 8: expected valid YAML; aliases (*name) are not allowed",
        ),
        (
            b"election: " + b"[" * 5000 + b"]" * 5000 + b"\n",
            "document: expected at most 100 levels of nesting; found more (set CANVASS_MAX_NESTING to raise it)",
        ),
        (
            b'election: "\\ud800"\n',
            "election: expected text; found a lone surrogate \\ud800, which is no character",
        ),
        (
            b"election: " + b"9" * 5000 + b"\n",
            "expected valid YAML; found a number of more than 4,300 digits",
        ),
        (
            b"election: \x00\n",
            'document: expected valid YAML; unacceptable character #x0000: special characters are not allowed in "<unicode string>", position 10',
        ),
        (
            b"\xff\xfee\x00",
            "expected UTF-8 text; found a UTF-16 byte-order mark (save the file as UTF-8)",
        ),
    ],
)
def test_definition_hostile_yaml(text: bytes, message: str) -> None:
    with pytest.raises(DefinitionError) as e:
        load_definition(text, "election.yaml")
    assert str(e.value) == f"election.yaml: {message}"


def test_definition_json_number_past_python_limit() -> None:
    with pytest.raises(DefinitionError) as e:
        load_definition(b'{"election": ' + b"9" * 5000 + b"}", "election.json")
    assert str(e.value) == (
        "election.json: expected valid JSON; found a number of more than 4,300 digits"
    )


# --- XML ---------------------------------------------------------------------------------


def test_xml_external_entity_is_not_read(tmp_path: Path) -> None:
    path = tmp_path / "cvr.xml"
    path.write_text(
        '<!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
        '<CastVoteRecordReport><Election><Contest ObjectId="c1"><Name>&x;</Name></Contest>'
        "</Election></CastVoteRecordReport>"
    )
    assert refused("nist-cvr", [path]) == (
        f"{path}: Election[0].Contest[0].Name: expected text or nothing; found an object"
    )


def test_xml_entity_expansion_is_not_done(tmp_path: Path) -> None:
    entities = '<!ENTITY a0 "lol">' + "".join(
        f'<!ENTITY a{i} "{("&a" + str(i - 1) + ";") * 10}">' for i in range(1, 10)
    )
    path = tmp_path / "cvr.xml"
    path.write_text(
        f"<!DOCTYPE r [{entities}]><CastVoteRecordReport><Election><Contest ObjectId='c1'>"
        "<Name>&a9;</Name></Contest></Election></CastVoteRecordReport>"
    )
    message = refused("nist-cvr", [path])
    # libxml2 words its refusal by version; what matters is that it refuses, on one line.
    assert message.startswith(f"{path}: expected a NIST SP 1500-103 report in XML; ")
    assert "amplification" in message and "\n" not in message


def test_deep_xml_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "cvr.xml"
    path.write_text(
        "<CastVoteRecordReport>" + "<a>" * 300 + "</a>" * 300 + "</CastVoteRecordReport>"
    )
    assert refused("nist-cvr", [path]) == (
        f"{path}: document: expected at most 100 levels of nesting; found more "
        "(set CANVASS_MAX_NESTING to raise it)"
    )


def test_xml_syntax_error_on_one_line(tmp_path: Path) -> None:
    path = tmp_path / "cvr.xml"
    path.write_bytes(b"<Cvr>\x00</Cvr>")
    message = refused("hart", [path])
    assert message.startswith(f"{path}: expected a Hart CVR in XML; Invalid character: Char 0x0")
    assert "\n" not in message


# --- archives ----------------------------------------------------------------------------


def zipped(folder: Path, out: Path, method: int = zipfile.ZIP_DEFLATED) -> Path:
    with zipfile.ZipFile(out, "w", method) as z:
        for f in sorted(folder.iterdir()):
            z.write(f, f.name)
    return out


def test_damaged_zip_member(tmp_path: Path) -> None:
    archive = zipped(dominion_folder(tmp_path), tmp_path / "export.zip")
    data = bytearray(archive.read_bytes())
    start = data.index(b"PK\x03\x04", 1)
    name_length = int.from_bytes(data[start + 26 : start + 28], "little")
    body = start + 30 + name_length
    data[body : body + 16] = b"\xff" * 16
    archive.write_bytes(bytes(data))
    message = refused("dominion", [archive])
    assert message.startswith(f"{archive}:BallotTypeManifest.json: cannot read the member; ")


def test_unsupported_compression_method(tmp_path: Path) -> None:
    archive = zipped(dominion_folder(tmp_path), tmp_path / "export.zip", zipfile.ZIP_STORED)
    data = bytearray(archive.read_bytes())
    for signature, offset in ((b"PK\x03\x04", 8), (b"PK\x01\x02", 10)):
        at = data.find(signature)
        while at >= 0:
            data[at + offset : at + offset + 2] = (99).to_bytes(2, "little")
            at = data.find(signature, at + 4)
    archive.write_bytes(bytes(data))
    assert refused("dominion", [archive]) == (
        f"{archive}:BallotTypeManifest.json: cannot read the member; that compression method "
        "is not supported"
    )


def test_not_a_zip_at_all(tmp_path: Path) -> None:
    archive = tmp_path / "export.zip"
    archive.write_bytes(b"PK\x03\x04" + b"\x00" * 40)
    assert refused("dominion", [archive]) == (
        f"{archive}: expected a zip archive; found no end record"
    )


def test_archive_claiming_too_many_members(tmp_path: Path) -> None:
    archive = zipped(dominion_folder(tmp_path), tmp_path / "export.zip")
    data = bytearray(archive.read_bytes())
    end = data.rindex(b"PK\x05\x06")
    data[end + 8 : end + 12] = (0xFFFF).to_bytes(2, "little") * 2
    archive.write_bytes(bytes(data))
    os.environ.pop(limits.ARCHIVE_MEMBERS.variable, None)
    with pytest.MonkeyPatch.context() as m:
        m.setenv(limits.ARCHIVE_MEMBERS.variable, "1000")
        assert refused("dominion", [archive]) == (
            f"{archive}: the archive claims 65,535 members; the limit is 1,000 "
            "(set CANVASS_MAX_ARCHIVE_MEMBERS to raise it)"
        )


BOMB = """
import resource, sys
from pathlib import Path
from canvass.errors import CanvassError
from canvass.ingest import open_export
try:
    export = open_export(sys.argv[1], [Path(sys.argv[2])])
    list(export.read("county"))
    print("accepted")
except CanvassError as e:
    print(e)
# The peak of this program alone: Linux keeps ru_maxrss across exec, so it would also count
# the test process this child was forked from; VmHWM belongs to the program exec started.
try:
    status = Path("/proc/self/status").read_text()
    print(next(int(l.split()[1]) for l in status.splitlines() if l.startswith("VmHWM:")) // 1024)
except (OSError, StopIteration):
    print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024)
"""


def refused_in_bounded_memory(fmt: str, path: Path) -> str:
    """The message a bomb is refused with, read in a child process whose peak resident
    memory must stay under 500 MB."""
    done = subprocess.run(
        [sys.executable, "-c", BOMB, fmt, str(path)],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        check=True,
    )
    message, peak = done.stdout.strip().rsplit("\n", 1)
    assert int(peak) < 500, f"peak memory {peak} MB"
    return message


def stream_member(z: zipfile.ZipFile, name: str, head: bytes, filler: bytes, times: int) -> None:
    with z.open(name, "w", force_zip64=True) as f:
        f.write(head)
        for _ in range(times):
            f.write(filler)


@pytest.mark.slow
def test_zip_bomb_refused_in_bounded_memory(tmp_path: Path) -> None:
    folder = dominion_folder(tmp_path)
    (folder / "CvrExport.json").unlink()
    archive = zipped(folder, tmp_path / "bomb.zip")
    with zipfile.ZipFile(archive, "a", zipfile.ZIP_DEFLATED) as z:
        stream_member(z, "CvrExport.json", b'{"Sessions": [', b" " * 2**20, 2200)
    assert archive.stat().st_size < 10 * 2**20
    assert refused_in_bounded_memory("dominion", archive) == (
        f"{archive}:CvrExport.json: the member would expand to 2,306,867,214 bytes; the limit "
        "is 268,435,456 (set CANVASS_MAX_MEMBER_BYTES to raise it)"
    )


@pytest.mark.slow
def test_compression_ratio_refused(tmp_path: Path) -> None:
    folder = dominion_folder(tmp_path)
    (folder / "CvrExport.json").unlink()
    archive = zipped(folder, tmp_path / "bomb.zip")
    with zipfile.ZipFile(archive, "a", zipfile.ZIP_DEFLATED) as z:
        stream_member(z, "CvrExport.json", b'{"Sessions": [', b" " * 2**20, 200)
    message = refused_in_bounded_memory("dominion", archive)
    assert message == (
        f"{archive}:CvrExport.json: the member would expand to 1,028 times its compressed "
        "size; the limit is 200 (set CANVASS_MAX_COMPRESSION_RATIO to raise it)"
    )


def workbook(tmp_path: Path, sheet_cells: bytes = b"", unique: bytes = b"") -> Path:
    source = shared_path("data", "rctab", "batch_example", "batch_example_cvr.xlsx")
    out = tmp_path / "cvr.xlsx"
    with zipfile.ZipFile(source) as zin, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for info in zin.infolist():
            data = zin.read(info)
            if info.filename == "xl/worksheets/sheet1.xml" and sheet_cells:
                data = data.replace(b"</sheetData>", sheet_cells + b"</sheetData>")
            if info.filename == "xl/sharedStrings.xml" and unique:
                data = data.replace(b'uniqueCount="77"', unique)
            z.writestr(info.filename, data)
    return out


def test_xlsx_cell_past_the_format_is_refused(tmp_path: Path) -> None:
    path = workbook(tmp_path, b'<row r="2147483648"><c r="A2147483648"><v>1</v></c></row>')
    assert refused_in_bounded_memory("ess", path) == (
        f"{path}:xl/worksheets/sheet1.xml: expected a cell reference from A1 to XFD1048576; "
        "found 'A2147483648'"
    )


def test_xlsx_used_range_past_the_limit(tmp_path: Path) -> None:
    path = workbook(tmp_path, b'<row r="1000000"><c r="Z1000000"><v>1</v></c></row>')
    assert refused("ess", [path]) == (
        f"{path}:xl/worksheets/sheet1.xml: the sheet's used range holds 26,000,000 cells; the "
        "limit is 5,000,000 (set CANVASS_MAX_SHEET_CELLS to raise it)"
    )


def test_xlsx_empty_styled_cells_far_away_are_read(tmp_path: Path) -> None:
    """Real exports style empty rows down to the sheet's end: they hold nothing to allocate."""
    path = workbook(tmp_path, b'<row r="1048576"><c r="R1048576" s="1"/></row>')
    read("ess", [path])


def test_xlsx_shared_string_count_is_refused(tmp_path: Path) -> None:
    path = workbook(tmp_path, unique=b'uniqueCount="4294967295"')
    assert refused_in_bounded_memory("ess", path) == (
        f"{path}:xl/sharedStrings.xml: the workbook's uniqueCount declares 4,294,967,295 "
        "strings; the limit is 10,000,000 (set CANVASS_MAX_SHARED_STRINGS to raise it)"
    )


def test_xlsx_shared_string_count_beyond_its_bytes(tmp_path: Path) -> None:
    path = workbook(tmp_path, unique=b'uniqueCount="9000000"')
    message = refused("ess", [path])
    assert message == (
        f"{path}:xl/sharedStrings.xml: expected at most one shared string for each 4 bytes of "
        "the file; found uniqueCount 9,000,000 in 2,793 bytes"
    )


@pytest.mark.slow
def test_xlsx_shared_strings_bomb(tmp_path: Path) -> None:
    path = workbook(tmp_path)
    with zipfile.ZipFile(path, "a", zipfile.ZIP_DEFLATED) as z:
        stream_member(
            z, "xl/sharedStrings2.xml", b"<sst>", b"<si><t>" + b"A" * 2**20 + b"</t></si>", 2200
        )
    assert refused_in_bounded_memory("ess", path) == (
        f"{path}:xl/sharedStrings2.xml: the member would expand to 2,306,902,405 bytes; the "
        "limit is 268,435,456 (set CANVASS_MAX_MEMBER_BYTES to raise it)"
    )


def test_old_binary_xls_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "cvr.xlsx"
    path.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 504)
    assert refused("ess", [path]) == (
        f"{path}: expected an .xlsx workbook (a zip archive); found another kind of file "
        "(save it as .xlsx)"
    )


def test_rust_panic_is_caught(tmp_path: Path) -> None:
    """Whatever the spreadsheet library panics on, a panic is a BaseException: it is
    caught at the boundary and named."""
    from python_calamine import CalamineWorkbook

    import canvass.guard.spreadsheet as spreadsheet

    class Panic(BaseException):
        pass

    Panic.__name__ = "PanicException"

    def panicking(_: object) -> CalamineWorkbook:
        raise Panic("capacity overflow")

    path = workbook(tmp_path)
    with pytest.MonkeyPatch.context() as m:
        m.setattr(spreadsheet.CalamineWorkbook, "from_filelike", panicking)
        assert refused("ess", [path]) == (
            f"{path}: cannot read it as a spreadsheet (capacity overflow)"
        )


def test_text_quoted_from_a_file_stays_on_one_line(tmp_path: Path) -> None:
    path = tmp_path / "cvr.csv"
    path.write_text('"Mayor\nof\x00Town",x\n1,2\n')
    assert refused("generic-csv", [path]) == (
        f"{path} row 1: expected a column 'card'; found Mayor\\nof\\x00Town, x"
    )


def test_definition_counts_bounded_to_what_the_ballot_table_holds() -> None:
    """A definition asking for 10**15 write-in lines once made the import hang building
    them; counts are bounded where the definition is read."""
    import yaml

    doc = yaml.safe_load((EXAMPLES / "election.yaml").read_text())
    doc["election"]["date"] = str(doc["election"]["date"])
    doc["contests"][0]["write_ins"] = 10**15
    with pytest.raises(DefinitionError) as e:
        load_definition(json.dumps(doc).encode(), "e.json")
    assert str(e.value) == (
        "e.json: contests[0].write_ins: expected a whole number <= 1000; found "
        "1000000000000000 (int)"
    )


def test_definition_yaml_key_that_is_a_list() -> None:
    with pytest.raises(DefinitionError) as e:
        load_definition(b"election:\n  ? [a, b]\n  : c\n", "election.yaml")
    assert str(e.value) == (
        "election.yaml: line 2, column 5: expected valid YAML; a key must be text, a number "
        "or true/false"
    )


@pytest.mark.parametrize(
    ("source", "message"),
    [
        (b"election:\n  ~: c\n", "a key of election: expected text; found nothing"),
        (b"~: 1\n", "a key of the document: expected text; found nothing"),
        (b"contests:\n  - 5: c\n", "a key of contests[0]: expected text; found 5 (int)"),
        (
            b"election:\n  2026-01-01: c\n",
            "election.2026-01-01: expected a known field; found an unknown one",
        ),
    ],
)
def test_definition_yaml_key_that_is_not_text(source: bytes, message: str) -> None:
    """A YAML key that is empty (``~``), a number or a date once ended in an
    ``AttributeError`` (found by fuzzing), or in msgspec's words."""
    with pytest.raises(DefinitionError) as e:
        load_definition(source, "election.yaml")
    assert str(e.value) == f"election.yaml: {message}"


def test_rctab_csv_column_past_the_row_is_read_as_empty(tmp_path: Path) -> None:
    """A precinct column beyond the file's columns once crashed the column reader (its
    stand-in column of empty cells was a dictionary the whitespace check could not take)."""
    import pyarrow as pa

    from canvass.ingest.rctab_csv import RctabCsv, RctabCsvOptions

    path = tmp_path / "cvr.csv"
    path.write_text("id,Ann,Bo\nr1,1,2\nr2,2,1\n")
    options = RctabCsvOptions(first_vote_column=2, id_column=1, precinct_column=128)
    table = pa.Table.from_batches(list(RctabCsv([path], options).read("county")))
    assert table.column("precinct").to_pylist() == ["", ""]
    assert table.column("record").to_pylist() == ["r1", "r2"]


# --- a lone surrogate anywhere in JSON -----------------------------------------------------


def test_lone_surrogate_in_a_dominion_export(tmp_path: Path) -> None:
    """msgspec's typed decoder refuses a lone surrogate as "input data was truncated"; the
    message says what is there, and where."""
    folder = dominion_folder(tmp_path)
    path = folder / "CvrExport.json"
    data = path.read_bytes().replace(b'"Sessions"', b'"Sessions\\ud800"', 1)
    path.write_bytes(data)
    at = data.index(b"\\ud800") + 1
    assert refused("dominion", [folder]) == (
        f"{path}: expected a CVR export in JSON; found a lone surrogate \\ud800 "
        f"(byte {at:,}), which is no character"
    )


@pytest.mark.parametrize(
    ("escapes", "found"),
    [
        ("\\udc00", "\\udc00"),  # the second half alone
        ("\\ud800\\ud800\\udc00", "\\ud800"),  # a first half, then a whole pair
        ("\\ud83d\\ude00 \\udbff", "\\udbff"),  # a whole pair, then a first half
    ],
)
def test_lone_surrogates_in_json_named_wherever_they_are(
    tmp_path: Path, escapes: str, found: str
) -> None:
    path = tmp_path / "cvr.json"
    path.write_text(json.dumps(nist_report()).replace('"c1"', f'"{escapes}"', 1))
    message = refused("nist-cvr", [path])
    assert message.startswith(f"{path}: expected JSON; found a lone surrogate {found} (byte ")
    assert message.endswith("), which is no character")


def test_an_escaped_backslash_before_u_is_no_surrogate(tmp_path: Path) -> None:
    """``"\\\\ud800"`` is a backslash and the text "ud800": valid, and read."""
    from canvass.guard.documents import json_value, lone_surrogate_escape

    data = b'{"a": "\\\\ud800"}'
    assert lone_surrogate_escape(data) is None
    assert json_value(data, "x.json") == {"a": "\\ud800"}


# --- YAML: a size limit --------------------------------------------------------------------


def test_definition_yaml_past_its_size_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    text = (EXAMPLES / "election.yaml").read_bytes()
    assert load_definition(text, "election.yaml")
    monkeypatch.setenv(limits.YAML_BYTES.variable, str(len(text) - 1))
    with pytest.raises(DefinitionError) as e:
        load_definition(text, "election.yaml")
    assert str(e.value) == (
        f"election.yaml: a YAML document of {len(text):,} bytes; the limit is "
        f"{len(text) - 1:,} (set CANVASS_MAX_YAML_BYTES to raise it)"
    )


def test_yaml_limit_default_is_8_mib() -> None:
    assert limits.YAML_BYTES.default == 8 * 2**20


# --- keys of another kind -------------------------------------------------------------------

SM2_KEY = b"""-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqBHM9VAYItBG0wawIBAQQg6zEgMTpwK5oJGhd4
JD00CHKe+Tuw+zpl8xj3ao4kISKhRANCAAQPhqx5ajikm1WYah1j5Hm0krzrxNxC
wfpGITv9UpMs0eKZko7eWECS71fJbQY8Y/ILEKEzuqmABbyMW3x2IMkA
-----END PRIVATE KEY-----
"""
"""A private key on the Chinese SM2 curve, which the cryptography library does not know."""


def key_file(tmp_path: Path, pem: bytes) -> Path:
    from canvass.keys import HEADER

    path = tmp_path / "operator.key"
    path.write_bytes(f"{HEADER}\nname: a.example/op\nvkey: x\n".encode() + pem)
    return path


def _pem(key: object) -> bytes:
    from cryptography.hazmat.primitives import serialization

    return key.private_bytes(  # type: ignore[attr-defined,no-any-return]
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def test_a_key_on_a_curve_the_library_does_not_know(tmp_path: Path) -> None:
    from canvass.errors import KeyFileError
    from canvass.keys import read_key

    path = key_file(tmp_path, SM2_KEY)
    with pytest.raises(KeyFileError) as e:
        read_key(path)
    assert str(e.value) == (
        f"{path}: expected an Ed25519 key; found a key of another kind "
        "(Curve 1.2.156.10197.1.301 is not supported)"
    )


def test_a_key_on_another_curve(tmp_path: Path) -> None:
    from cryptography.hazmat.primitives.asymmetric import ec, x25519

    from canvass.errors import KeyFileError
    from canvass.keys import read_key

    for key, found in [
        (
            ec.generate_private_key(ec.SECP256K1()),
            "an elliptic-curve (ECDSA) key on the curve secp256k1",
        ),
        (x25519.X25519PrivateKey.generate(), "an X25519 key (for key agreement, not signatures)"),
    ]:
        path = key_file(tmp_path, _pem(key))
        with pytest.raises(KeyFileError) as e:
            read_key(path)
        assert str(e.value) == f"{path}: expected an Ed25519 key; found {found}"
        path.unlink()


# --- generic CSV: headers ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("header", "column", "found"),
    [
        ('"May\nor"', 5, "a line break (\\n)"),
        ('"Council (Vote For=2\n)"', 5, "a line break (\\n)"),
        ('"Mayor\r"', 5, "a carriage return (\\r)"),
        ('"\u2028Mayor"', 5, "the control character U+2028"),
    ],
)
def test_generic_csv_header_with_a_line_break(
    tmp_path: Path, header: str, column: int, found: str
) -> None:
    path = tmp_path / "cvr.csv"
    path.write_text(f"card,batch,precinct,vote_type,{header}\n1,B1,P1,election_day,Ann\n")
    assert refused("generic-csv", [path]) == (
        f"{path} row 1, column {column}: expected a contest's name on one line; found {found}"
    )


def test_generic_csv_contest_in_two_columns(tmp_path: Path) -> None:
    path = tmp_path / "cvr.csv"
    path.write_text("card,Mayor,Judge,Mayor\n1,Ann,Lee,Bo\n")
    assert refused("generic-csv", [path]) == (
        f"{path} row 1, column 4: expected each contest in one column; found 'Mayor' again "
        "(column 2)"
    )


# --- file names that are not text ------------------------------------------------------------


def non_utf8_name(folder: Path, suffix: str, data: bytes) -> Path:
    path = folder / (os.fsdecode(b"cvr-\xff\xfe") + suffix)
    try:
        path.write_bytes(data)
    except (OSError, UnicodeEncodeError):
        pytest.skip("this file system takes only UTF-8 names")
    return path


def test_a_file_name_that_is_not_utf8_is_named(tmp_path: Path) -> None:
    """Such a name was recorded in the log entry, whose canonical JSON refuses it: the
    import ended in a bug report (exit 70) after reading the whole export."""
    path = non_utf8_name(tmp_path, ".csv", b"card,Mayor\n1,Ann\n")
    with pytest.raises(IngestError) as e:
        open_export("generic-csv", [tmp_path])
    assert str(e.value) == (
        f"{tmp_path}/cvr-\\xff\\xfe.csv: expected a file name in UTF-8; found byte 0xFF "
        "(rename the file)"
    )
    assert path.exists()


def test_a_definition_whose_file_name_is_not_utf8_is_refused_by_the_store(
    tmp_path: Path,
) -> None:
    from typer.testing import CliRunner

    from canvass.cli import app

    runner = CliRunner()
    election = tmp_path / "election"
    assert runner.invoke(app, ["init", str(election)]).exit_code == 0
    path = non_utf8_name(tmp_path, ".yaml", (EXAMPLES / "election.yaml").read_bytes())
    result = runner.invoke(app, ["define", str(election), str(path)], env={"CANVASS_ACTOR": "c"})
    assert result.exit_code == 1
    assert result.stderr == (
        "error: cvr-\\xff\\xfe.yaml: expected a file name in UTF-8; found byte 0xFF "
        "(rename the file)\n"
    )


# --- files that are no files: /dev/zero, a named pipe -------------------------------------


def _pipe(tmp_path: Path) -> Path:
    pipe = tmp_path / "pipe.csv"
    os.mkfifo(pipe)
    return pipe


@pytest.mark.parametrize(
    "command",
    [
        ["define", "{election}", "{file}"],
        ["reconcile", "import", "{election}", "{file}"],
        ["import", "{election}", "--format", "ballot-manifest", "--county", "antrim", "{file}"],
        ["import", "{election}", "--format", "generic-csv", "--county", "antrim", "{file}"],
        ["log", "cosign", "{election}", "--key", "{file}"],
    ],
    ids=["define", "pollbook", "manifest", "cvr", "key"],
)
@pytest.mark.parametrize("kind", ["device", "pipe"])
def test_a_device_or_a_pipe_given_as_a_file_is_named_never_read(
    tmp_path: Path, command: list[str], kind: str
) -> None:
    """/dev/zero was read until memory ran out (a bug report, exit 70, after minutes); a
    named pipe, until some writer came (for ever)."""
    from typer.testing import CliRunner

    from canvass.cli import app

    runner = CliRunner()
    election = tmp_path / "election"
    assert runner.invoke(app, ["init", str(election)]).exit_code == 0
    defined = runner.invoke(
        app, ["define", str(election), str(EXAMPLES / "election.yaml")], env={"CANVASS_ACTOR": "c"}
    )
    assert defined.exit_code == 0, defined.output
    file = Path("/dev/zero") if kind == "device" else _pipe(tmp_path)
    if not file.exists():
        pytest.skip("no /dev/zero here")
    args = [a.format(election=election, file=file) for a in command]
    result = runner.invoke(app, args, env={"CANVASS_ACTOR": "clerk"})
    assert result.exit_code == 1, result.output
    found = "a device" if kind == "device" else "a named pipe"
    assert result.stderr in (
        f"error: {file}: expected a file; found {found}\n",
        f"error: {file}: expected a file or folder; found {found}\n",
    )


def test_a_key_the_library_cannot_set_up_is_named(tmp_path: Path) -> None:
    """An X448 key of 32 bytes (X448 keys are 56) once ended in cryptography's
    ``InternalError`` ("key setup failed"); found by the ten-minute fuzz of key files."""
    from canvass.errors import KeyFileError
    from canvass.keys import read_key

    path = tmp_path / "operator.key"
    path.write_text(
        "canvass-key v1\nname: fuzz.example/operator\n-----BEGIN PRIVATE KEY-----\n"
        "MC4CAQAwBQYDK2VvBCIEIF5RXDusBKsiO7Arn724n0tQmLCFz1yGsMMzfiNetLJb\n"
        "-----END PRIVATE KEY-----\n"
    )
    with pytest.raises(KeyFileError) as e:
        read_key(path)
    assert str(e.value).startswith(f"{path}: cannot open the private key: the library refused it")
    assert "\n" not in str(e.value)
