"""The published bundle and the independent verifier: an honest bundle verifies clean, from a
folder or over HTTP; every tamper of the drill is caught and named; the verifier shares
nothing with the server's database."""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from typer.testing import CliRunner

from canvass import keys, parallel
from canvass.app.actor import Actor
from canvass.app.elections import register_key
from canvass.app.publishing import Published, record_publication
from canvass.app.publishing import publish as publish_as
from canvass.cli import app
from canvass.demo.build import WITNESS, build_demo
from canvass.demo.drill import TAMPERS, VOTES, Outcome, Tamper, copy_election, tamper
from canvass.domain.model import KeyRole
from canvass.errors import StoreError
from canvass.log.merkle import MerkleTree
from canvass.log.tiles import check_tiles, read_entries, tile_path, write_tiles
from canvass.signing import witness as cosign_as
from canvass.store.election import DATABASE_CONFIG, ElectionDirectory
from canvass.verify import Report, TrustStore, open_source, verify_bundle
from canvass.web.static import server

CLERK = Actor("clerk")


def publish(
    store: ElectionDirectory, out: Path, withhold: list[str] | None = None, replace: bool = False
) -> Published:
    return publish_as(store, CLERK, out, withhold or [], replace)


@pytest.fixture(scope="module")
def published(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A small demo election, canvassed, certified and audited, and its bundle."""
    root = tmp_path_factory.mktemp("published")
    run = build_demo(root / "election", False, 4, 16, 2026, 30)
    publish(run.store, root / "bundle")
    run.store.close()
    return root / "election", root / "bundle"


def _copy(published: tuple[Path, Path], to: Path) -> tuple[Path, Path]:
    election, bundle = published
    if (election / DATABASE_CONFIG).exists():
        pytest.skip("[sqlite only] the tamper drill changes a copy of the election's SQLite file")
    copy_election(election, to / "election")
    shutil.copytree(bundle, to / "bundle")
    return to / "election", to / "bundle"


def _verify(bundle: Path, trust: Path | None = None) -> Report:
    return verify_bundle(open_source(str(bundle)), TrustStore(trust) if trust else None)


def _failed(report: Report) -> dict[str, list[str]]:
    return {c.name: c.problems for c in report.checks if c.problems}


# --- the honest bundle -------------------------------------------------------------------


def test_the_honest_bundle_verifies_clean(published: tuple[Path, Path]) -> None:
    report = _verify(published[1])
    assert report.ok, report.text()
    checked = {c.name: c.checked for c in report.checks}
    # 4 county certificates and the state's; every file, entry and artifact.
    assert checked["certificates"] == 5
    assert checked["ballots"] == 4  # each county's export read again
    assert checked["ascertainment"] == 1
    assert checked["log"] == report.log_size > 100
    # Every file people read, its publication and the manifest, rendered again.
    listed = json.loads((published[1] / "manifest.json").read_text())["files"]
    rendered = [p for p in listed if not p.startswith(("log/", "artifacts/"))]
    assert checked["published"] == len(rendered) + 2
    assert all(n > 0 for n in checked.values()), checked
    notes = [n for c in report.checks for n in c.notes]
    assert f"cosigned by witness {WITNESS}" in notes
    assert any("before the seed" in n for n in notes)


def test_the_bundle_holds_what_an_observer_needs(published: tuple[Path, Path]) -> None:
    bundle = published[1]
    manifest = json.loads((bundle / "manifest.json").read_text())
    for path in (
        "index.html",
        "log/checkpoint",
        "log/checkpoints.json",
        "results/results.json",
        "results/president.csv",
        "results/nist-1500-100.json",
        "results/ranked-choice.json",
        "reconciliation/units.csv",
        "reconciliation/report.txt",
        "certificates/index.json",
        "audits/index.json",
    ):
        assert path in manifest["files"], path
        assert (bundle / path).is_file()
    assert manifest["log_size"] > 0
    assert any(p.startswith("log/tile/entries/") for p in manifest["files"])
    assert any(p.startswith("log/tile/0/") for p in manifest["files"])
    page = (bundle / "index.html").read_text()
    assert "canvass verify" in page and "President" in page
    assert "congress-2-rounds.html" in page  # the ranked contest links its rounds
    for path in ("contests/president.html", "contests/congress-2-rounds.html", "check.js"):
        assert path in manifest["files"], path


def test_the_cli_verifies_and_remembers_the_checkpoint(
    published: tuple[Path, Path], tmp_path: Path
) -> None:
    trust = tmp_path / "trust.json"
    result = CliRunner().invoke(
        app, ["verify", str(published[1]), "--trust-store", str(trust), "--json"]
    )
    assert result.exit_code == 0, result.output
    doc = json.loads(result.output)
    assert doc["ok"] is True
    assert {c["check"] for c in doc["checks"]} == {
        "files",
        "log",
        "artifacts",
        "ballots",
        "signatures",
        "certificates",
        "published",
        "audits",
        "ascertainment",
    }
    stored = json.loads(trust.read_text())["logs"]
    [seen] = stored.values()
    assert seen["checkpoints"] == [(published[1] / "log" / "checkpoint").read_text()]
    # The second time, the operator key comes from the trust store, not the bundle.
    again = CliRunner().invoke(app, ["verify", str(published[1]), "--trust-store", str(trust)])
    assert again.exit_code == 0 and "first use" not in again.output


def test_a_log_that_grew_honestly_still_verifies_against_what_was_seen(
    published: tuple[Path, Path], tmp_path: Path
) -> None:
    election, bundle = _copy(published, tmp_path)
    trust = tmp_path / "trust.json"
    first = _verify(bundle, trust)
    TrustStore(trust).remember(first.origin, first.operator, first.checkpoint)
    store = ElectionDirectory.open(election)
    register_key(
        store, Actor("clerk"), keys.new_signer("c001-alt1").verifier(), KeyRole.BOARD_MEMBER
    )
    # The publication is recorded in the log, the witness cosigns it, then it is written.
    early = publish(store, tmp_path / "early")
    assert early.recorded and early.not_cosigned == [WITNESS]
    witness = keys.read_key(published[0] / "demo-keys" / f"{WITNESS}.key")
    cosign_as(store, witness, 1_800_000_000, since=first.checkpoint)
    later = publish(store, tmp_path / "later")
    assert not later.recorded and later.publication == early.publication
    store.close()
    report = _verify(tmp_path / "later", trust)
    assert report.ok, report.text()
    assert report.log_size == first.log_size + 2  # the key, and the new publication
    assert f"no cosignature by {WITNESS}" in _verify(tmp_path / "early").text()


def test_a_bundle_served_over_http_verifies(published: tuple[Path, Path]) -> None:
    httpd = server(published[1], "127.0.0.1", 0)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{httpd.server_address[1]}/"
        report = verify_bundle(open_source(url))
        assert report.ok, report.text()
    finally:
        httpd.shutdown()
        httpd.server_close()


def test_original_cvr_files_may_be_withheld(published: tuple[Path, Path], tmp_path: Path) -> None:
    election, _ = _copy(published, tmp_path / "copy")
    store = ElectionDirectory.open(election)
    record_publication(store, CLERK, ["all"])  # what is withheld is part of the publication
    witness = keys.read_key(published[0] / "demo-keys" / f"{WITNESS}.key")
    cosign_as(store, witness, 1_800_000_000)
    out = publish(store, tmp_path / "bundle", ["all"])
    store.close()
    # Every file of every county's export, counted once by content (the store keeps one
    # copy of identical files).
    exported = {
        hashlib.sha256(p.read_bytes()).digest()
        for p in (published[0] / "demo-cvrs").rglob("*.json")
    }
    exported.discard(hashlib.sha256(b"").digest())
    assert out.withheld == len(exported) > 4
    report = _verify(tmp_path / "bundle")
    assert report.ok, report.text()
    note = f"{len(exported)} original CVR files withheld"
    assert any(note in n for c in report.checks for n in c.notes)
    # Withholding a ballot table is not allowed: the recount needs it.
    manifest = json.loads((tmp_path / "bundle" / "manifest.json").read_text())
    table = next(
        p.removeprefix("artifacts/")
        for p in manifest["files"]
        if p.startswith("artifacts/") and (tmp_path / "bundle" / p).read_bytes()[:4] == b"PAR1"
    )
    manifest["withheld"][table] = {"name": "x", "county": "c001", "entry": "0"}
    (tmp_path / "bundle" / "manifest.json").write_text(json.dumps(manifest))
    assert "only original CVR files may be withheld" in _verify(tmp_path / "bundle").text()


@pytest.mark.parametrize("reading", ["here", "beside", "not read again"])
def test_a_changed_cvr_file_is_named_however_it_is_read(
    published: tuple[Path, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch, reading: str
) -> None:
    """A CVR file is hashed once, as the ballots check reads it again (in this process or in
    a worker process) or, not read again, by the artifacts check: changed, it is named by
    the artifacts check either way."""
    bundle = tmp_path / "bundle"
    shutil.copytree(published[1], bundle)
    cvr = next(
        p
        for p in sorted((bundle / "artifacts").iterdir())
        if p.read_bytes().startswith(b"{") and b'"Sessions"' in p.read_bytes()
    )
    changed = cvr.read_bytes() + b" "
    cvr.write_bytes(changed)
    monkeypatch.setenv("CANVASS_WORKERS", "2" if reading == "beside" else "1")
    monkeypatch.setattr(parallel, "SIDE_BY_SIDE_BYTES", 0)
    report = verify_bundle(open_source(str(bundle)), reingest=reading != "not read again")
    failed = _failed(report)
    [problem] = failed["artifacts"]
    altered = (
        f"artifacts/{cvr.name}: its bytes hash to {hashlib.sha256(changed).hexdigest()}: "
        "the artifact was altered"
    )
    assert re.fullmatch(r"log entry \d+ \(ballots\.imported\): " + altered, problem), problem
    if reading == "not read again":
        assert set(failed) == {"artifacts"}
    else:
        [cannot] = failed["ballots"]
        assert re.fullmatch(
            r"log entry \d+ \(c\d+, dominion\): cannot be checked: " + altered, cannot
        )
        assert set(failed) == {"artifacts", "ballots"}


def test_publish_refuses_to_overwrite_what_is_not_a_bundle(
    published: tuple[Path, Path], tmp_path: Path
) -> None:
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "notes.txt").write_text("keep me")
    store = ElectionDirectory.open(published[0])
    with pytest.raises(StoreError, match="already exists; pass --replace"):
        publish(store, tmp_path / "mine")
    with pytest.raises(StoreError, match="is not a results bundle; not replacing it"):
        publish(store, tmp_path / "mine", replace=True)
    store.close()
    assert (tmp_path / "mine" / "notes.txt").read_text() == "keep me"


# --- damaged and tampered bundles --------------------------------------------------------


def test_a_changed_file_is_named(published: tuple[Path, Path], tmp_path: Path) -> None:
    _, bundle = _copy(published, tmp_path)
    header = (bundle / "results" / "president.csv").read_text().splitlines()[0]
    (bundle / "results" / "president.csv").write_text("county,x\n")
    (bundle / "reconciliation" / "report.txt").unlink()
    problems = _failed(_verify(bundle))["published"]
    assert "reconciliation/report.txt: missing from the bundle" in problems
    assert (
        f"results/president.csv line 1: published 'county,x'; derived from the log {header!r}"
        in problems
    )


def test_a_different_operator_key_is_refused(published: tuple[Path, Path]) -> None:
    other = keys.new_signer("canvass.invalid/lakeland-2026-general").verifier().encode()
    report = verify_bundle(open_source(str(published[1])), None, other)
    assert not report.ok
    assert any("not the trusted" in p for p in _failed(report)["log"])
    assert any("does not verify" in p or "no signature by" in p for p in _failed(report)["log"])


@pytest.mark.parametrize("case", TAMPERS, ids=[t.name for t in TAMPERS])
def test_every_tamper_is_caught_and_named(
    case: Tamper, published: tuple[Path, Path], tmp_path: Path
) -> None:
    """Each tamper is named by the check that must catch it (the database's by the check of
    the election directory, the bundle being rendered from the log and unaffected)."""
    election, bundle = _copy(published, tmp_path)
    trust = tmp_path / "trust.json"
    honest = _verify(bundle, trust)
    assert honest.ok
    TrustStore(trust).remember(honest.origin, honest.operator, honest.checkpoint)
    tamper(case.name, bundle, election)
    report = _verify(bundle, trust)
    directory = ElectionDirectory.open(election).verify() if case.check == "directory" else []
    outcome = Outcome(case, report, directory)
    assert outcome.caught, "\n".join(outcome.reasons()) or report.text()
    if case.check != "directory":
        assert case.check in _failed(report)


@pytest.mark.parametrize(
    "name",
    [
        "re-signed-publication",
        "ballot-table",
        "hidden-imbalances",
        "forged-signature",
        "re-seated-board",
        "replaced-reading",
        "back-dated-vote",
        "removed-entry",
        "split-view",
    ],
)
def test_a_re_signed_log_fails_even_for_a_first_time_observer(
    name: str, published: tuple[Path, Path], tmp_path: Path
) -> None:
    """Without any checkpoint seen before, the witness's missing cosignature still names a
    log the operator signed again."""
    election, bundle = _copy(published, tmp_path)
    tamper(name, bundle, election)
    report = _verify(bundle)
    assert f"no cosignature by {WITNESS}" in report.text()


def test_the_database_tamper_is_named_by_log_verify_too(
    published: tuple[Path, Path], tmp_path: Path
) -> None:
    election, bundle = _copy(published, tmp_path)
    tamper("database", bundle, election)
    problems = ElectionDirectory.open(election).verify()
    assert len(problems) == 1
    assert problems[0].startswith("table ballot_import, row ")
    assert "table_sha256" in problems[0]


def test_the_certified_total_tamper_names_the_votes_added(
    published: tuple[Path, Path], tmp_path: Path
) -> None:
    election, bundle = _copy(published, tmp_path)
    tamper("certified-total", bundle, election)
    [problem] = [p for p in _failed(_verify(bundle))["published"] if p.startswith("results/")]
    assert problem.startswith("results/results.json contests president votes ")
    published_votes = int(problem.split("published ")[1].split(",")[0])
    counted = int(problem.rsplit(" ", 1)[1])
    assert published_votes - counted == VOTES


# --- the verifier stands apart -----------------------------------------------------------


def test_verify_imports_nothing_from_the_store_or_the_web() -> None:
    code = (
        "import sys, canvass.verify; "
        "print([m for m in sys.modules if m.startswith(('canvass.store', 'canvass.web', "
        "'canvass.cli', 'canvass.app', 'canvass.publish.bundle', 'sqlalchemy', 'alembic'))])"
    )
    found = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert found.strip() == "[]"


# --- tiles -------------------------------------------------------------------------------


def test_tile_paths_follow_c2sp_tlog_tiles() -> None:
    # The examples of https://c2sp.org/tlog-tiles.
    assert tile_path(0, 1234067) == "tile/0/x001/x234/067"
    assert tile_path(1, 67, 12) == "tile/1/067.p/12"
    assert tile_path("entries", 0) == "tile/entries/000"
    with pytest.raises(ValueError):
        tile_path(0, 0, 0)


def _tiles(entries: list[bytes]) -> dict[str, bytes]:
    return dict(write_tiles(entries))


@pytest.mark.parametrize("size", [1, 255, 256, 257, 70_000])
def test_tiles_round_trip_and_cover_every_level(size: int) -> None:
    entries = [f"entry {i}".encode() for i in range(size)]
    files = _tiles(entries)
    assert read_entries(files.__getitem__, size) == entries
    tree = MerkleTree(entries)
    assert check_tiles(files.__getitem__, tree) == []
    # A level-1 tile exists once 256 leaves make a level-8 node; level 2 once 65,536 do.
    assert any(p.startswith("tile/1/") for p in files) == (size >= 256)
    assert any(p.startswith("tile/2/") for p in files) == (size >= 65_536)
    # Full tiles hold 256 hashes, partial ones their width.
    for path, data in files.items():
        if not path.startswith("tile/entries/"):
            width = int(path.split(".p/")[1]) if ".p/" in path else 256
            assert len(data) == 32 * width, path


def test_a_changed_hash_tile_is_named() -> None:
    entries = [f"entry {i}".encode() for i in range(300)]
    files = _tiles(entries)
    files["tile/0/000"] = bytes(32) + files["tile/0/000"][32:]
    assert check_tiles(files.__getitem__, MerkleTree(entries)) == [
        "tile/0/000: its hashes are not those of the log's entries"
    ]


def test_a_cut_entry_bundle_is_named() -> None:
    files = _tiles([b"a" * 10, b"b" * 10])
    files["tile/entries/000.p/2"] = files["tile/entries/000.p/2"][:-3]
    with pytest.raises(Exception, match=r"tile/entries/000.p/2: entry 1 is cut short"):
        read_entries(files.__getitem__, 2)


@pytest.mark.parametrize("side_by_side", [False, True])
def test_a_ballot_table_its_cvr_files_do_not_give_is_named(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, side_by_side: bool
) -> None:
    """A server whose import code adds ballots of its own, logged and signed as usual, is
    caught when the verifier reads the published CVR files again (in this process, or in a
    worker process while this one makes the other checks)."""
    import canvass.app.imports as importing
    from canvass.demo.definition import demo_definition
    from canvass.demo.rewriting import stuffed_table

    honest = importing.to_parquet
    stuffed: list[int] = []
    president = next(c for c in demo_definition(2, 8, 2026)["contests"] if c["id"] == "president")

    def lying(batches: object, contests: list[object], *rest: object) -> tuple[bytes, int]:
        data, cards = honest(batches, contests, *rest)  # type: ignore[arg-type]
        if stuffed:
            return data, cards
        stuffed.append(cards)
        return stuffed_table(data, president["candidates"][0]), cards + VOTES

    monkeypatch.setattr(importing, "to_parquet", lying)
    # Not "election": on PostgreSQL, the module's demo holds the schema named so.
    run = build_demo(tmp_path / "stuffed", False, 2, 8, 2026, 10, canvass=False)
    publish(run.store, tmp_path / "bundle")
    run.store.close()
    monkeypatch.setenv("CANVASS_WORKERS", "2" if side_by_side else "1")
    monkeypatch.setattr(parallel, "SIDE_BY_SIDE_BYTES", 0)
    report = _verify(tmp_path / "bundle")
    # Entries 0-2 open the log, define the election and register the witness; 3 is c001's.
    [problem] = _failed(report)["ballots"]
    assert problem == (
        f"log entry 3 (c001, dominion): its ballot table holds {stuffed[0] + VOTES:,} cards; "
        f"its CVR files give {stuffed[0]:,}"
    )


# --- what cannot be verified says why --------------------------------------------------------


def _cli(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, list(args))
    return result.exit_code, result.output


def test_verify_names_what_is_not_a_bundle(tmp_path: Path) -> None:
    assert _cli("verify", str(tmp_path / "nowhere"), "--no-trust-store") == (
        1,
        f"error: {tmp_path / 'nowhere'}: no such folder (nor an http(s) address)\n",
    )
    (tmp_path / "empty").mkdir()
    assert _cli("verify", str(tmp_path / "empty"), "--no-trust-store") == (
        1,
        f"error: {tmp_path / 'empty'}: no manifest.json; this is not a results bundle\n",
    )
    (tmp_path / "bad").mkdir()
    (tmp_path / "bad" / "manifest.json").write_text("{not json")
    code, text = _cli("verify", str(tmp_path / "bad"), "--no-trust-store")
    assert code == 1
    assert text == (
        f"error: {tmp_path / 'bad'}/manifest.json: expected JSON; JSON is malformed: object "
        "keys must be strings (byte 1)\n"
    )
    (tmp_path / "bad" / "manifest.json").write_text('{"bundle": "canvass-bundle/1"}')
    assert _cli("verify", str(tmp_path / "bad"), "--no-trust-store") == (
        1,
        f"error: {tmp_path / 'bad'}/manifest.json: no 'files' table\n",
    )


def test_a_damaged_trust_store_is_refused(published: tuple[Path, Path], tmp_path: Path) -> None:
    trust = tmp_path / "trust.json"
    trust.write_text("[1, 2]")
    code, text = _cli("verify", str(published[1]), "--trust-store", str(trust))
    assert code == 1
    assert text.startswith(f"error: {trust}: not a trust store (")
    assert trust.read_text() == "[1, 2]"  # left as it was


def test_a_bundle_missing_over_http_says_so(tmp_path: Path) -> None:
    (tmp_path / "site").mkdir()
    httpd = server(tmp_path / "site", "127.0.0.1", 0)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{httpd.server_address[1]}/election/"
        assert _cli("verify", url, "--no-trust-store") == (
            1,
            f"error: {url}: no manifest.json; this is not a results bundle\n",
        )
    finally:
        httpd.shutdown()
        httpd.server_close()


def test_serve_refuses_what_is_not_a_bundle(tmp_path: Path) -> None:
    assert _cli("serve", str(tmp_path)) == (
        1,
        f"error: {tmp_path}: not a results bundle (no manifest.json); run 'canvass publish'\n",
    )


def test_a_failed_verification_exits_2_and_remembers_nothing(
    published: tuple[Path, Path], tmp_path: Path
) -> None:
    election, bundle = _copy(published, tmp_path)
    tamper("certified-total", bundle, election)
    trust = tmp_path / "trust.json"
    code, text = _cli("verify", str(bundle), "--trust-store", str(trust))
    assert code == 2
    assert text.endswith("problems found: do not rely on this bundle.\n")
    assert not trust.exists()


def test_a_bundle_cannot_make_the_verifier_read_or_write_outside_it(
    published: tuple[Path, Path], tmp_path: Path
) -> None:
    """A hostile bundle names files outside itself: in its manifest (read) and as the name
    of a CVR file to read again (written to a scratch folder)."""
    import tempfile

    from canvass.demo.rewriting import find, resign, rewrite
    from canvass.log.entry import ArtifactRef

    election, bundle = _copy(published, tmp_path)
    secret = tmp_path / "secret.txt"
    secret.write_text("not the bundle's")
    manifest = json.loads((bundle / "manifest.json").read_text())
    manifest["files"]["../secret.txt"] = {
        "sha256": hashlib.sha256(secret.read_bytes()).hexdigest(),
        "size": 16,
    }
    (bundle / "manifest.json").write_text(json.dumps(manifest))
    escaped = Path(tempfile.gettempdir()) / "escaped-by-a-bundle.json"
    escaped.unlink(missing_ok=True)
    raw, index, entry = find(bundle, "ballots.imported")
    refs = list(entry.artifacts)
    refs[0] = ArtifactRef(
        refs[0].sha256, "../../escaped-by-a-bundle.json", refs[0].media_type, refs[0].size
    )
    raw[index] = rewrite(entry, artifacts=refs)
    resign(bundle, raw, keys.read_key(election / "keys" / "operator.key"))
    report = _verify(bundle)
    assert (
        "../secret.txt: not part of the election: the log neither gives this file nor names it"
        in _failed(report)["files"]
    )
    assert not escaped.exists()
    # Read again under its plain name, the renamed manifest is no longer one Dominion's
    # reader knows: that county's export no longer gives its table, and the check says so.
    assert _failed(report)["ballots"] == [
        "log entry 3 (c001, dominion): its ballot table is not what its CVR files give, "
        "card for card"
    ]


@pytest.mark.parametrize("name", ["CvrExport\x00.json", 7, "c" * 300 + ".json"])
def test_a_cvr_file_name_no_file_may_have_is_a_problem_not_a_stop(
    name: object, published: tuple[Path, Path], tmp_path: Path
) -> None:
    """The log names a county's CVR file with a name no file may have (a NUL, not text, too
    long): the file is still hashed and read again under a name of the verifier's, the
    county's ballots are reported, and every other check still runs."""
    from canvass.demo.rewriting import find, resign, rewrite
    from canvass.log.entry import ArtifactRef

    election, bundle = _copy(published, tmp_path)
    raw, index, entry = find(bundle, "ballots.imported")
    refs = list(entry.artifacts)
    refs[0] = ArtifactRef(refs[0].sha256, name, refs[0].media_type, refs[0].size)  # type: ignore[arg-type]
    raw[index] = rewrite(entry, artifacts=refs)
    resign(bundle, raw, keys.read_key(election / "keys" / "operator.key"))
    report = _verify(bundle)
    failed = _failed(report)
    assert "verifier" not in failed, failed["verifier"]
    assert [p for p in failed["ballots"] if p.startswith("log entry 3 (c001, dominion): ")]
    assert {c.name for c in report.checks} >= {"files", "artifacts", "ballots", "signatures"}


