"""What is fuzzed: each reader and loader, over files written to a folder, with its seeds.

A seed is a set of files (name → bytes): real samples from ``../shared/data`` when they
are beside the checkout, and the demo's own generated Dominion exports, which need nothing.
A target returns when the files were read, raises a :class:`~canvass.errors.CanvassError`
when they were refused; anything else it raises is a crash.
"""

from __future__ import annotations

import io
import json
import re
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT.parent / "shared" / "data"

Files = dict[str, bytes]


@dataclass(frozen=True)
class Target:
    name: str
    seeds: Callable[[], list[Files]]
    run: Callable[[Path, list[Path]], object]
    """Read the files (their paths, in the seed's order) as the product does."""


def _read(*parts: str) -> bytes | None:
    path = DATA.joinpath(*parts)
    return path.read_bytes() if path.is_file() else None


def _folder(*parts: str, suffixes: tuple[str, ...] = ()) -> Files:
    folder = DATA.joinpath(*parts)
    if not folder.is_dir():
        return {}
    return {
        p.name: p.read_bytes()
        for p in sorted(folder.iterdir())
        if p.is_file() and (not suffixes or p.suffix.lower() in suffixes)
    }


def _some(*files: Files | None) -> list[Files]:
    return [f for f in files if f]


def _zipped(files: Files, name: str) -> Files:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for member, data in files.items():
            z.writestr(member, data)
    return {name: out.getvalue()}


# --- seeds --------------------------------------------------------------------------------


@cache
def _demo_dominion() -> Files:
    from canvass.demo.cvrs import county_exports
    from canvass.demo.definition import demo_definition

    definition = demo_definition(counties=1, precincts=3)
    _, files = next(iter(county_exports(definition, ballots_per_precinct=8)))
    return dict(files)


def _dominion_seeds() -> list[Files]:
    manifests = _folder("dominion-sf2024", "manifests")
    sf = {**manifests, "CvrExport_0.json": _read("dominion-sf2024", "CvrExport_0.json") or b""}
    kansas = _folder("rctab", "dominion_multi_file", "dominion_multi_file_input_data")
    kansas = {k: v for k, v in kansas.items() if k != "CvrExport_1.json"}
    return _some(_demo_dominion(), sf if manifests else None, kansas)


def _small_dominion_seeds() -> list[Files]:
    """The Dominion seeds of a few megabytes at most: drafting reads every card of the
    export, and San Francisco's 12 MB file takes seconds a case."""
    return [s for s in _dominion_seeds() if sum(map(len, s.values())) < 4_000_000]


def _dominion_zip_seeds() -> list[Files]:
    return [_zipped(files, "export.zip") for files in _dominion_seeds()[:2]]


def _nist_cvr_seeds(suffix: str) -> list[Files]:
    seeds = []
    for case in ("gen-01", "prim-01"):
        data = _read("nist-cdf", "test_data", "synthetic", case, "cvr_v1", f"cvr-{case}{suffix}")
        if data:
            seeds.append({f"cvr{suffix}": data})
    if suffix == ".xml":
        data = _read("rctab", "nist_xml_cdf_2", "nist_xml_cdf_2.xml")
        if data:
            seeds.append({"cvr.xml": data})
    return seeds


def _err_seeds() -> list[Files]:
    """The synthetic reports, less the contests the import cannot read by design (straight
    party contests, whose selections name parties)."""
    seeds = []
    for case in ("gen-01", "prim-01"):
        data = _read("nist-cdf", "test_data", "synthetic", case, "err_v2", f"err-{case}.json")
        if data:
            doc = json.loads(data)
            for election in doc.get("Election", []):
                election["Contest"] = [
                    c
                    for c in election.get("Contest", [])
                    if all(
                        s.get("CandidateIds") or s.get("Selection") or s.get("IsWriteIn")
                        for s in c.get("ContestSelection", [])
                    )
                ]
            seeds.append({"err.json": json.dumps(doc, indent=1).encode()})
    return seeds


def _csv_seed(*parts: str, name: str = "cvr.csv", lines: int = 0) -> Files | None:
    data = _read(*parts)
    if data is None:
        return None
    if lines:
        data = b"\n".join(data.split(b"\n")[:lines])
    return {name: data}


