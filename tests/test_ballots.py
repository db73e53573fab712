"""Ballots, not cards: which cards form one ballot (sessions of several cards, sheets
scanned one a record, a card count per ballot), tables written before the rule read as
they were, and reconciliation at the level the data supports."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from canvass.errors import IngestError
from canvass.ingest.ballots import (
    CARD_FIELDS,
    SCHEMA,
    ballot_weights,
    batches,
    read_table,
    to_parquet,
    with_contests,
)
from canvass.reconcile.balance import balance, report, summary_report
from canvass.reconcile.pollbook import PollbookRow


def card(
    batch: str, precinct: str, ballot: int = -1, sheet: int = -1, style: str = "S1"
) -> tuple[tuple[str, ...], list[int], list[tuple[int, int, int, int]], int, int]:
    fields = dict.fromkeys(CARD_FIELDS, "")
    fields |= {"county": "c1", "tabulator": "T1", "batch": batch, "precinct": precinct}
    fields |= {"ballot_style": style, "vote_type": "absentee"}
    return tuple(fields[f] for f in CARD_FIELDS), [], [], ballot, sheet


def table(
    *cards: tuple[tuple[str, ...], list[int], list[tuple[int, int, int, int]], int, int],
) -> pa.Table:
    return pa.Table.from_batches(list(batches(cards, batch_size=3)), schema=SCHEMA)


def test_the_cards_of_one_session_are_one_ballot() -> None:
    t = table(*(card("B1", "P1", ballot=7, sheet=s) for s in range(4)), card("B1", "P1", ballot=8))
    assert ballot_weights(t).tolist() == [1, 0, 0, 0, 1]


def test_sheets_scanned_apart_count_by_their_most_frequent_sheet() -> None:
    # Two full ballots of four sheets, one returned without its first sheet, and in
    # another precinct one ballot of sheet 0 alone: 3 ballots in P1, 1 in P2.
    sheets = [0, 1, 2, 3, 3, 2, 1, 0, 1, 2, 3]
    cards = [card("B1", "P1", ballot=n, sheet=s) for n, s in enumerate(sheets)]
    cards.append(card("B1", "P2", ballot=99, sheet=0))
    weights = ballot_weights(table(*cards))
    assert weights.sum() == 4
    assert weights[:11].sum() == 3 and weights[11] == 1


def test_a_card_count_per_ballot_for_a_format_that_does_not_say() -> None:
    cards = [card("B1", "P1") for _ in range(7)] + [card("B1", "P2") for _ in range(2)]
    t = table(*cards)
    data, n = to_parquet(t.to_batches(), [], cards_per_ballot=2)
    stored, _ = read_table(data)
    assert n == 9
    assert ballot_weights(stored).sum() == 4 + 1  # 7 cards: 4 ballots, rounded up; 2 cards: 1
    assert ballot_weights(t).sum() == 9  # without it, a card is a ballot


def test_a_table_written_before_ballots_were_told_reads_one_ballot_per_card() -> None:
    old_schema = pa.schema([f for f in SCHEMA if f.name not in ("ballot", "sheet")])
    new = table(card("B1", "P1"), card("B2", "P2"))
    old = new.drop_columns(["ballot", "sheet"]).cast(old_schema)
    sink = io.BytesIO()
    pq.write_table(old.replace_schema_metadata(with_contests(old_schema, []).metadata), sink)
    read, _ = read_table(sink.getvalue())
    assert read.schema.names == SCHEMA.names
    assert read.column("ballot").to_pylist() == [-1, -1]
    assert ballot_weights(read).tolist() == [1, 1]


def test_a_sheet_beyond_the_table_is_refused() -> None:
    with pytest.raises(IngestError) as e:
        table(card("B1", "P1", sheet=200))
    assert str(e.value) == "a card's sheet number is beyond what the ballot table holds (0 to 127)"


def test_nist_sheets_are_read_from_ballot_sheet_ids(tmp_path: Path) -> None:
    import json

    from canvass.ingest.nist_cvr import NistCvrReport
    from tests.conftest import shared_path

    source = shared_path(
        "data", "nist-cdf", "test_data", "synthetic", "gen-03", "cvr_v1", "cvr-gen-03.json"
    )
    doc = json.loads(source.read_text())
    for cvr, sheet in zip(doc["CVR"], ["1", "2", "front", "back", "front"], strict=False):
        cvr["BallotSheetId"] = sheet
    path = tmp_path / "cvr.json"
    path.write_text(json.dumps(doc))
    read = pa.Table.from_batches(list(NistCvrReport([path]).read("c1")), schema=SCHEMA)
    sheets = read.column("sheet").to_pylist()
    assert sheets[:5] == [1, 2, 0, 1, 0]  # a number is the sheet; other ids in order seen
    assert set(sheets[5:]) <= {-1}
    doc["CVR"][0]["BallotSheetId"] = "300"
    path.write_text(json.dumps(doc))
    with pytest.raises(IngestError) as e:
        list(NistCvrReport([path]).read("c1"))
    assert str(e.value) == (
        f"{path}: CVR[0]: BallotSheetId: expected a sheet number up to 127; found '300'"
    )


# --- reconciliation at the level the data supports ------------------------------------------


def row(county: str, precinct: str, n: int) -> PollbookRow:
    return PollbookRow(county, precinct, "absentee", absentee_received=n, absentee_accepted=n)


def test_a_county_without_precincts_is_balanced_as_a_whole() -> None:
    units = balance(
        [row("c1", "p1", 5), row("c1", "p2", 4), row("c2", "p3", 2)],
        {("c1", "all", "absentee"): 9, ("c2", "p3", "absentee"): 2},
    )
    assert [(u.county, u.precinct, u.voters, u.tabulated, u.balanced) for u in units] == [
        ("c1", "all", 9, 9, True),
        ("c2", "p3", 2, 2, True),
    ]
    text = summary_report(units, {"c1": "Adams", "c2": "Baker"})
    assert text.splitlines()[0] == (
        "Adams: 1 units, 0 out of balance (0.0%), 0 ballots in question, 0 unexplained; "
        "reconciled by county and vote type (its ballots do not all name a precinct)"
    )
    assert text.splitlines()[1].startswith("Baker: 1 units, 0 out of balance")


def test_the_profile_names_its_law_and_no_other() -> None:
    units = balance([row("c1", "p1", 5)], {("c1", "p1", "absentee"): 4})
    unit = "  Adams / p1 / absentee: 5 in poll book, 4 tabulated (-1) — UNEXPLAINED"
    assert report("summary", units, {"c1": "Adams"}, "MCL 168.871").splitlines()[-1] == (
        unit + " — NOT RECOUNTABLE (MCL 168.871)"
    )
    assert report("summary", units, {"c1": "Adams"}).splitlines()[-1] == unit
    assert report("georgia", units, {"c1": "Adams"}).startswith("county,precinct,vote_type,")
    with pytest.raises(ValueError) as e:
        report("ohio", units, {})
    assert str(e.value) == "no reconciliation report 'ohio'; the reports are summary, georgia"


@pytest.mark.parametrize(
    ("state", "expected"), [("MI", "michigan"), ("georgia", "georgia"), ("CA", "generic")]
)
def test_a_definitions_state_chooses_its_profile(state: str, expected: str) -> None:
    from canvass.certify.profiles import profile_for_state

    assert profile_for_state(state).key == expected


def test_weights_of_a_large_table_in_record_batches_of_their_own() -> None:
    cards = [card(f"B{n % 3}", f"P{n % 5}", ballot=n // 2, sheet=n % 2) for n in range(600)]
    t = pa.Table.from_batches(list(batches(cards, batch_size=64)), schema=SCHEMA)
    assert t.column("precinct").num_chunks > 1
    assert int(np.sum(ballot_weights(t))) == 300


def test_a_card_count_per_ballot_is_recorded_published_and_verified(tmp_path: Path) -> None:
    import json

    from typer.testing import CliRunner

    from canvass.cli import app
    from tests.conftest import shared_path

    export = shared_path("data", "arlo", "small-election", "Siletz - cvrs.csv")
    runner = CliRunner()

    def run(*args: object) -> str:
        result = runner.invoke(app, [str(a) for a in args])
        assert result.exit_code == 0, (result.stdout, result.stderr)
        return result.stdout

    path = tmp_path / "e"
    run("init", path, "--origin", "canvass.test/siletz")
    run(
        "define",
        path,
        export,
        "--from",
        "dominion-csv",
        "--county",
        "Siletz",
        "--state",
        "XX",
        "--name",
        "Small",
        "--date",
        "2020-11-03",
    )
    cards = sum(1 for line in export.read_text().splitlines()[4:] if line.strip())
    done = run(
        "import",
        path,
        export,
        "--county",
        "Siletz",
        "--format",
        "dominion-csv",
        "--cards-per-ballot",
        "2",
    )
    # Siletz's cards differ only in tabulator and batch: ballots are each batch's cards ÷ 2,
    # rounded up.
    batches: dict[tuple[str, str], int] = {}
    for line in export.read_text().splitlines()[4:]:
        if line.strip():
            tabulator, batch = line.split(",")[1:3]
            batches[(tabulator, batch)] = batches.get((tabulator, batch), 0) + 1
    ballots = sum((n + 1) // 2 for n in batches.values())
    assert done.splitlines()[0] == (
        f"Imported {cards} cards ({ballots} ballots) for siletz as log entry 2"
    )
    assert json.loads(run("results", path, "--format", "json"))["ballots"] == ballots
    run("publish", path, tmp_path / "bundle")
    assert run("verify", tmp_path / "bundle", "--no-trust-store").endswith("Everything holds.\n")


def test_a_county_without_precincts_is_reconciled_and_explained_as_a_whole(
    tmp_path: Path,
) -> None:
    """Through the command line: an export that names no precinct is balanced against the
    poll book's precinct rows summed, and its one unit explained as precinct ``all``."""
    import yaml
    from typer.testing import CliRunner

    from canvass.cli import app

    runner = CliRunner()

    def run(*args: object, code: int = 0) -> str:
        result = runner.invoke(app, [str(a) for a in args])
        assert result.exit_code == code, (result.stdout, result.stderr)
        return result.stdout if code == 0 else result.stderr

    cvrs = tmp_path / "cvrs.csv"
    cvrs.write_text(
        "card,batch,vote_type,Mayor\n"
        + "".join(f"{n},B1,absentee,{'Ann Adams' if n % 2 else 'Bo Baker'}\n" for n in range(7))
    )
    path, draft = tmp_path / "e", tmp_path / "draft.yaml"
    run("init", path, "--origin", "canvass.test/whole")
    run("definition", "draft", f"Adams={cvrs}", "--from", "generic-csv", "--state", "XX",
        "--name", "Whole County", "--date", "2026-11-03", "--out", draft)  # fmt: skip
    # The clerk's definition names the county's precincts; its export names none.
    doc = yaml.safe_load(draft.read_text())
    doc["jurisdictions"] += [
        {"id": p, "name": p.upper(), "kind": "precinct", "parent": "adams"} for p in ("p1", "p2")
    ]
    draft.write_text(yaml.safe_dump(doc, sort_keys=False))
    run("define", path, draft)
    run("import", path, cvrs, "--county", "Adams", "--format", "generic-csv")
    book = tmp_path / "pollbook.csv"
    book.write_text(
        "county,precinct,vote_type,checkins,absentee_received,absentee_accepted,"
        "absentee_rejected,provisional_issued,provisional_accepted,ballots_issued,"
        "ballots_spoiled,ballots_unused\n"
        "Adams,P1,absentee,0,4,4,0,0,0,0,0,0\n"
        "Adams,P2,absentee,0,4,4,0,0,0,0,0,0\n"
    )
    run("reconcile", "import", path, book)
    text = run("reconcile", "report", path, "--format", "summary")
    assert text.splitlines()[0] == (
        "Adams: 1 units, 1 out of balance (100.0%), 1 ballots in question, 1 unexplained; "
        "reconciled by county and vote type (its ballots do not all name a precinct)"
    )
    assert "  Adams / all / absentee: 8 in poll book, 7 tabulated (-1)" in text
    run("reconcile", "explain", path, "--county", "Adams", "--precinct", "all",
        "--vote-type", "absentee", "--reason", "ballot-not-tabulated",
        "--text", "one envelope found after the count")  # fmt: skip
    assert (
        run("reconcile", "report", path, "--format", "summary")
        .splitlines()[0]
        .endswith(
            "1 out of balance (100.0%), 1 ballots in question, 0 unexplained; reconciled by "
            "county and vote type (its ballots do not all name a precinct)"
        )
    )