@pytest.mark.parametrize(
    ("kind", "field"),
    [
        ("certificate.proposed", "certificate"),
        ("key.registered", "vkey"),
        ("ballots.imported", "definition_sha256"),
        ("audit.round", "size"),
        ("board.vote", "motion"),
        ("election.defined", "election"),
    ],
)
def test_a_malformed_entry_is_a_problem_not_a_crash(
    kind: str, field: str, published: tuple[Path, Path], tmp_path: Path
) -> None:
    """An operator's log can hold anything it signed: an entry missing a field the rules
    need is reported where it is, and the other checks go on."""
    from canvass.demo.rewriting import find, resign, rewrite

    election, bundle = _copy(published, tmp_path)
    raw, index, entry = find(bundle, kind)
    data = {k: v for k, v in entry.data.items() if k != field}
    raw[index] = rewrite(entry, data=data)
    resign(bundle, raw, keys.read_key(election / "keys" / "operator.key"))
    report = _verify(bundle)
    assert not report.ok
    assert {c.name for c in report.checks} >= {"signatures", "certificates", "published"}
    problems = [p for c in report.checks for p in c.problems]
    assert any(f"no field {field!r}" in p or "cannot be checked" in p for p in problems), (
        report.text()
    )


def test_a_malformed_manifest_or_checkpoint_list_is_a_problem_not_a_crash(
    published: tuple[Path, Path], tmp_path: Path
) -> None:
    _, bundle = _copy(published, tmp_path)
    manifest = json.loads((bundle / "manifest.json").read_text())
    manifest["files"]["index.html"] = "not a table"
    (bundle / "manifest.json").write_text(json.dumps(manifest))
    (bundle / "log" / "checkpoints.json").write_text("42")
    failed = _failed(_verify(bundle))
    assert any(
        p.startswith('manifest.json files index.html: published "not a table", derived from the')
        for p in failed["published"]
    )
    assert "log/checkpoints.json: expected a list of signed checkpoints" in failed["log"]
    manifest["withheld"] = ["everything"]
    (bundle / "manifest.json").write_text(json.dumps(manifest))
    assert _cli("verify", str(bundle), "--no-trust-store") == (
        1,
        f"error: {bundle}/manifest.json: 'withheld' is not a table\n",
    )


