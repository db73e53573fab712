"""Ranked-choice counting: Java compatibility, the rules' invariants, and bad input."""

from __future__ import annotations

import json
import random
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from canvass.errors import IngestError, RulesError, TabulationError
from canvass.tabulate.javaorder import hash_map_order, string_hash
from canvass.tabulate.javarandom import JavaRandom, java_shuffle
from canvass.tabulate.rctab import read_ballots
from canvass.tabulate.rctab_config import load_config
from canvass.tabulate.rcv import (
    OVERVOTE_LABEL,
    UNDECLARED_WRITE_INS,
    Ballot,
    Rules,
    Status,
    group,
    tabulate,
    tabulate_passes,
)

# --- java.util.Random, Collections.shuffle and HashMap order -------------------------------
# Expected values were printed by OpenJDK 17 (java.util.Random, Collections.shuffle,
# HashMap<String, Integer>.keySet()); seed 42's first nextInt() and nextDouble() are also the
# values commonly quoted for Java.


def test_java_random_matches_openjdk() -> None:
    assert JavaRandom(42)._next(32) == -1170105035
    assert JavaRandom(42).next_double() == 0.7275636800328681
    r = JavaRandom(1234567)
    assert [r.next_int(7) for _ in range(8)] == [0, 1, 6, 2, 3, 3, 5, 0]
    assert [r.next_double() for _ in range(3)] == [
        0.9532520075357235,
        0.2140431053711923,
        0.47133429743360344,
    ]


def test_java_shuffle_matches_openjdk() -> None:
    letters = list("ABCDEFGHIJ")
    java_shuffle(letters, JavaRandom(-42))
    assert letters == list("JEIBGHCADF")
    numbers = list(range(20))
    java_shuffle(numbers, JavaRandom(140737488355327))
    assert numbers == [5, 8, 13, 0, 6, 15, 10, 16, 3, 4, 19, 9, 11, 7, 14, 2, 18, 1, 12, 17]


def test_string_hash_is_javas() -> None:
    assert string_hash("") == 0
    assert string_hash("Aa") == string_hash("BB") == 2112  # Java's textbook collision
    assert string_hash("hello") == 99162322


def test_hash_map_order_matches_openjdk() -> None:
    names = [
        "Al Flowers", "Aswar Rahman", "Betsy Hodges", "Captain Jack Sparrow", "Charlie Gers",
        "Christopher Zimmerman", "David John Wilson", "David Rosenfeld", "Gregg A. Iverson",
        "Ian Simpson", "Jacob Frey", "L.A. Nik", "Nekima Levy-Pounds", "Raymond Dehn",
        "Ronald Lischeid", "Theron Preston Washington", "Tom Hoch", "Troy Benjegerdes",
        "Undeclared Write-ins",
    ]  # fmt: skip
    assert hash_map_order(names) == [
        "Aswar Rahman", "Tom Hoch", "David Rosenfeld", "L.A. Nik", "Raymond Dehn",
        "Undeclared Write-ins", "Christopher Zimmerman", "Betsy Hodges", "Ronald Lischeid",
        "Ian Simpson", "Jacob Frey", "Charlie Gers", "Captain Jack Sparrow",
        "Theron Preston Washington", "David John Wilson", "Gregg A. Iverson",
        "Troy Benjegerdes", "Al Flowers", "Nekima Levy-Pounds",
    ]  # fmt: skip
    assert hash_map_order(["Zoë Ünïcode", "Ann", "ANNIE YOUNG", "JOHN ERWIN", "MEG FORNEY"]) == [
        "Ann", "ANNIE YOUNG", "JOHN ERWIN", "MEG FORNEY", "Zoë Ünïcode",
    ]  # fmt: skip


# --- the count's invariants --------------------------------------------------------------

NAMES = ("Ann", "Bo", "Cy", "Di", "Ed")


