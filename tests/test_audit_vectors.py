"""Sampling and audit statistics against published known answers: Rivest's
consistent_sampler doctests and usage examples, Arlo's sampler snapshot and its
super-simple table, ColoradoRLA's generator, cryptorandom, rlacalc, and SHANGRLA
(collected with their sources in ../shared/vectors/rla-sampling.md)."""

from __future__ import annotations

import itertools
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from canvass.audit.sampler import (
    arlo_sample,
    corla_prng,
    cryptorandom_outputs,
    first_fraction,
    next_fraction,
    sampler,
    sha256_hex,
    sha256_uniform,
    trim,
    weighted_sample,
)
from canvass.audit.stats import (
    Outcome,
    alpha_p_value,
    alpha_sample_size,
    arlo_supersimple_sample_size,
    bravo_asn,
    bravo_completion_chance,
    bravo_p_value,
    bravo_sample_size,
    km_nmin,
    km_p_value,
    macro_bound,
    macro_overstatement,
    macro_risk,
    macro_sample_size,
    minerva,
    overstatement_assorter,
    plurality_assorter,
)


def test_consistent_sampler_primitives() -> None:
    assert sha256_hex("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    assert sha256_uniform("abc") == (
        "0.56998071861792858926477341561059638840106636224182943832566300809078486324348"
    )
    assert first_fraction("AB-130", "01382438112797316654") == (
        "0.26299714122838008416507544297546663599715395525154425586041245287750224561854"
    )
    assert next_fraction("0.25471") == (
        "0.642853261655004694691182528114375607701032283189922170593838029306715548381901"
    )
    assert (
        next_fraction(
            "0.26299714122838008416507544297546663599715395525154425586041245287750224561854"
        )
        == "0.8232357229934205790595761924514048157652891124687533667363938813600770093316"
    )
    assert trim("0.9991234567890", 4) == "0.9991234"
    for animal, ticket in (
        ("cat", "0.24866413894129579898796850445568128508290132707747976039848637531569373309555"),
        ("dog", "0.33886035615681875183111698317327684455682722683976874746986356932751818935066"),
        ("goat", "0.49599842072022713663423753308080171636735689997237236247068925068573448764387"),
        ("fish", "0.74685932088827950509145941729789143204056041958068799542050396198792954500593"),
    ):
        assert first_fraction(animal, "xy()134!g2n") == ticket


def _ids(tickets: object) -> list[object]:
    return [t.id for t in tickets]  # type: ignore[attr-defined]


def test_consistent_sampler_examples() -> None:
    assert _ids(sampler(["A#2", "B#7", "C#1", "D#4"], 314159, with_replacement=True, take=8)) == [
        "D#4", "C#1", "C#1", "B#7", "A#2", "C#1", "D#4", "B#7",
    ]  # fmt: skip
    assert [tuple(t) for t in sampler(["ab-1", "ab-2", "cd-1", "ef-3"], 314159)] == [
        ("0.317685817", "cd-1", 1),
        ("0.832984519", "ef-3", 1),
        ("0.9098039269", "ab-1", 1),
        ("0.9231549043", "ab-2", 1),
    ]
    assert _ids(sampler(["a", "b", "c", "d"], 31)) == ["b", "a", "d", "c"]
    assert _ids(sampler(["a", "b", "c", "d"], 77)) == ["b", "d", "c", "a"]
    assert _ids(sampler([1, "two", ("III", 3.0), (1, 1, 1, 1)], 7711)) == [
        ("III", 3.0), 1, "two", (1, 1, 1, 1),
    ]  # fmt: skip
    assert [tuple(t) for t in sampler(range(100), 41, take=5)] == [
        ("0.000508333", 73, 1),
        ("0.003446232", 51, 1),
        ("0.004419823", 17, 1),
        ("0.020115273", 58, 1),
        ("0.023482375", 38, 1),
    ]
    assert _ids(sampler(range(100), 41, drop=5, take=5)) == [42, 39, 20, 11, 67]
    assert [tuple(t) for t in sampler(list("abcde"), 52, with_replacement=True, take=6)] == [
        ("0.054468191", "d", 1),
        ("0.075709054", "d", 2),
        ("0.097719928", "d", 3),
        ("0.197384308", "b", 1),
        ("0.243379719", "d", 4),
        ("0.255926637", "b", 2),
    ]
    stratum = [t for t in sampler([f"AB-{i}" for i in range(2000)], 314159) if t.number < "0.01"]
    assert len(stratum) == 24
    assert [tuple(t) for t in stratum[:3]] == [
        ("0.000599853", "AB-135", 1),
        ("0.000666808", "AB-684", 1),
        ("0.000752515", "AB-1980", 1),
    ]
    assert tuple(stratum[-1]) == ("0.009561740", "AB-895", 1)
    with pytest.raises(ValueError, match="not distinct"):
        list(sampler(["a", "a"], 1))