def _generic_seeds() -> list[Files]:
    example = (
        b"card,batch,precinct,vote_type,Mayor,Council (Vote For=2),Judge (Ranks=3)\n"
        b"1,B1,P1,election_day,Ann Adams,Chen|Diaz,Lee>Kim\n"
        b"2,B1,P1,absentee,,Chen,-\n"
        b"3,B2,P2,early,Bo Baker,Diaz,Kim>>Lee\n"
    )
    return [{"cvr.csv": example}]


def _clear_ballot_seeds() -> list[Files]:
    return _some(
        _csv_seed("rctab", "clear_ballot_kansas_primary", "clear_ballot_kansas_primary.cvr.csv"),
        _csv_seed(
            "rctab", "clear_ballot_with_inline_comma", "clear_ballot_with_inline_comma.cvr.csv"
        ),
    )


def _dominion_csv_seeds() -> list[Files]:
    folder = DATA / "arlo" / "small-election"
    return _some(_csv_seed("arlo", "small-election", "Kendall Park - cvrs.csv")) if folder else []


def _manifest_seeds() -> list[Files]:
    return _some(
        _csv_seed("arlo", "small-election", "Kendall Park - ballot manifest.csv", name="m.csv"),
        _csv_seed("arlo", "medium-election", "Acton - ballot manifest.csv", name="m.csv"),
    )


_GA_CANDIDATES = ("trump", "biden", "jorgensen", "perdue", "ossoff", "hazel")


def _openelections_seeds() -> list[Files]:
    """Antrim County's OpenElections precinct file, its county named Adams."""
    data = _read("mi-2020", "antrim_precinct_results.csv")
    if data is None:
        return []
    lines = data.decode().splitlines(keepends=True)
    return [
        {
            "results.csv": "".join(
                lines[:1] + [re.sub(r"^Antrim,", "Adams,", line) for line in lines[1:120]]
            ).encode()
        }
    ]


def _results_seeds() -> list[Files]:
    """Georgia's first precincts, with the president's and the first Senate race's columns."""
    import csv

    seed = _csv_seed("ga-2020", "precinct_results_original_certification.csv", lines=40)
    if seed is None:
        return []
    rows = list(csv.reader(io.StringIO(seed["cvr.csv"].decode())))
    keep = [
        i
        for i, name in enumerate(rows[0])
        if name in ("CTYNAME", "PRECINCT_N", "reg_voters") or name.startswith(_GA_CANDIDATES)
    ]
    out = io.StringIO()
    csv.writer(out).writerows([[row[i] for i in keep] for row in rows if len(row) == len(rows[0])])
    return [{"r.csv": out.getvalue().encode()}]


def _rctab_seeds() -> list[Files]:
    seeds = []
    for case, extra in (
        ("generic_csv_test", ("generic_csv_test_cvr.csv",)),
        ("clear_ballot_kansas_primary", ("clear_ballot_kansas_primary.cvr.csv",)),
        ("batch_example", ("batch_example_cvr.xlsx",)),
        ("aliases_cdf_json", ("aliases_cdf_json_expected_cdf_cvr.json",)),
    ):
        config = _read("rctab", case, f"{case}_config.json")
        if config is None:
            continue
        files = {"config.json": config}
        doc = json.loads(config)
        for n, source in enumerate(doc.get("cvrFileSources", [])):
            data = _read("rctab", case, extra[n] if n < len(extra) else "")
            if data is None:
                break
            name = f"source{n}{Path(source['filePath']).suffix}"
            source["filePath"] = name
            files[name] = data
        else:
            files["config.json"] = json.dumps(doc, indent=1).encode()
            seeds.append(files)
    return seeds


def _ess_seeds() -> list[Files]:
    return _some(
        _csv_seed("rctab", "batch_example", "batch_example_cvr.xlsx", name="cvr.xlsx"),
        _csv_seed("rctab", "_shared", "simple_ess_cvr.xlsx", name="cvr.xlsx"),
    )