def test_a_commitment_without_a_signed_checkpoint_before_the_seed_is_named(
    published: tuple[Path, Path], tmp_path: Path
) -> None:
    """The evidence that the frame was committed before the seed is a checkpoint the
    operator signed holding the commitment but not the seed: without one, the audit fails;
    and one whose signature does not verify is no evidence."""
    from canvass.demo.rewriting import find, rehash
    from canvass.log.note import parse_checkpoint_text, parse_note

    _, bundle = _copy(published, tmp_path)
    _, committed, _ = find(bundle, "audit.committed")
    _, seeded, seed_entry = find(bundle, "audit.seeded")
    notes = json.loads((bundle / "log" / "checkpoints.json").read_text())

    def size(note: str) -> int:
        return parse_checkpoint_text(parse_note(note).text).size

    between = [n for n in notes if committed < size(n) <= seeded]
    assert between  # the honest log has one
    kept = [n for n in notes if n not in between]
    forged = [b.replace(b.splitlines()[-1], b.splitlines()[-1][:-8] + "AAAAAAA=") for b in between]
    (bundle / "log" / "checkpoints.json").write_text(json.dumps(kept + forged))
    rehash(bundle, "log/checkpoints.json")
    failed = _failed(_verify(bundle))
    audit = seed_entry.data["audit"]
    assert (
        f"audit {audit}: no signed checkpoint holds its commitment (log entry {committed}) "
        f"without its seed (log entry {seeded})"
    ) in failed["audits"]