ARLO_SEED = "12345678901234567890abcdefghijklmnopqrstuvwxyz😊"


def test_arlo_draw_sample() -> None:
    ids = [(f"pct {p}", n) for p in range(1, 5) for n in range(1, 26)]
    drawn = list(sampler(ids, ARLO_SEED, with_replacement=True, take=20, digits=18))
    assert (
        sha256_hex(ARLO_SEED) == "76457232b83ad2746dbef66774e1c5afdf7bacee062282be9a2006db61d3c387"
    )
    expected = {
        1: ("0.000617786129909912", ("pct 2", 3), 1),
        2: ("0.002991631653037245", ("pct 3", 24), 1),
        3: ("0.012057030610635061", ("pct 1", 25), 1),
        4: ("0.017930028930651931", ("pct 4", 19), 1),
        5: ("0.025599454926985137", ("pct 3", 15), 1),
        11: ("0.096136506157297637", ("pct 1", 20), 2),
        13: ("0.108948480696023984", ("pct 1", 25), 2),
        20: ("0.138772253094235762", ("pct 4", 20), 1),
    }
    for position, ticket in expected.items():
        assert tuple(drawn[position - 1]) == ticket
    # A second round of 10 extends a first of 10.
    first = list(sampler(ids, ARLO_SEED, with_replacement=True, take=10, digits=18))
    more = list(sampler(ids, ARLO_SEED, with_replacement=True, drop=10, take=10, digits=18))
    assert first + more == drawn


def test_georgia_2026_ticket_numbers() -> None:
    seed = "06712221796172622814"
    for batch, ticket in (
        (("BALDWIN", "ED-North Baldwin ICP 1 - 0"), "0.427297706310130710"),
        (("BARROW", "ICC-Absentee by Mail - 2"), "0.9088955580466120027"),
        (("BARTOW", "ED-Cartersville West ICP 1 - 0"), "0.468722862632969295"),
        (("WARE", "AV-Administrative Building ICP 1 - 0"), "0.239288422106382693"),
    ):
        assert trim(first_fraction(batch, seed), 18) == ticket
    assert trim(first_fraction(("Jx 1", "pct 8"), ARLO_SEED), 18) == "0.642074320588256264"
    assert trim(first_fraction(("Jx 1", "pct 6"), ARLO_SEED), 18) == "0.634903028357318938"


def test_colorado_rla_generator() -> None:
    picks = corla_prng("3546311556112163624615351222", 1, 876, replacement=False)
    assert [next(picks) for _ in range(47)] == [
        740, 180, 264, 789, 238, 448, 272, 611, 761, 208, 596, 88, 160, 113, 766, 427, 184,
        816, 653, 411, 779, 331, 339, 487, 594, 235, 65, 527, 821, 490, 461, 251, 471, 414,
        174, 567, 300, 134, 144, 357, 786, 792, 218, 550, 787, 537, 197,
    ]  # fmt: skip
    with_replacement = corla_prng("12345678901234567890", 1, 100)
    assert [next(with_replacement) for _ in range(10)] == [26, 21, 29, 56, 38, 87, 44, 86, 45, 55]


def test_cryptorandom_outputs() -> None:
    outputs = cryptorandom_outputs(1234567890)
    first = [next(outputs) for _ in range(6)]
    assert (
        first[0] == 100208482908198438057700745423243738999845662853049614266130533283921761365671
    )
    assert first[5] == 93838330019164869717966768063938259297046489853954854934402443181124696542865


# --- statistics -----------------------------------------------------------------------------


def test_rlacalc_nmin() -> None:
    assert km_nmin(0.1, 0.2) == 24
    assert km_nmin(0.1, 0.1) == 48
    assert km_nmin(0.1, 0.05) == 96
    assert km_nmin(0.1, 0.002) == 2393
    assert km_nmin(0.1, 0.05, o1=1) == 123
    assert km_nmin(0.1, 0.005, o1=1, u1=1) == 1067
    assert km_nmin(0.2, 0.05) == 67
    assert km_nmin(0.1, 0.01) == 479
    assert km_nmin(0.1, 0.01, o1=1) == 615