@st.composite
def contests(draw: st.DrawFn) -> tuple[list[Ballot], Rules]:
    n = draw(st.integers(2, 5))
    names = NAMES[:n]
    pick = st.sampled_from([*names, OVERVOTE_LABEL])
    ballots = []
    for _ in range(draw(st.integers(1, 40))):
        ranks = draw(st.lists(st.integers(1, 4), max_size=4, unique=True))
        rankings = []
        for rank in sorted(ranks):
            marked = draw(st.lists(pick, min_size=1, max_size=2, unique=True))
            if OVERVOTE_LABEL in marked:
                marked = [OVERVOTE_LABEL]
            rankings.append((rank, tuple(marked)))
        ballots.append(Ballot(tuple(rankings), draw(st.integers(1, 3))))
    winners = draw(st.integers(1, n - 1))
    rules = Rules(
        candidates=names,
        winner_mode="singleWinnerMajority"
        if winners == 1
        else "multiWinnerAllowMultipleWinnersPerRound",
        number_of_winners=winners,
        overvote_rule=draw(st.sampled_from(["alwaysSkipToNextRank", "exhaustImmediately"])),
        tiebreak_mode="useCandidateOrder",
        max_skipped_ranks=draw(st.sampled_from([None, 0, 1])),
        exhaust_on_duplicate=draw(st.booleans()),
        batch_elimination=draw(st.booleans()),
    )
    return ballots, rules


@settings(max_examples=150, deadline=None)
@given(contests())
def test_every_ballot_is_accounted_for_in_every_round(contest: tuple[list[Ballot], Rules]) -> None:
    ballots, rules = contest
    result = tabulate(ballots, rules)
    total = sum(b.count for b in ballots)
    assert result.ballots == total
    for rnd in result.rounds:
        counted = sum(rnd.tally.values()) + sum(rnd.inactive.values()) + rnd.residual_surplus
        assert counted == total, rnd.number
    assert 1 <= len(result.winners) <= rules.number_of_winners


@settings(max_examples=100, deadline=None)
@given(contests(), st.randoms(use_true_random=False))
def test_order_and_grouping_of_ballots_change_nothing(
    contest: tuple[list[Ballot], Rules], rnd: random.Random
) -> None:
    ballots, rules = contest
    one_by_one = [Ballot(b.rankings) for b in ballots for _ in range(b.count)]
    rnd.shuffle(one_by_one)
    a, b = tabulate(ballots, rules), tabulate(group(one_by_one), rules)
    assert a.winners == b.winners
    assert [(r.tally, r.inactive, r.elected, r.eliminated) for r in a.rounds] == [
        (r.tally, r.inactive, r.elected, r.eliminated) for r in b.rounds
    ]


def _irv(*ballots: tuple[int, str]) -> list[Ballot]:
    return [
        Ballot(tuple((i, (name,)) for i, name in enumerate(order.split(">"), start=1)), count)
        for count, order in ballots
    ]


def test_an_instant_runoff_by_hand() -> None:
    # 4 A>B, 3 B>C, 2 C>B: no majority of 9 (5 needed); C is last and transfers to B, 5-4.
    result = tabulate(_irv((4, "A>B"), (3, "B>C"), (2, "C>B")), Rules(candidates=("A", "B", "C")))
    assert [r.tally for r in result.rounds] == [
        {"A": 4, "B": 3, "C": 2},
        {"A": 4, "B": 5},
    ]
    assert result.rounds[0].eliminated == ["C"]
    assert result.rounds[0].transfers["C"] == {"B": 2}
    assert result.winners == ["B"]
    assert result.rounds[1].threshold == 5


def test_seeded_random_ties_are_reproducible() -> None:
    ballots = _irv((2, "A"), (2, "B"), (2, "C"), (1, "D>A"))
    rules = Rules(candidates=("A", "B", "C", "D"), tiebreak_mode="random", random_seed=7)
    first = tabulate(ballots, rules)
    assert first.tiebreaks
    for _ in range(3):
        again = tabulate(ballots, rules)
        assert again.winners == first.winners and again.tiebreaks == first.tiebreaks


def test_a_tie_to_ask_about_stops_the_count_without_an_operator() -> None:
    rules = Rules(candidates=("A", "B", "C"), tiebreak_mode="stopCountingAndAsk")
    with pytest.raises(TabulationError, match="round 1: A, B are tied to be eliminated"):
        tabulate(_irv((1, "A"), (1, "B"), (2, "C")), rules)
    answered = tabulate(_irv((1, "A"), (1, "B"), (2, "C")), rules, ask=lambda r, tied, w: tied[1])
    assert answered.rounds[0].eliminated == ["B"]


def test_undeclared_write_ins_go_first_and_cannot_win() -> None:
    rules = Rules(candidates=("A", "B", UNDECLARED_WRITE_INS))
    result = tabulate(_irv((5, f"{UNDECLARED_WRITE_INS}>A"), (4, "B")), rules)
    assert result.rounds[0].eliminated == [UNDECLARED_WRITE_INS]
    assert result.winners == ["A"]