def _hart_seeds() -> list[Files]:
    files = _folder("rctab", "_shared", "hart_cvr_archive", suffixes=(".xml",))
    some = dict(list(files.items())[:6])
    return _some(some, _zipped(some, "cvrs.zip") if some else None)


def _definition_seeds() -> list[Files]:
    example = ROOT / "examples" / "election.yaml"
    seeds = [{"election.yaml": example.read_bytes()}]
    from canvass.demo.definition import demo_definition

    seeds.append({"election.json": json.dumps(demo_definition(counties=2, precincts=4)).encode()})
    return seeds


def _key_seeds() -> list[Files]:
    from canvass.keys import new_signer, write_key

    signer = new_signer("fuzz.example/operator")
    folder = Path(__import__("tempfile").mkdtemp())
    write_key(signer, folder / "operator.key")
    return [{p.name: p.read_bytes() for p in sorted(folder.iterdir())}]


# --- runs ---------------------------------------------------------------------------------


def _table(export: object) -> None:
    from canvass.ingest.ballots import to_parquet

    to_parquet(export.read("county"), export.contests)  # type: ignore[attr-defined]


def _run_open(fmt: str) -> Callable[[Path, list[Path]], object]:
    def run(folder: Path, paths: list[Path]) -> object:
        from canvass.ingest import open_export

        return _table(open_export(fmt, paths))

    return run


@cache
def _georgia_definition() -> object:
    from canvass.domain.definition import load_definition

    return load_definition(json.dumps(georgia_document()).encode(), "ga.json")


def georgia_document() -> dict[str, object]:
    """A definition of Georgia's counties in the results seed, with its contests' columns."""
    import csv

    seed = _results_seeds()
    rows = csv.DictReader(io.StringIO(seed[0]["r.csv"].decode())) if seed else []
    counties = sorted({row["CTYNAME"] for row in rows}) or ["MUSCOGEE"]
    candidates = list(_GA_CANDIDATES)
    doc = {
        "election": {"id": "ga", "name": "GA", "date": "2020-11-03", "state": "GA"},
        "jurisdictions": [{"id": "ga", "name": "Georgia", "kind": "state"}]
        + [
            {"id": f"c{n}", "name": f"{c.title()} County", "kind": "county", "parent": "ga"}
            for n, c in enumerate(counties)
        ],
        "candidates": [{"id": c, "name": c.title()} for c in candidates],
        "contests": [
            {
                "id": "pres",
                "name": "President",
                "type": "candidate",
                "jurisdiction": "ga",
                "candidates": candidates[:3],
            },
            {
                "id": "sen",
                "name": "Senate",
                "type": "candidate",
                "jurisdiction": "ga",
                "candidates": candidates[3:],
            },
        ],
    }
    return doc


@cache
def _err_definition() -> dict[str, object]:
    """For each ERR seed, a definition that names its contests and selections, so that a
    mutated report reaches the counting code."""
    from canvass.domain.definition import load_definition

    out: dict[str, object] = {}
    for seed in _err_seeds():
        doc = json.loads(seed["err.json"])
        election = doc["Election"][0]

        def text(value: object) -> str:
            if isinstance(value, dict):
                return str(value["Text"][0]["Content"])
            return str(value or "")

        names = {c["@id"]: text(c.get("BallotName")) for c in election.get("Candidate", [])}
        candidates: dict[str, str] = {}
        contests = []
        for n, contest in enumerate(election.get("Contest", [])):
            ids = []
            for selection in contest.get("ContestSelection", []):
                if selection.get("IsWriteIn"):
                    continue
                label = " / ".join(names.get(c, c) for c in selection.get("CandidateIds", []))
                label = label or text(selection.get("Selection")) or selection["@id"]
                cid = candidates.setdefault(label, f"k{len(candidates)}")
                if cid not in ids:
                    ids.append(cid)
            write_ins = int(any(s.get("IsWriteIn") for s in contest.get("ContestSelection", [])))
            contests.append(
                {
                    "write_ins": write_ins,
                    "id": f"c{n}",
                    "name": text(contest.get("Name")),
                    "type": "candidate",
                    "jurisdiction": "st",
                    "candidates": ids,
                    "votes_allowed": max(1, len(ids) + write_ins),
                }
            )
        definition = {
            "election": {"id": "e", "name": "E", "date": "2020-11-03", "state": "MD"},
            "jurisdictions": [{"id": "st", "name": "State", "kind": "state"}],
            "candidates": [{"id": i, "name": name} for name, i in candidates.items()],
            "contests": contests,
        }
        out[seed["err.json"][:200].hex()] = load_definition(
            json.dumps(definition).encode(), "d.json"
        )
    return out