def test_kaplan_markov_p_value() -> None:
    margin = (354040 - 337589) / (354040 + 337589 + 33234)  # New Hampshire 2016
    assert km_p_value(200, margin, o1=1) == pytest.approx(0.21438135077031842, rel=1e-12)


@pytest.mark.parametrize(
    ("winner", "loser", "ballots", "initial", "one_over", "two_over", "p_clean", "p_one"),
    [
        (60000, 40000, 100000, 27, 38, 100000, 0.06507, 0.12534),
        (30000, 24000, 60000, 54, 76, 60000, 0.06973, 0.13441),
        (18000, 12600, 36000, 36, 51, 36000, 0.06740, 0.12992),
        (8000, 6000, 15000, 40, 57, 15000, 0.07048, 0.13585),
        (10000, 0, 10000, 6, 7, 33, 0.01950, 0.03758),
        (10, 4, 15, 14, 15, 15, 0.05013, None),
        (300, 100, 1000, 27, 38, 1000, 0.06508, 0.12534),  # 600/300/100, two seats
    ],
)
def test_arlo_supersimple_table(
    winner: int, loser: int, ballots: int, initial: int, one_over: int, two_over: int,
    p_clean: float, p_one: float | None,
) -> None:  # fmt: skip
    margin = (winner - loser) / ballots
    assert arlo_supersimple_sample_size(10, margin, ballots) == initial
    assert arlo_supersimple_sample_size(10, margin, ballots, sampled=initial, o1=1) == one_over
    assert arlo_supersimple_sample_size(10, margin, ballots, sampled=initial, o2=1) == two_over
    assert km_p_value(initial, margin) == pytest.approx(p_clean, abs=0.001)
    if p_one is not None:
        assert km_p_value(initial, margin, o1=1) == pytest.approx(p_one, abs=0.001)


def test_bravo_average_sample_numbers() -> None:
    assert bravo_asn(0.1, 0.6, 0.4) == 119
    assert bravo_asn(0.1, 0.52, 0.48) == 2902
    assert bravo_asn(0.1, 0.505, 0.495) == 46151


@pytest.mark.parametrize(
    ("winner", "loser", "completion", "sampled", "size"),
    [  # Arlo's test_bravo.py (bravo_sample_sizes), risk limit 10%
        (0.4, 0.32, 0.9, (0, 0), 1599),
        (0.4, 0.32, 0.4, (0, 0), 409),
        (0.36, 0.32, 0.9, (0, 0), 6067),
        (0.36, 0.32, 0.6, (0, 0), 2476),
        (0.52, 0.47, 0.9, (0, 0), 5657),
        (0.52, 0.47, 0.9, (2923, 2735), 2636),
        (0.52, 0.47, 0.9, (10000, 0), 0),
    ],
)
def test_bravo_sample_sizes_with_a_chance_of_completion(
    winner: float, loser: float, completion: float, sampled: tuple[int, int], size: int
) -> None:
    assert bravo_sample_size(0.1, winner, loser, completion, *sampled) == size


@pytest.mark.parametrize(
    ("votes", "ballots", "asn", "chance", "sizes"),
    [  # Arlo's get_sample_size: ASN with its chance of completion, then 70%, 80%, 90%
        ((600, 400), 1000, 119, 0.52, [184, 244, 351]),
        ((600, 200, 100), 900, 22, 0.55, [32, 41, 57]),
        ((300, 200, 200), 1000, 238, None, [368, 488, 702]),
    ],
)
def test_arlo_bravo_round_sizes(
    votes: tuple[int, ...], ballots: int, asn: int, chance: float | None, sizes: list[int]
) -> None:
    winner, loser = votes[0] / ballots, votes[1] / ballots
    assert bravo_asn(0.1, winner, loser) == asn
    if chance is not None:
        assert bravo_completion_chance(0.1, winner, loser, asn) == chance
    assert [bravo_sample_size(0.1, winner, loser, p) for p in (0.7, 0.8, 0.9)] == sizes