def test_multi_pass_irv_leaves_out_earlier_winners() -> None:
    rules = Rules(candidates=("A", "B", "C"), winner_mode="multiPassIrv", number_of_winners=2)
    passes = tabulate_passes(_irv((5, "A>B"), (3, "B>C"), (2, "C>B")), rules)
    assert [p.winners for p in passes] == [["A"], ["B"]]
    assert "A" not in passes[1].rounds[0].tally


def test_no_rankings_is_an_undervote_not_an_inactive_ballot() -> None:
    result = tabulate([Ballot((), 2), *_irv((3, "A"))], Rules(candidates=("A", "B")))
    assert result.undervotes == 2 and result.ballots == 5
    assert result.rounds[0].inactive[Status.UNDERVOTE] == 2
    assert result.rounds[0].tally == {"A": Decimal(3), "B": Decimal(0)}


# --- configurations and sources ------------------------------------------------------------


def _config(tmp_path: Path, **changes: object) -> Path:
    cvr = tmp_path / "cvr.csv"
    cvr.write_text("id,Ann,Bo,Cy\n1,1,2,\n2,,1,2\n3,2,,1\n4,1,,\n")
    doc: dict[str, object] = {
        "tabulatorVersion": "TEST",
        "outputSettings": {"contestName": "Mayor", "contestDate": "2026-11-03"},
        "cvrFileSources": [
            {
                "filePath": "cvr.csv",
                "provider": "genericCsv",
                "firstVoteColumnIndex": "2",
                "firstVoteRowIndex": "2",
                "idColumnIndex": "1",
            }
        ],
        "candidates": [{"name": n} for n in ("Ann", "Bo", "Cy")],
        "rules": {
            "tiebreakMode": "useCandidateOrder",
            "overvoteRule": "alwaysSkipToNextRank",
            "winnerElectionMode": "singleWinnerMajority",
            "numberOfWinners": "1",
            "decimalPlacesForVoteArithmetic": "4",
            "maxSkippedRanksAllowed": "1",
            "maxRankingsAllowed": "3",
        },
    }
    for key, value in changes.items():
        section, _, field = key.partition("__")
        if field:
            doc[section][field] = value  # type: ignore[index]
        else:
            doc[section] = value
    path = tmp_path / "mayor_config.json"
    path.write_text(json.dumps(doc))
    return path


def test_a_configuration_counts(tmp_path: Path) -> None:
    config = load_config(_config(tmp_path))
    assert config.stem == "mayor"
    result = tabulate(read_ballots(config), config.rules)
    assert result.rounds[0].tally == {"Ann": 2, "Bo": 1, "Cy": 1}
    assert result.winners == ["Ann"]


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        (
            {"rules__numberOfWinners": "x"},
            "numberOfWinners: expected an integer from 1 to 100; found 'x'",
        ),
        ({"rules__tiebreakMode": "coin"}, "tiebreakMode: expected one of random, "),
        (
            {"rules__tiebreakMode": "random"},
            "randomSeed: expected an integer from -140737488355328",
        ),
        (
            {"rules__batchElimination": "maybe"},
            "batchElimination: expected true or false; found 'maybe'",
        ),
        (
            {"candidates": [{"name": "Ann"}, {"name": "Ann"}]},
            "candidates[1].name: 'Ann' is listed twice",
        ),
        ({"candidates": [{"name": "overvote"}]}, "candidates[0]: 'overvote' is reserved"),
        ({"outputSettings": {}}, "outputSettings.contestName: expected the contest's name"),
        (
            {"cvrFileSources": [{"provider": "ess", "filePath": "gone.xlsx"}]},
            "cvrFileSources[0].filePath: ",
        ),
        (
            {"cvrFileSources": [{"provider": "paper", "filePath": "cvr.csv"}]},
            "cvrFileSources[0].provider: expected one of",
        ),
    ],
)
def test_bad_configurations_say_what_is_wrong(
    tmp_path: Path, changes: dict[str, object], message: str
) -> None:
    with pytest.raises(RulesError) as e:
        load_config(_config(tmp_path, **changes))
    assert message in str(e.value)
    assert str(tmp_path / "mayor_config.json") in str(e.value)


def test_not_json(tmp_path: Path) -> None:
    path = tmp_path / "x_config.json"
    path.write_text("{rules:")
    with pytest.raises(RulesError, match=r"x_config.json: expected JSON"):
        load_config(path)