def _run_err(folder: Path, paths: list[Path]) -> object:
    from canvass.ingest.nist_err import read_err

    definitions = list(_err_definition().values())
    if not definitions:
        return None
    # The definition written for the seed this case came from: the one whose contest names
    # the file holds most of.
    data = paths[0].read_bytes()
    best = max(
        definitions,
        key=lambda d: sum(c.name.encode() in data for c in d.contests),  # type: ignore[attr-defined]
    )
    return read_err(paths[0], best, "county")  # type: ignore[arg-type]


def _run_results(folder: Path, paths: list[Path]) -> object:
    from canvass.ingest.results_csv import read_precinct_results

    return read_precinct_results(
        paths[0],
        _georgia_definition(),
        "CTYNAME",
        "PRECINCT_N",  # type: ignore[arg-type]
    )


def _run_manifest(folder: Path, paths: list[Path]) -> object:
    from canvass.ingest.manifest import read_ballot_manifest

    return read_ballot_manifest(paths[0])


def _run_rctab(folder: Path, paths: list[Path]) -> object:
    from canvass.tabulate.rctab import read_ballots
    from canvass.tabulate.rctab_config import load_config
    from canvass.tabulate.rcv import tabulate_passes

    config = load_config(folder / "config.json")
    ballots = read_ballots(config)
    return tabulate_passes(ballots, config.rules, config.slices)


def _run_definition(folder: Path, paths: list[Path]) -> object:
    from canvass.domain.definition import load_definition

    return load_definition(paths[0].read_bytes(), paths[0].name)


def _run_keys(folder: Path, paths: list[Path]) -> object:
    from canvass.keys import read_key, read_public_key

    for path in paths:
        if path.suffix == ".pub":
            read_public_key(path)
        else:
            read_key(path)
    return None


def _run_draft(fmt: str) -> Callable[[Path, list[Path]], object]:
    """``canvass definition draft``: the draft from the export's files, then the draft read
    back as a definition (a draft a clerk cannot record must say why, by name)."""

    def run(folder: Path, paths: list[Path]) -> object:
        from canvass.domain.definition import load_definition
        from canvass.ingest.draft_sources import draft_definition

        text, _ = draft_definition(fmt, [("Fuzz", paths)], "MD", None, "Fuzz", "2024-11-05")
        return load_definition(text.encode(), "draft.yaml")

    return run


@cache
def _pollbook_places() -> object:
    from canvass.demo.definition import demo_definition
    from canvass.domain.definition import load_definition
    from canvass.reconcile.places import places

    doc = demo_definition(counties=1, precincts=3)
    return places(load_definition(json.dumps(doc).encode(), "d.json"))


def _pollbook_seeds() -> list[Files]:
    """A poll book for the demo's county, every precinct and vote type; and the tests'
    example in the format's documentation."""
    from canvass.demo.definition import demo_definition
    from canvass.reconcile.pollbook import COUNTS, KEYS, VOTE_TYPES

    doc = demo_definition(counties=1, precincts=3)
    county = next(j for j in doc["jurisdictions"] if j["kind"] == "county")
    precincts = [j for j in doc["jurisdictions"] if j["kind"] == "precinct"]
    lines = [",".join((*KEYS, *COUNTS))]
    for n, precinct in enumerate(precincts):
        for m, vote_type in enumerate(VOTE_TYPES):
            counts = [str((n * 7 + m * 3 + k) % 50) for k in range(len(COUNTS))]
            name = precinct["name"] if m % 2 else precinct["id"]
            lines.append(",".join((county["name"], f'"{name}"', vote_type, *counts)))
    return [{"pollbook.csv": ("\r\n".join(lines) + "\r\n").encode()}]