def test_bravo_for_georgia_2020_asks_for_a_full_hand_count() -> None:
    # Biden 2,474,248, Trump 2,461,468 of 5,023,513 ballots: 90% round size 2,170,311, more
    # than a quarter of the ballots, so Arlo recommends counting them all.
    ballots = 5_023_513
    size = bravo_sample_size(0.1, 2_474_248 / ballots, 2_461_468 / ballots, 0.9)
    assert size == 2_170_311 > ballots / 4


def test_minerva_kmins() -> None:
    # r2b2: 60,000 / 40,000 of 100,000, rounds of 100, 200, 400 draws.
    rounds = minerva(0.1, 0.6, [(100, 0), (200, 0), (400, 0)])
    assert [r.kmin for r in rounds] == [58, 113, 221]
    assert not any(r.stopped for r in rounds)


def test_minerva_stopping_p_values() -> None:
    # r2b2's Arlo test: 1,200 ballots, a 600, b 400, c 100; round 1 draws a 40 b 40 c 3,
    # round 2 (cumulative) a 110 b 70 c 13: stopped, risk 0.006382 (the a-b pair decides).
    a_b = minerva(0.1, 600 / 1000, [(80, 40), (180, 110)])
    a_c = minerva(0.1, 600 / 700, [(43, 40), (123, 110)])
    assert not a_b[0].stopped and a_b[-1].stopped
    assert a_c[0].stopped
    risk = max(a_b[-1].p_value, a_c[-1].p_value)
    assert risk == pytest.approx(0.006382, abs=5e-7)
    # Georgia's 2020 Senate runoff: A 2,453,876, B 2,358,432; one round of 17,605 draws with
    # 8,900 for A.
    [ga] = minerva(0.1, 2_453_876 / (2_453_876 + 2_358_432), [(17_605, 8_900)])
    assert ga.p_value == pytest.approx(0.081750333563781, rel=1e-9)
    assert ga.stopped


def test_shangrla_assorters() -> None:
    assert [plurality_assorter(v, "A", "B") for v in ("A", "B", "C", None)] == [1, 0, 0.5, 0.5]
    assert overstatement_assorter(0, 0.2) == pytest.approx(1 / 1.8)
    assert overstatement_assorter(1, 0.2) == 0
    assert overstatement_assorter(-1, 0.3) == pytest.approx(2 / 1.7)
    assert overstatement_assorter(0.5, 0.1) == pytest.approx(0.5 / 1.9)


def test_alpha() -> None:
    assert alpha_sample_size(1.0, 0.05, 1000, eta=0.75) == 8
    assert alpha_sample_size(0.75, 0.05, 1000, eta=0.75) == 14
    assert alpha_p_value([0.5] * 50, 1000, eta=0.75) == 1.0  # the null holds: no evidence


# --- risk is limited: seeded simulations ------------------------------------------------------

import numpy as np  # noqa: E402

TRIALS, BALLOTS, ALPHA = 1000, 4000, 0.1


CHECK_EVERY = 25
"""The audit measures risk after every 25 ballots (stopping at checkpoints only is still
risk-limiting)."""


def _bravo_stops(true_winner_share: float, rng: np.random.Generator) -> list[bool]:
    """For each trial, whether BRAVO (reported 55%-45%) confirms before a full hand count,
    drawing ballots with replacement from a population with the true share."""
    winner_votes = np.cumsum(rng.random((TRIALS, BALLOTS)) < true_winner_share, axis=1)
    checkpoints = range(CHECK_EVERY, BALLOTS + 1, CHECK_EVERY)
    return [
        any(
            bravo_p_value(0.55, 0.45, int(w[n - 1]), n - int(w[n - 1])) <= ALPHA
            for n in checkpoints
        )
        for w in winner_votes
    ]


def _comparison_stops(flipped_share: float, rng: np.random.Generator) -> list[bool]:
    """For each trial, whether a Kaplan–Markov comparison audit of a reported 55%-45%
    contest confirms, when ``flipped_share`` of the ballots are two-vote overstatements."""
    overstatements = np.cumsum(rng.random((TRIALS, BALLOTS)) < flipped_share, axis=1)
    checkpoints = range(CHECK_EVERY, BALLOTS + 1, CHECK_EVERY)
    return [
        any(km_p_value(n, 0.10, o2=int(o[n - 1])) <= ALPHA for n in checkpoints)
        for o in overstatements
    ]


