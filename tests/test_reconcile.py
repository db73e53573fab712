"""Reconciliation: the poll book against the ballots, on generated data with injected
imbalances, in an election directory, and on published results from Michigan and Georgia."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from canvass.app.actor import Actor
from canvass.app.reconcile import (
    contest_identities,
    explain,
    import_pollbook,
    reconcile,
    tabulated,
)
from canvass.demo.build import build_demo
from canvass.errors import IngestError, StoreError
from canvass.reconcile.balance import balance, michigan_report, summarize
from canvass.reconcile.pollbook import COUNTS, PollbookRow, read_pollbook
from canvass.reconcile.published import georgia_precincts, michigan_counties
from tests.conftest import shared_path

HEADER = "county,precinct,vote_type," + ",".join(COUNTS)

# --- the identities, on generated data -------------------------------------------------------


@st.composite
def precincts(
    draw: st.DrawFn,
) -> tuple[list[PollbookRow], dict[tuple[str, str, str], int], set[tuple[str, str, str]]]:
    """Units whose poll book and stock agree with the ballots, but for those injected."""
    rows, counts, broken = [], {}, set()
    for n in range(draw(st.integers(1, 30))):
        key = ("c1", f"p{n}", draw(st.sampled_from(["election_day", "absentee"])))
        in_person = key[2] == "election_day"
        ballots = draw(st.integers(0, 500))
        spoiled, unused = draw(st.integers(0, 20)), draw(st.integers(0, 200))
        voters, issued = ballots, ballots + spoiled + unused
        injected = draw(st.sampled_from(["none", "voters", "stock" if in_person else "voters"]))
        if injected == "voters":
            voters = ballots + draw(st.integers(1, 5)) * (
                -1 if ballots >= 5 and draw(st.booleans()) else 1
            )
            broken.add(key)
        elif injected == "stock":
            issued += draw(st.integers(1, 5))
            broken.add(key)
        rows.append(
            PollbookRow(
                *key,
                checkins=voters if in_person else 0,
                absentee_received=0 if in_person else voters,
                absentee_accepted=0 if in_person else voters,
                ballots_issued=issued if in_person else 0,
                ballots_spoiled=spoiled if in_person else 0,
                ballots_unused=unused if in_person else 0,
            )
        )
        counts[key] = ballots
    return rows, counts, broken


@settings(max_examples=200, deadline=None)
@given(precincts())
def test_every_injected_imbalance_is_found_and_located(
    case: tuple[list[PollbookRow], dict[tuple[str, str, str], int], set[tuple[str, str, str]]],
) -> None:
    rows, counts, broken = case
    units = balance(rows, counts)
    assert {u.key for u in units if not u.balanced} == broken
    for u in units:
        if u.balanced:
            assert u.tabulated == u.voters
            assert u.issued == 0 or u.issued == u.tabulated + u.spoiled + u.unused
    summary = summarize(units)
    assert summary.out_of_balance == len(broken) == summary.unexplained
    assert summary.ballots_in_question == sum(
        abs(u.difference) + abs(u.stock_difference) for u in units
    )


def test_ballots_without_a_poll_book_are_out_of_balance() -> None:
    [unit] = balance([], {("c1", "p1", "election_day"): 7})
    assert not unit.balanced and not unit.in_pollbook and unit.difference == 7
    assert not unit.recountable


# --- the poll-book file -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("county,precinct\nc1,p1\n", "row 1: expected columns vote_type, checkins,"),
        (
            HEADER + "\nc1,p1,walk_in" + ",0" * 9,
            "row 2, column 'vote_type': expected one of election_day, early,",
        ),
        (
            HEADER + "\nc1,p1,absentee,1,2,-3" + ",0" * 6,
            "row 2, column 'absentee_accepted': expected a whole number from 0 to 1,000,000,000,000; found '-3'",
        ),
        (
            HEADER + "\nc1,,absentee" + ",0" * 9,
            "row 2, column 'precinct': expected a value; found nothing",
        ),
        (
            HEADER + "\nc1,p1,absentee" + ",0" * 9 + "\nC1,P1,absentee" + ",0" * 9,
            "row 3: the same county, precinct and vote type as row 2",
        ),
        (HEADER + "\nc1,p1,absentee,0", "row 2: expected 12 columns; found 4"),
        (HEADER + "\n", "no rows after the header"),
    ],
)
def test_bad_poll_books_say_where(body: str, message: str) -> None:
    with pytest.raises(IngestError) as e:
        read_pollbook(body.encode(), "book.csv")
    assert message in str(e.value) and str(e.value).startswith("book.csv")


# --- in an election directory ------------------------------------------------------------


def test_a_county_is_reconciled_and_explained(tmp_path: Path) -> None:
    run = build_demo(tmp_path / "e", False, 2, 8, 2026, 10, canvass=False)
    store = run.store
    counts = tabulated(store)
    lines = [HEADER]
    broken = sorted(counts)[:2]
    for key, n in sorted(counts.items()):
        voters = n + (1 if key == broken[0] else 0)  # someone checked in and left
        issued = n + 3 + 10 + (2 if key == broken[1] else 0)
        day = key[2] != "absentee"
        lines.append(
            ",".join(
                [
                    *key,
                    str(voters if day else 0),
                    str(0 if day else voters),
                    str(0 if day else voters),
                    "0",
                    "0",
                    "0",
                    str(issued),
                    "3",
                    "10",
                ]
            )
        )
    book = tmp_path / "pollbook.csv"
    book.write_text("\n".join(lines) + "\n")
    entry = import_pollbook(store, Actor("clerk"), book)
    assert dict(store.entries(entry, entry + 1))[entry].type == "pollbook.imported"
    units = reconcile(store)
    assert [u.key for u in units if not u.balanced] == broken
    first = next(u for u in units if u.key == broken[0])
    assert first.difference == -1 and not first.recountable
    county, precinct, vote_type = broken[0]
    with pytest.raises(StoreError, match="is not one of"):
        explain(store, Actor("clerk"), county, precinct, vote_type, "gremlins", "")
    explain(
        store,
        Actor("clerk"),
        county,
        precinct,
        vote_type,
        "left-without-voting",
        "voter left the line",
    )
    units = reconcile(store)
    assert next(u for u in units if u.key == broken[0]).recountable
    text = michigan_report(units, {})
    assert f"{county}: " in text and "2 out of balance" in text and "1 unexplained" in text
    assert "NOT RECOUNTABLE" in text  # the second one, unexplained
    identities = contest_identities(store)
    assert identities and all(i.holds for i in identities)
    balanced = next(u for u in units if u.balanced)
    with pytest.raises(StoreError, match="balances; there is nothing to explain"):
        explain(
            store,
            Actor("clerk"),
            balanced.county,
            balanced.precinct,
            balanced.vote_type,
            "other",
            "x",
        )


# --- published results ---------------------------------------------------------------------


def test_michigan_county_results() -> None:
    path = shared_path("data", "mi-2020", "county_results_partial.csv")
    report = michigan_counties(path.read_bytes())
    rows = list(csv.DictReader(io.StringIO(path.read_text())))
    # Independently: every row whose parts are numbers and do not add up.
    expected = set()
    for n, r in enumerate(rows, start=2):
        parts = [r["election_day"], r["absentee"], r["votes"]]
        if all(p.strip().isdigit() for p in parts) and int(parts[0]) + int(parts[1]) != int(
            parts[2]
        ):
            expected.add(n)
    found = {
        int(f.detail.rsplit("row ", 1)[1].rstrip(")"))
        for f in report.findings
        if f.rule == "election day + absentee = total"
    }
    assert found == expected and expected
    cast = {r["county"]: int(r["votes"]) for r in rows if r["office"] == "Ballots Cast"}
    assert report.balanced_units == len(cast) == 3
    president = {r["county"]: 0 for r in rows if r["office"] == "President"}
    for r in rows:
        if r["office"] == "President" and r["votes"].strip().isdigit():
            president[r["county"]] += int(r["votes"])
    over = {c for c in cast if president.get(c, 0) > cast[c]}
    assert over == {
        f.unit
        for f in report.findings
        if f.contest == "President" and f.rule == "votes ≤ ballots cast"
    }
    assert any("'4 ,063'" in f.detail for f in report.findings)


def test_georgia_precinct_results() -> None:
    path = shared_path("data", "ga-2020", "precinct_results_original_certification.csv")
    report = georgia_precincts(path.read_bytes())
    rows = list(csv.DictReader(io.StringIO(path.read_text())))
    assert report.units == len(rows) == 2683
    na = [r for r in rows if r["reg_voters"] == "NA"]
    assert (
        len([f for f in report.findings if f.rule == "counts are whole numbers"]) == len(na) == 27
    )
    over = {
        f"{r['CTYNAME']} / {r['PRECINCT_N']}"
        for r in rows
        if r["reg_voters"] != "NA"
        and int(r["reg_voters"])
        and max(int(r[c]) for c in ("pres_all", "sen_normal_all", "sen_special_all"))
        > int(r["reg_voters"])
    }
    assert over == {f.unit for f in report.findings if f.rule == "votes ≤ registered voters"}


def test_published_results_from_the_command_line() -> None:
    from typer.testing import CliRunner

    from canvass.cli import app

    path = shared_path("data", "mi-2020", "county_results_partial.csv")
    runner = CliRunner()
    done = runner.invoke(app, ["reconcile", "published", str(path), "--layout", "michigan-county"])
    assert done.exit_code == 0, done.output
    assert done.output.startswith("43 units; 3 with ballots cast to balance against; ")
    bad = runner.invoke(app, ["reconcile", "published", str(path), "--layout", "ohio"])
    assert bad.exit_code == 1
    assert "layout 'ohio' is not one of michigan-county, georgia-precinct" in bad.output


def test_a_table_whose_batches_have_their_own_dictionaries_is_counted() -> None:
    """A large import is written batch by batch, each with its own dictionary of precincts
    and vote types; counting by unit unifies them (found on a 5,000,000-card state)."""
    import pyarrow as pa

    from canvass.reconcile.places import Places, tabulated_units

    def batch(precincts: list[str], vote_type: str) -> pa.Table:
        return pa.table(
            {
                "precinct": pa.array(precincts).dictionary_encode(),
                "precinct_portion": pa.array([""] * len(precincts)).dictionary_encode(),
                "vote_type": pa.array([vote_type] * len(precincts)).dictionary_encode(),
            }
        )

    table = pa.concat_tables([batch(["p1", "p2", "p1"], "election-day"), batch(["p2"], "absentee")])
    assert table.column("precinct").num_chunks == 2
    at = Places({"c1": "c1"}, {"p1": ("c1", "p1"), "p2": ("c1", "p2")})
    assert tabulated_units(at, [("c1", table)]) == {
        ("c1", "p1", "election-day"): 2,
        ("c1", "p2", "election-day"): 1,
        ("c1", "p2", "absentee"): 1,
    }