def test_a_name_not_in_the_configuration(tmp_path: Path) -> None:
    path = _config(tmp_path, candidates=[{"name": "Ann"}, {"name": "Bo"}])
    with pytest.raises(IngestError) as e:
        read_ballots(load_config(path))
    assert "'Cy' (first on ballot 2) is not a candidate or alias in mayor_config.json" in str(
        e.value
    )


def test_aliases_name_the_same_candidate(tmp_path: Path) -> None:
    path = _config(
        tmp_path,
        candidates=[{"name": "Ann Adams", "aliases": ["Ann"]}, {"name": "Bo"}, {"name": "Cy"}],
    )
    result = tabulate(read_ballots(load_config(path)), load_config(path).rules)
    assert result.rounds[0].tally["Ann Adams"] == 2


def test_a_rank_that_is_not_a_number(tmp_path: Path) -> None:
    path = _config(tmp_path)
    (tmp_path / "cvr.csv").write_text("id,Ann,Bo,Cy\n1,first,2,\n")
    with pytest.raises(IngestError) as e:
        read_ballots(load_config(path))
    assert str(e.value) == (
        f"{tmp_path / 'cvr.csv'} row 2, column 2 (Ann): expected a rank (1, 2, ... 127) or nothing; "
        "found 'first'"
    )


def test_the_command_writes_the_reports(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from canvass.cli import app

    runner = CliRunner()
    out = tmp_path / "out"
    done = runner.invoke(app, ["rcv", str(_config(tmp_path)), "--output-dir", str(out)])
    assert done.exit_code == 0, done.output
    assert "Mayor: Ann elected after 2 rounds, 4 ballots" in done.output
    assert sorted(p.name for p in out.iterdir()) == [
        "mayor_detailed_report.csv",
        "mayor_detailed_report.json",
    ]
    report = json.loads((out / "mayor_detailed_report.json").read_text())
    assert report["results"][-1]["tallyResults"] == [{"elected": "Ann", "transfers": {}}]

    bad = _config(tmp_path, rules={})
    failed = runner.invoke(app, ["rcv", str(bad), "--output-dir", str(tmp_path / "none")])
    assert failed.exit_code == 1
    assert "not a valid contest configuration" in failed.output
    assert not (tmp_path / "none").exists()


# --- in an election directory ----------------------------------------------------------------


def test_ranked_choice_contests_count_round_by_round_in_a_directory(tmp_path: Path) -> None:
    from canvass.app.results import ranked_choice_results, results
    from canvass.demo.build import build_demo

    run = build_demo(tmp_path / "demo", False, 5, 20, 2026, 40)
    [tabulation] = ranked_choice_results(run.store, "congress-2")["congress-2"]
    first_choices = next(t for t in results(run.store)[0].contests if t.contest == "congress-2")
    assert {c: int(v) for c, v in tabulation.rounds[0].tally.items()} == first_choices.votes
    assert tabulation.undervotes == first_choices.undervotes
    assert tabulation.ballots == first_choices.ballots
    for rnd in tabulation.rounds:
        assert sum(rnd.tally.values()) + sum(rnd.inactive.values()) == tabulation.ballots
    winner = tabulation.winners[0]
    assert tabulation.rounds[-1].tally[winner] >= tabulation.rounds[-1].threshold
    assert tabulation.rules.tiebreak_mode == "random" and tabulation.rules.random_seed == 20261103


def test_rules_belong_to_ranked_choice_contests(tmp_path: Path) -> None:
    from canvass.domain.definition import load_definition
    from canvass.errors import DefinitionError
    from tests.conftest import EXAMPLES

    text = (EXAMPLES / "election.yaml").read_text()
    seedless = text.replace(
        "    ranks: 3\n", "    ranks: 3\n    rules:\n      tiebreak_mode: random\n", 1
    )
    with pytest.raises(
        DefinitionError, match=r"contests\[\d+\]\.rules\.random_seed: expected a seed"
    ):
        load_definition(seedless.encode(), "e.yaml")
    misplaced = text.replace(
        "    text: Shall the constitution be amended to change term limits?\n",
        "    text: Shall the constitution be amended to change term limits?\n"
        "    rules: {hare_quota: true}\n",
        1,
    )
    with pytest.raises(DefinitionError, match=r"rules only on ranked-choice contests"):
        load_definition(misplaced.encode(), "e.yaml")