def _run_pollbook(folder: Path, paths: list[Path]) -> object:
    from canvass.reconcile.places import resolve
    from canvass.reconcile.pollbook import read_pollbook

    rows = read_pollbook(paths[0].read_bytes(), paths[0].name)
    return resolve(_pollbook_places(), rows, paths[0].name)  # type: ignore[arg-type]


TARGETS = {
    t.name: t
    for t in (
        Target("dominion", _dominion_seeds, _run_open("dominion")),
        Target("dominion-zip", _dominion_zip_seeds, _run_open("dominion")),
        Target("nist-cvr-json", lambda: _nist_cvr_seeds(".json"), _run_open("nist-cvr")),
        Target("nist-cvr-xml", lambda: _nist_cvr_seeds(".xml"), _run_open("nist-cvr")),
        Target("nist-err", _err_seeds, _run_err),
        Target("generic-csv", _generic_seeds, _run_open("generic-csv")),
        Target("clear-ballot", _clear_ballot_seeds, _run_open("clear-ballot")),
        Target("dominion-csv", _dominion_csv_seeds, _run_open("dominion-csv")),
        Target("precinct-results", _results_seeds, _run_results),
        Target("ballot-manifest", _manifest_seeds, _run_manifest),
        Target("rctab-config", _rctab_seeds, _run_rctab),
        Target("definition", _definition_seeds, _run_definition),
        Target("hart", _hart_seeds, _run_open("hart")),
        Target("ess", _ess_seeds, _run_open("ess")),
        Target("keys", _key_seeds, _run_keys),
        Target("pollbook", _pollbook_seeds, _run_pollbook),
        Target("draft-dominion", _small_dominion_seeds, _run_draft("dominion")),
        Target("draft-nist-err", _err_seeds, _run_draft("nist-err")),
        Target("draft-nist-cvr", lambda: _nist_cvr_seeds(".json"), _run_draft("nist-cvr")),
        Target("draft-generic-csv", _generic_seeds, _run_draft("generic-csv")),
        Target("draft-clear-ballot", _clear_ballot_seeds, _run_draft("clear-ballot")),
        Target("draft-hart", _hart_seeds, _run_draft("hart")),
    )
}


# --- the command line, end to end: all or nothing ------------------------------------------


class NotAllOrNothing(Exception):
    """A failed import changed the election directory."""


@cache
def _election() -> tuple[Path, str]:
    """An election directory holding the demo definition (one county), made once; each
    case imports into a copy of it."""
    import tempfile

    from canvass.app import elections
    from canvass.app.actor import Actor
    from canvass.demo.definition import demo_definition
    from canvass.store.election import ElectionDirectory

    definition = demo_definition(counties=1, precincts=3)
    folder = Path(tempfile.mkdtemp(prefix="fuzz-election-")) / "election"
    store = ElectionDirectory.init(folder, "fuzz.invalid/election", "clerk")
    elections.define(store, Actor("clerk"), json.dumps(definition).encode(), "election.json")
    store.close()
    county = next(j["id"] for j in definition["jurisdictions"] if j["kind"] == "county")
    return folder, county


def _state(folder: Path) -> dict[str, bytes]:
    """What a failed import must leave as it was: the log's entries, every file of the
    artifact store, and no other file (a staging folder left behind)."""
    import hashlib

    from canvass.store.election import ElectionDirectory

    store = ElectionDirectory.open(folder)
    try:
        entries = b"\n".join(store.entry_bytes())
    finally:
        store.close()
    state = {"log": entries}
    for path in sorted(folder.rglob("*")):
        relative = path.relative_to(folder).as_posix()
        if path.is_file() and not relative.startswith("canvass.db"):
            state[relative] = hashlib.sha256(path.read_bytes()).digest()
    return state