# --- every published file is what the log gives -----------------------------------------


def test_publishing_the_same_directory_twice_gives_the_same_bytes(
    published: tuple[Path, Path], tmp_path: Path
) -> None:
    election, bundle = _copy(published, tmp_path)
    store = ElectionDirectory.open(election)
    size = store.size()
    again = publish(store, tmp_path / "again")
    assert not again.recorded and store.size() == size  # nothing appended
    store.close()
    files = sorted(p.relative_to(bundle) for p in bundle.rglob("*") if p.is_file())
    assert files == sorted(
        p.relative_to(tmp_path / "again") for p in (tmp_path / "again").rglob("*") if p.is_file()
    )
    for path in files:
        assert (bundle / path).read_bytes() == (tmp_path / "again" / path).read_bytes(), path


def _first_audit(bundle: Path) -> str:
    return str(json.loads((bundle / "audits" / "index.json").read_text())["audits"][0]["name"])


def _unexplained_certificate(bundle: Path) -> str:
    index = json.loads((bundle / "certificates" / "index.json").read_text())
    return str(next(c["sha256"] for c in index["certificates"] if c["unexplained"]))


EDITS = {
    # path (with {audit} and {certificate} filled in) → (what is changed, old, new)
    "results/results.json": ("a number", '"ballots": ', '"ballots": 1'),
    "results/president.csv": ("a name", "county,", "county,Someone Else ,"),
    "results/nist-1500-100.json": ("a name", '"BallotName": {', '"BallotName": {"x": 1, '),
    "results/ranked-choice.json": ("a name", '"winners": [\n    "', '"winners": [\n    "x'),
    "reconciliation/units.csv": ("a number", ",no,", ",yes,"),
    "reconciliation/report.txt": ("a number", " out of balance", "0 out of balance"),
    "certificates/index.json": ("a number", '"unexplained": 1', '"unexplained": 0'),
    "certificates/{certificate}.txt": ("a word", " — unexplained", " — explained"),
    "audits/index.json": ("a risk", '"risk_limit": 10', '"risk_limit": 1'),
    "audits/{audit}.txt": ("a risk", "risk limit 10%", "risk limit 1%"),
    "index.html": ("a name", "<strong>", "<strong>Someone Else "),
    "contests/president.html": ("a number", '<td class="n">', '<td class="n">1'),
    "counties/c001.json": ("a number", '"votes":', '"votes":1'),
    "check.js": ("a word", "checkPage", "skipCheck"),
}