def test_audits_of_a_wrong_outcome_go_to_a_full_hand_count() -> None:
    rng = np.random.default_rng(20261103)
    # Reported 55%-45%, but the loser really won 52%-48%.
    assert 1 - np.mean(_bravo_stops(0.48, rng)) >= 0.90
    # Reported 55%-45%; 7% of the ballots were read for the wrong candidate: the loser won.
    assert 1 - np.mean(_comparison_stops(0.07, rng)) >= 0.90


def test_audits_of_a_right_outcome_stop() -> None:
    rng = np.random.default_rng(20261104)
    assert np.mean(_bravo_stops(0.55, rng)) >= 0.99
    assert all(_comparison_stops(0.0, rng))


def test_the_audit_commands(tmp_path: object) -> None:
    from pathlib import Path

    from typer.testing import CliRunner

    from canvass.cli import app

    runner = CliRunner()
    sizes = runner.invoke(
        app,
        ["audit", "sample-size", "--winner", "60000", "--loser", "40000", "--ballots", "100000"],
    )
    assert sizes.exit_code == 0
    assert "ballot comparison (Kaplan-Markov): 27 ballots" in sizes.output
    assert "ballot polling (BRAVO, average): 119 ballots" in sizes.output
    # Arlo's round sizes for 600 to 400 of 1,000 ballots: ASN 119 (52%), 184, 244, 351.
    arlo = runner.invoke(
        app, ["audit", "sample-size", "--winner", "600", "--loser", "400", "--ballots", "1000"]
    )
    assert "ballot polling (BRAVO, average): 119 ballots (52% chance to finish" in arlo.output
    for chance, size in (("70%", 184), ("80%", 244), ("90%", 351)):
        assert f"ballot polling (BRAVO, {chance} chance in one round): {size} ballots" in (
            arlo.output
        )
    manifest = Path(str(tmp_path)) / "manifest.csv"
    manifest.write_text(
        "Tabulator,Batch Name,Number of Ballots\n"
        + "".join(f"T1,pct {p},25\n" for p in range(1, 5))
    )
    seed = "12345678901234567890"
    drawn = runner.invoke(app, ["audit", "draw", str(manifest), "--seed", seed, "--size", "8"])
    assert drawn.exit_code == 0, drawn.output
    ids = [(("T1", f"pct {p}"), n) for p in range(1, 5) for n in range(1, 26)]
    expected = list(sampler(ids, seed, with_replacement=True, take=8, digits=18))
    rows = drawn.output.strip().splitlines()[1:]
    assert rows == [f"{t.number},T1,{t.id[0][1]},{t.id[1]},{t.generation}" for t in expected]  # type: ignore[index]
    more = runner.invoke(
        app, ["audit", "draw", str(manifest), "--seed", seed, "--size", "4", "--already", "4"]
    )
    assert more.output.strip().splitlines()[1:] == rows[4:]
    short = runner.invoke(app, ["audit", "draw", str(manifest), "--seed", "12345", "--size", "4"])
    assert short.exit_code == 1 and "at least 20 digits" in short.output


@settings(max_examples=60, deadline=None)
@given(
    size=st.integers(1, 400),
    seed=st.text(st.sampled_from("0123456789"), min_size=1, max_size=24),
    drop=st.integers(0, 10),
    take=st.integers(1, 40),
    replacement=st.booleans(),
)
def test_a_large_frame_draws_what_the_whole_heap_draws(
    size: int, seed: str, drop: int, take: int, replacement: bool
) -> None:
    """A frame much larger than the draws preselects the smallest first tickets in NumPy;
    the draws are those of the plain sampler over every id."""
    ids = [f"c1/t{i % 7}/b{i // 50}/{i}" for i in range(size)]
    fast = list(sampler(ids, seed, replacement, drop=drop, take=take, digits=18))
    whole = itertools.islice(sampler(ids, seed, replacement, digits=18), drop, drop + take)
    assert fast == list(whole)


@settings(max_examples=40, deadline=None)
@given(st.lists(st.binary(min_size=32, max_size=32), min_size=1, max_size=50))
def test_ticket_keys_are_the_tickets_first_digits(digests: list[bytes]) -> None:
    """The NumPy remainders are exact: each key is the first 4 digits of the ticket as
    sha256_uniform writes it, from Python's own big integers."""
    from canvass.audit.sampler import _keys

    key, heads = _keys(bytearray(b"".join(digests)))
    for k, digest in zip(key.tolist(), digests, strict=True):
        ticket = "0." + f"{int.from_bytes(digest, 'big'):064d}"[::-1]
        assert k == int(ticket[2:6])
    assert heads.tolist() == sorted(int.from_bytes(d[:8], "big") for d in digests)