def _run_cli_import(fmt: str) -> Callable[[Path, list[Path]], object]:
    def run(folder: Path, paths: list[Path]) -> object:
        import shutil

        from typer.testing import CliRunner

        from canvass.cli import app
        from canvass.errors import IngestError

        template, county = _election()
        election = folder / "election"
        shutil.copytree(template, election)
        before = _state(election)
        result = CliRunner().invoke(
            app,
            ["import", str(election), "--county", county, "--format", fmt, *map(str, paths)],
            env={"CANVASS_ACTOR": "clerk"},
        )
        if result.exit_code == 1:
            after = _state(election)
            if after != before:
                changed = sorted(k for k in {*before, *after} if before.get(k) != after.get(k))
                raise NotAllOrNothing(f"a failed import changed {', '.join(changed)}")
            message = (result.stderr or result.output).strip().removeprefix("error: ")
            raise IngestError(message)
        if result.exit_code != 0:
            raise RuntimeError(
                f"exit status {result.exit_code}: {(result.stderr or result.output).strip()}"
            )
        return None

    return run


def _import_seeds() -> list[Files]:
    return [_demo_dominion()]


TARGETS["import-dominion"] = Target("import-dominion", _import_seeds, _run_cli_import("dominion"))
TARGETS["import-dominion-zip"] = Target(
    "import-dominion-zip",
    lambda: [_zipped(_demo_dominion(), "export.zip")],
    _run_cli_import("dominion"),
)


# --- the verifier, over mutated bundles ----------------------------------------------------


@cache
def _bundle() -> Path:
    """A small demo election (two counties), canvassed, certified, audited and published,
    made once; each case verifies a copy of its bundle with one file mutated."""
    import tempfile

    from canvass.app.actor import Actor
    from canvass.app.publishing import publish
    from canvass.demo.build import build_demo

    root = Path(tempfile.mkdtemp(prefix="fuzz-bundle-"))
    run = build_demo(root / "election", False, 2, 6, 2026, 30)
    publish(run.store, Actor("clerk"), root / "bundle", [], False)
    run.store.close()
    return root / "bundle"


_SEP = "__"  # a bundle path's "/" in the name of a case's file


def _bundle_seeds() -> list[Files]:
    """Each file of the bundle is a seed: a case mutates one of them."""
    bundle = _bundle()
    return [
        {p.relative_to(bundle).as_posix().replace("/", _SEP): p.read_bytes()}
        for p in sorted(bundle.rglob("*"))
        if p.is_file()
    ]


def _run_verify(folder: Path, paths: list[Path]) -> object:
    import hashlib
    import shutil

    from typer.testing import CliRunner

    from canvass.cli import app
    from canvass.errors import VerificationError

    bundle = folder / "bundle"
    shutil.copytree(_bundle(), bundle)
    for path in paths:
        name = path.name.replace(_SEP, "/")
        target = bundle / name
        if target.exists():
            target.chmod(0o644)
        data = path.read_bytes()
        target.write_bytes(data)
        # Half the cases list the mutated file's new SHA-256 in the manifest, as a forger
        # would, so that the checks past the files' hashes read it.
        if name != "manifest.json" and hashlib.sha256(data).digest()[0] & 1:
            manifest = bundle / "manifest.json"
            doc = json.loads(manifest.read_bytes())
            if isinstance(doc.get("files"), dict) and name in doc["files"]:
                doc["files"][name] = hashlib.sha256(data).hexdigest()
                manifest.chmod(0o644)
                manifest.write_text(json.dumps(doc))
    result = CliRunner().invoke(app, ["verify", str(bundle), "--no-trust-store"])
    if result.exit_code == 0:
        return None
    if result.exit_code == 1:
        raise VerificationError((result.stderr or result.output).strip().removeprefix("error: "))
    if result.exit_code == 2 and result.stdout.strip():  # the report, naming its problems
        first = next(
            (line.strip() for line in result.stdout.splitlines() if line.startswith("  ")),
            "the report names problems",
        )
        raise VerificationError(first)
    raise RuntimeError(
        f"exit status {result.exit_code}: {(result.stderr or result.stdout).strip()[-2000:]}"
    )


TARGETS["verify"] = Target("verify", _bundle_seeds, _run_verify)


# --- the officials' application: request bodies and uploads --------------------------------