@pytest.mark.parametrize("how", ["manifest re-hashed", "log re-signed"])
@pytest.mark.parametrize("kind", list(EDITS))
def test_every_published_file_edited_is_named(
    kind: str, how: str, published: tuple[Path, Path], tmp_path: Path
) -> None:
    """A number, a name or a risk changed in any published file, with the manifest
    re-hashed — and again with the log's publication rewritten to name the changed file
    and the log re-signed with the operator's key — is named by the file and where in it."""
    from canvass.demo.rewriting import name_in_publication, rehash

    election, bundle = _copy(published, tmp_path)
    path = kind.format(audit=_first_audit(bundle), certificate=_unexplained_certificate(bundle))
    _, old, new = EDITS[kind]
    text = (bundle / path).read_text()
    assert old in text, (path, old)
    (bundle / path).write_text(text.replace(old, new, 1))
    rehash(bundle, path)
    if how == "log re-signed":
        name_in_publication(bundle, keys.read_key(election / "keys" / "operator.key"), path)
    report = _verify(bundle)
    failed = _failed(report)
    assert any(p.startswith(f"{path} ") for p in failed["published"]), failed
    if how == "log re-signed":
        assert f"no cosignature by {WITNESS}" in report.text()
    else:
        assert "log" not in failed  # the log is as it was: only the file and the manifest


