"""ES&S spreadsheets against RCTab's test suite: the first choices read from each ES&S case
equal round 1 of RCTab's expected report, where round 1 does not depend on a ranked-choice
rule Canvass does not apply yet."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa
import pytest

from canvass.errors import IngestError
from canvass.ingest.ess import EssOptions, EssWorkbooks
from canvass.tabulate.plurality import tabulate
from tests.conftest import SHARED, shared_path, skip_without

RCTAB = SHARED / "data" / "rctab"
ROUND_ONE = [
    "aliases_ess_xlsx",
    "continue_tabulation_test",
    "continue_until_two_threshold_freeze",
    "continue_until_two_with_batch_elimination_test",
    "duplicate_test",
    "exhaust_if_multiple_continuing",
    "first_round_determines_threshold_test",
    "first_round_determines_threshold_tiebreaker_test",
    "more_winners_than_candidates",
    "multi_seat_bottoms_up_with_cutoff_eliminate",
    "multi_seat_bottoms_up_with_dynamic_threshold",
    "multi_seat_bottoms_up_with_static_threshold",
    "multi_seat_uwi_test",
    "stop_tabulation_early_test",
    "test_set_allow_only_one_winner_per_round",
    "test_set_overvote_delimiter",
    "test_set_treat_blank_as_undeclared_write_in",
    "tiebreak_generate_permutation_test",
    "tiebreak_previous_round_counts_then_random_test",
    "tiebreak_seed_test",
    "tiebreak_use_permutation_in_config_test",
    "uwi_cannot_win_test",
]
NOT_YET = {
    "2013_minneapolis_mayor": "round 1 exhausts ballots that skip more rankings than "
    "maxSkippedRanksAllowed (1) before their first choice",
    "2013_minneapolis_park": "round 1 skips overvoted rankings (alwaysSkipToNextRank)",
    "batch_example": "round 1 skips overvoted rankings",
    "excluded_test": "round 1 leaves out excluded candidates",
    "minneapolis_multi_seat_threshold": "round 1 skips overvoted rankings",
    "missing_precinct_example": "round 1 skips overvoted rankings",
    "precinct_example": "round 1 skips overvoted rankings",
    "skip_to_next_test": "round 1 skips overvoted rankings",
    "2018_maine_governor_primary": "its CVR spreadsheet is held back from this copy of the suite",
}


def options(source: dict[str, object]) -> EssOptions:
    def number(key: str) -> int | None:
        value = str(source.get(key, "")).strip()
        return int(value) if value else None

    return EssOptions(
        first_vote_column=number("firstVoteColumnIndex") or 2,
        first_vote_row=number("firstVoteRowIndex") or 2,
        id_column=number("idColumnIndex"),
        precinct_column=number("precinctColumnIndex"),
        batch_column=number("batchColumnIndex"),
        overvote_label=str(source.get("overvoteLabel") or "overvote"),
        skipped_rank_label=str(source.get("skippedRankLabel") or "undervote"),
        write_in_label=str(source.get("undeclaredWriteInLabel") or "UWI"),
        overvote_delimiter=str(source.get("overvoteDelimiter") or ""),
        blank_is_write_in=bool(source.get("treatBlankAsUndeclaredWriteIn")),
    )


@pytest.mark.parametrize("case", ROUND_ONE)
def test_first_choices_equal_rctab_round_one(case: str) -> None:
    folder = shared_path("data", "rctab", case)
    config = json.loads((folder / f"{case}_config.json").read_text())
    name = {alias: c["name"] for c in config["candidates"] for alias in c.get("aliases", [])}
    name |= {c["name"]: c["name"] for c in config["candidates"]}
    ours: dict[str, int] = {}
    for source in config["cvrFileSources"]:
        reader = EssWorkbooks([(folder / source["filePath"]).resolve()], options(source))
        totals = tabulate(pa.Table.from_batches(list(reader.read("c"))), reader.contests).contests[
            0
        ]
        for choice, votes in totals.votes.items():
            key = name.get(choice, choice)
            ours[key] = ours.get(key, 0) + votes
    report = json.loads((folder / f"{case}_expected_detailed_report.json").read_text())
    expected = {k: int(float(v)) for k, v in report["results"][0]["tally"].items()}
    assert {k: v for k, v in ours.items() if v} == {k: v for k, v in expected.items() if v}


def test_cases_left_for_the_ranked_choice_rules_are_there() -> None:
    skip_without(RCTAB)
    for case in NOT_YET:
        assert (RCTAB / case).is_dir()


def test_not_a_spreadsheet(tmp_path: Path) -> None:
    path = tmp_path / "cvr.xlsx"
    path.write_text("not a spreadsheet")
    with pytest.raises(IngestError) as e:
        EssWorkbooks([path])
    assert str(e.value) == (
        f"{path}: expected an .xlsx workbook (a zip archive); found another kind of file "
        "(save it as .xlsx)"
    )


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(IngestError) as e:
        EssWorkbooks([tmp_path / "nope.xlsx"])
    assert str(e.value) == f"{tmp_path / 'nope.xlsx'}: no such file or folder"