@settings(max_examples=60, deadline=None)
@given(
    sizes=st.lists(st.integers(0, 60), min_size=1, max_size=30),
    seed=st.text(st.sampled_from("0123456789"), min_size=20, max_size=24),
    already=st.integers(0, 10),
    size=st.integers(1, 30),
)
def test_a_manifest_draws_what_the_sampler_draws_from_its_ids(
    sizes: list[int], seed: str, already: int, size: int
) -> None:
    """Arlo's ids are never made for a manifest's ballots until drawn: each batch's hash state
    is shared by its ballots. The draws are those of the sampler over every id."""
    manifest = [((f"T{b % 3}", f"B {b}"), n) for b, n in enumerate(sizes)]
    ids = [(batch, p) for batch, n in manifest for p in range(1, n + 1)]
    want = list(sampler(ids, seed, True, drop=already, take=size, digits=18))
    assert arlo_sample(manifest, seed, size, already) == want


def test_frames_hashed_a_chunk_at_a_time_draw_the_same(monkeypatch: pytest.MonkeyPatch) -> None:
    """Digests are reduced a chunk of ids at a time; chunks of 5 draw what one chunk draws."""
    from canvass.audit import sampler as module

    manifest = [((f"T{b % 3}", f"B {b}"), 7 + b % 4) for b in range(40)]
    ids = [f"c1/b{i // 9}/{i}" for i in range(400)]
    seed = "31415926535897932384"
    whole = arlo_sample(manifest, seed, 12), list(sampler(ids, 7, True, take=12, digits=18))
    monkeypatch.setattr(module, "_CHUNK", 5)
    chunked = arlo_sample(manifest, seed, 12), list(sampler(ids, 7, True, take=12, digits=18))
    assert chunked == whole


def test_a_large_frame_with_an_id_twice_is_refused() -> None:
    """The preselection finds repeated ids too, and ids that differ only in type (their
    text, and so their tickets, are the same)."""
    ids: list[object] = [f"b{i // 100}/{i}" for i in range(2000)]
    with pytest.raises(ValueError, match="not distinct"):
        list(sampler([*ids, "b7/777"], 1, take=5))
    with pytest.raises(ValueError, match="not distinct"):
        list(sampler([*range(2000), "17"], 1, take=5))
    assert len(list(sampler(ids, 1, take=5))) == 5


# --- MACRO: batch comparison -----------------------------------------------------------------
# Stark's worked example as Arlo's tests carry it: contests A (60,000 to 54,000), B (30,000 to
# 24,000) and C (18,000 to 12,600); 200 precinct batches of 400 ballots and 200 absentee
# batches of 200, with B in the first 100 of each and C in 0-29 and 100-129.


def _stark_batches() -> dict[str, dict[str, dict[str, int]]]:
    batches: dict[str, dict[str, dict[str, int]]] = {}
    for i in range(200):
        batches[f"Batch {i}"] = {"A": {"winner": 200, "loser": 180}}
        batches[f"Batch {i} AV"] = {"A": {"winner": 100, "loser": 90}}
    for i in range(100):
        batches[f"Batch {i}"]["B"] = {"winner": 200, "loser": 160}
        batches[f"Batch {i} AV"]["B"] = {"winner": 100, "loser": 80}
    for i in [*range(30), *range(100, 130)]:
        batches[f"Batch {i}"]["C"] = {"winner": 200, "loser": 140}
        batches[f"Batch {i} AV"]["C"] = {"winner": 100, "loser": 70}
    return batches


STARK_OUTCOMES = {
    "A": Outcome.of({"winner": 60000, "loser": 54000}),
    "B": Outcome.of({"winner": 30000, "loser": 24000}),
    "C": Outcome.of({"winner": 18000, "loser": 12600}),
}


def _ballots(name: str, batch: dict[str, dict[str, int]]) -> dict[str, int]:
    return {c: 200 if name.endswith("AV") else 400 for c in batch}