def test_a_witness_key_held_tells_a_rewritten_log_the_first_time(
    published: tuple[Path, Path], tmp_path: Path
) -> None:
    """An insider rewrites the log and registers a witness of their own in place of the real
    one, cosigning with it: the log's own witnesses vouch for it, but an observer holding
    the real witness's key, seeing the bundle for the first time, names it."""
    from canvass.demo.rewriting import log_entries, resign, rewrite
    from canvass.log.entry import parse_entry
    from canvass.log.note import cosign, parse_note

    election, bundle = _copy(published, tmp_path)
    real = keys.read_key(published[0] / "demo-keys" / f"{WITNESS}.key")
    fake = keys.new_signer(WITNESS)
    raw = log_entries(bundle)
    for i, body in enumerate(raw):
        entry = parse_entry(body)
        if entry.type == "key.registered" and entry.data["name"] == WITNESS:
            raw[i] = rewrite(entry, data={**entry.data, "vkey": fake.verifier().encode()})
    resign(bundle, raw, keys.read_key(election / "keys" / "operator.key"))
    note = (bundle / "log" / "checkpoint").read_text()
    (bundle / "log" / "checkpoint").write_text(note + cosign(parse_note(note).text, fake, 1))
    from canvass.demo.rewriting import rehash

    rehash(bundle, "log/checkpoint")
    unaware = verify_bundle(open_source(str(bundle)), reingest=False)
    assert "log" not in _failed(unaware)  # the log's own witness vouches for it
    held = verify_bundle(
        open_source(str(bundle)), reingest=False, witnesses=[real.verifier().encode()]
    )
    problems = _failed(held)["log"]
    assert (
        f"witness {WITNESS}: the log registers key {fake.verifier().encode()}, not the one held "
        f"({real.verifier().encode()}): the log was rewritten, or the key is not the witness's"
    ) in problems
    assert any(f"no cosignature by {WITNESS}" in p for p in problems)
    # The trust store remembers the witness that cosigned a bundle verified before.
    trust = tmp_path / "trust.json"
    honest = _verify(published[1], trust)
    TrustStore(trust).remember(honest.origin, honest.operator, honest.checkpoint, honest.witnesses)
    assert TrustStore(trust).witnesses(honest.origin) == [real.verifier().encode()]