@cache
def _office() -> tuple[object, dict[str, tuple[object, str]]]:
    """The test suite's Wayne County office (its officials signed in, a client each), made
    once; each case is one request to it."""
    import tempfile

    from fastapi.testclient import TestClient

    from tests.officials import make_office, sign_in

    people = [
        ("admin", "Jocelyn Benson", "state-admin", ""),
        ("clerk.wayne", "Cathy Garrett", "county-clerk", "wayne"),
        ("secretary", "Secretary of State", "state-official", ""),
    ]
    office = make_office(Path(tempfile.mkdtemp(prefix="fuzz-office-")), people)
    clients = {}
    for username in office.officials:
        client = TestClient(
            office.app, base_url="https://testserver", raise_server_exceptions=False
        )
        clients[username] = (client, sign_in(client, office.officials[username]))
    return office, clients


_WEB_POLLBOOK = (
    "county,precinct,vote_type,checkins,absentee_received,absentee_accepted,"
    "absentee_rejected,provisional_issued,provisional_accepted,ballots_issued,"
    "ballots_spoiled,ballots_unused\n"
    + "".join(
        f"wayne,wayne-avcb-{n},absentee,0,{40 + n},{39 + n},1,0,0,0,0,0\n"
        f"wayne,Detroit AVCB {n},election_day,{12 * n},0,0,0,1,1,{12 * n + 3},2,1\n"
        for n in range(1, 9)
    )
)


def _web_seeds() -> list[Files]:
    return [
        {"accounts.json": b'{"username": "w1", "full_name": "W One", "role": "observer"}'},
        {
            "explanations.json": b'{"precinct": "wayne-avcb-1", "vote_type": "absentee", '
            b'"reason": "other", "text": "two ballots were found in the tray"}'
        },
        {"pollbook.csv": _WEB_POLLBOOK.encode()},
        {"electors.yaml": b"biden:\n  - Ann Arbor\n  - Bo Baker\ntrump: [Cy Chen]\n"},
        {"document.json": b'{"document": "certificate-of-ascertainment", "votes": {"a": 1}}'},
    ]


def _run_web(folder: Path, paths: list[Path]) -> object:
    """One request made of the case's file: a JSON body, an upload, or a form's text field.
    A server error, a page that shows a traceback or a server path, or a message of more
    than one line is a crash; a refusal (4xx) with one line is a named error."""
    from canvass.errors import IngestError

    office, clients = _office()
    path = paths[0]
    data = path.read_bytes()
    if path.name == "accounts.json":
        client, csrf = clients["admin"]
        response = client.post(  # type: ignore[attr-defined]
            "/api/accounts",
            headers={"X-CSRF-Token": csrf, "content-type": "application/json"},
            content=data,
        )
    elif path.name == "explanations.json":
        client, csrf = clients["clerk.wayne"]
        response = client.post(  # type: ignore[attr-defined]
            "/api/counties/wayne/explanations",
            headers={"X-CSRF-Token": csrf, "content-type": "application/json"},
            content=data,
        )
    elif path.name == "pollbook.csv":
        client, csrf = clients["clerk.wayne"]
        response = client.post(  # type: ignore[attr-defined]
            "/api/counties/wayne/pollbooks",
            headers={"X-CSRF-Token": csrf},
            files=[("pollbook", ("pollbook.csv", data, "text/csv"))],
        )
    else:
        client, csrf = clients["secretary"]
        field, route = (
            ("electors", "/api/state/ascertainment/prepare")
            if path.name == "electors.yaml"
            else ("document", "/api/state/ascertainment")
        )
        response = client.post(  # type: ignore[attr-defined]
            route,
            headers={"X-CSRF-Token": csrf},
            data={field: data.decode("utf-8", "replace"), "contest": "president"},
        )
    body = response.text
    from tests.test_web_errors import leaks

    found = leaks(body, [office.directory, Path(__import__("tempfile").gettempdir())])  # type: ignore[attr-defined]
    if response.status_code >= 500 or found:
        raise RuntimeError(f"HTTP {response.status_code} ({', '.join(found)}): {body[:2000]}")
    if response.status_code >= 400:
        message = str(response.json().get("error", ""))
        if not message or "\n" in message:
            raise RuntimeError(f"HTTP {response.status_code} with the message {message!r}")
        raise IngestError(message)
    return None


TARGETS["web"] = Target("web", _web_seeds, _run_web)