def test_macro_bounds_and_their_sum() -> None:
    batches = _stark_batches()
    expected_u = {"A": (0.0700, 0.035), "B": (0.0733, 0.0367), "C": (0.0852, 0.0426)}
    expected_total = {"A": 21.0, "B": 11.0, "C": 7.666667}
    for contest, outcome in STARK_OUTCOMES.items():
        only = {contest: outcome}
        total = Fraction(0)
        for name, batch in batches.items():
            u = macro_bound(only, batch, _ballots(name, batch))
            assert u is not None
            if contest in batch:
                assert float(u) == pytest.approx(expected_u[contest][name.endswith("AV")], abs=1e-4)
            else:
                assert u == 0
            total += u
        assert round(float(total), 6) == expected_total[contest]


def test_macro_risk_of_stark_example() -> None:
    """31 clean batches, then 6 where A was counted 190-190 (C clean); C's first 30 counted
    170-170: final risks 0.22035947, 0.052098685 and 0.432327595."""
    batches = _stark_batches()
    audited = {
        f"Batch {i}": {
            "A": {"winner": 200, "loser": 180},
            "B": {"winner": 200, "loser": 160},
            "C": {"winner": 170, "loser": 170},
        }
        for i in range(31)
    }
    for i in range(100, 106):
        audited[f"Batch {i}"] = {
            "A": {"winner": 190, "loser": 190},
            "C": {"winner": 200, "loser": 140},
        }
    expected = {"A": 0.22035947, "B": 0.052098685, "C": 0.432327595}
    for contest, outcome in STARK_OUTCOMES.items():
        only = {contest: outcome}
        total = sum(
            (macro_bound(only, b, _ballots(n, b)) or Fraction(0) for n, b in batches.items()),
            Fraction(0),
        )
        draws = [
            (
                macro_overstatement(only, batches[name], counted),
                macro_bound(only, batches[name], _ballots(name, batches[name])) or Fraction(0),
            )
            for name, counted in audited.items()
            if contest in batches[name] and contest in counted
        ]
        p, _ = macro_risk(draws, total, alpha=0.0)  # every draw, no stopping
        assert p == pytest.approx(expected[contest], abs=1e-8)
    # At a 25% risk limit, A stops at the 29th clean draw: (1 - 1/21)^29.
    clean = [(Fraction(0), Fraction(7, 100))] * 31
    assert macro_risk(clean, Fraction(21), 0.25) == (pytest.approx((20 / 21) ** 29), True)
    # An error the size of a batch's whole bound can never be outweighed.
    assert macro_risk([(Fraction(7, 100), Fraction(7, 100))], Fraction(21), 0.25) == (1.0, False)


@pytest.mark.parametrize("total", [Fraction(21), Fraction(11), Fraction(23, 3), Fraction(5, 2)])
def test_macro_sample_size_is_the_least_that_reaches_the_risk_limit(total: Fraction) -> None:
    n = macro_sample_size(total, 0.25)
    step = 1 - 1 / float(total)
    assert step**n <= 0.25 < step ** (n - 1)


def test_a_tie_cannot_be_confirmed_by_a_batch_sample() -> None:
    tied = {"T": Outcome.of({"a": 500, "b": 500})}
    assert macro_bound(tied, {"T": {"a": 5, "b": 5}}, {"T": 10}) is None


def test_the_weighted_sampler_follows_its_definition() -> None:
    """Each draw as the documentation defines it, computed here in integers: the first
    item whose running total exceeds SHA-256(seed,i) × W / 2^256."""
    import hashlib

    weights = [
        ("b1", Fraction(1, 3)),
        ("b2", Fraction(0)),
        ("b3", Fraction(5, 6)),
        ("b4", Fraction(1, 2)),
    ]
    seed = "01234567890123456789"
    drawn = weighted_sample(weights, seed, take=200)
    for i, key in drawn:
        r = int.from_bytes(hashlib.sha256(f"{seed},{i}".encode()).digest(), "big")
        # Running totals over the common denominator 6: 2, 2, 7, 10 of 10.
        running = [2, 2, 7, 10]
        expected = next(
            k
            for k, c in zip(["b1", "b2", "b3", "b4"], running, strict=True)
            if c * (1 << 256) > r * 10
        )
        assert key == expected
    assert [i for i, _ in drawn] == list(range(1, 201))
    assert "b2" not in {k for _, k in drawn}
    # A later round continues where the last stopped.
    assert weighted_sample(weights, seed, drop=150, take=50) == drawn[150:]