# --- only what the log vouches for, named so a person can read it -------------------------


def test_a_file_name_that_could_forge_a_line_or_pass_for_another_is_escaped(
    published: tuple[Path, Path], tmp_path: Path
) -> None:
    """Names beside the certificates holding a line break and a terminal escape, a letter
    from another alphabet, and a byte that is not UTF-8: each is named, escaped, in the
    report and on the command line, which exits 2 rather than crashing on the name."""
    import os

    _, bundle = _copy(published, tmp_path)
    (bundle / "certificates" / "x\n\x1b[32m✓ Everything holds.json").write_text("{}")
    (bundle / "certificates" / "\u0456ndex.json").write_text("{}")
    with open(os.fsencode(bundle / "certificates") + b"/\xff.json", "wb") as f:
        f.write(b"{}")
    problems = _failed(_verify(bundle))["files"]
    named = "not part of the election: the log neither gives this file nor names it"
    assert sorted(problems) == sorted(
        [
            f"certificates/x\\n\\x1b[32m\\u2713 Everything holds.json: {named}",
            f"certificates/\\u0456ndex.json: {named}",
            f"certificates/\\udcff.json: {named}",
        ]
    )
    code, text = _cli("verify", str(bundle), "--no-trust-store", "--no-reingest")
    assert code == 2
    assert "certificates/\\udcff.json: not part of the election" in text
    assert "\x1b" not in text and "\u0456" not in text


def test_a_key_given_twice_is_named(published: tuple[Path, Path], tmp_path: Path) -> None:
    """JSON readers differ on which of two values of one key they keep: a published file
    giving a key twice is named, whichever value comes first; so is a certificate
    document that does."""
    from canvass.certify.documents import parse_document
    from canvass.demo.rewriting import rehash
    from canvass.errors import VerificationError

    _, bundle = _copy(published, tmp_path)
    text = (bundle / "results" / "results.json").read_text()
    assert text.startswith('{\n "election": ')
    (bundle / "results" / "results.json").write_text(
        text.replace('{\n "election": ', '{\n "election": "another", "election": ', 1)
    )
    rehash(bundle, "results/results.json")
    problems = _failed(_verify(bundle))["published"]
    assert [p for p in problems if p.startswith("results/")] == [
        "results/results.json the key 'election' is given twice in one object; readers "
        "differ on which value they take"
    ]
    with pytest.raises(VerificationError, match="the key 'votes' is given twice"):
        parse_document(b'{"votes": 1, "votes": 11781}', "ab" * 32)
    assert parse_document(b'{"votes": 1, "ballots": {"votes": 2}}', "ab" * 32)["votes"] == 1


@pytest.mark.parametrize("how", ["manifest re-hashed", "log re-signed"])
def test_a_digit_changed_in_every_rendered_file_is_named_in_each(
    how: str, published: tuple[Path, Path], tmp_path: Path
) -> None:
    """Every file the publication lists — whatever pages the renderers make now or later —
    has its last digit changed; each is named by its path, with the manifest re-hashed and
    again with the publication rewritten to name the changed bytes and the log re-signed."""
    import re

    from canvass.demo.rewriting import find, name_in_publication, rehash

    election, bundle = _copy(published, tmp_path)
    _, _, entry = find(bundle, "bundle.published", last=True)
    listed = json.loads((bundle / "artifacts" / entry.artifacts[0].sha256).read_bytes())["files"]
    changed = []
    for path in listed:
        data = (bundle / path).read_bytes()
        digits = list(re.finditer(rb"[0-9]", data))
        if not digits:
            continue
        at = digits[-1].start()
        other = str((int(data[at : at + 1]) + 1) % 10).encode()
        (bundle / path).write_bytes(data[:at] + other + data[at + 1 :])
        changed.append(path)
    assert len(changed) > 30 and "index.html" in changed
    rehash(bundle, *changed)
    if how == "log re-signed":
        name_in_publication(bundle, keys.read_key(election / "keys" / "operator.key"), *changed)
    problems = _failed(_verify(bundle))["published"]
    unnamed = [p for p in changed if not any(q.startswith(f"{p} ") for q in problems)]
    assert not unnamed, (unnamed, problems[:10])


def test_nothing_the_log_says_can_end_or_forge_a_line_of_the_report(
    published: tuple[Path, Path], tmp_path: Path
) -> None:
    """An insider re-signs the log with a vote back-dated and its actor's name holding a
    line break, a terminal escape and a right-to-left mark: the report names it on one line,
    those characters escaped, while letters of other alphabets stay as they are."""
    from canvass.demo.rewriting import find, resign
    from canvass.log.entry import Entry

    election, bundle = _copy(published, tmp_path)
    raw, index, entry = find(bundle, "board.vote")
    forged = "José\n✓ Everything holds.\x1b[0m\u202e"
    raw[index] = Entry(
        type=entry.type,
        actor=forged,
        time="2000-01-01T00:00:00.000000Z",
        data=entry.data,
        artifacts=entry.artifacts,
    ).canonical()
    resign(bundle, raw, keys.read_key(election / "keys" / "operator.key"))
    text = verify_bundle(open_source(str(bundle)), reingest=False).text()
    assert "\x1b" not in text and "\u202e" not in text
    lines = [line for line in text.splitlines() if "back-dated" in line]
    assert len(lines) == 1
    assert "(board.vote by José\\n✓ Everything holds.\\x1b[0m\\u202e) is dated 2000-" in lines[0]
    assert not any(line.startswith("✓") for line in text.splitlines())
