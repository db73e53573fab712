"""The tamper drill: "find 11,780 votes", and every other way to change a count after the
fact, each tried on a copy of a published bundle; the verifier must catch every one and
name it.

The tamperer here is an insider who holds the log operator's private key and so can
re-sign a rewritten log. What they cannot do is sign as a board member, a state official
or a witness, or change what an observer saw before: those are what catch them.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import json
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import rfc8785
from sqlalchemy import update

from canvass import keys, signing
from canvass.app.actor import Actor
from canvass.app.boards import open_correction, propose_county
from canvass.app.folds import canvass
from canvass.app.imports import import_ballots
from canvass.app.publishing import publish, record_publication
from canvass.certify.canvass import ascertainment_statement
from canvass.certify.statements import sign
from canvass.demo import rewriting
from canvass.demo.build import WITNESS
from canvass.demo.rewriting import VOTES
from canvass.log.entry import ArtifactRef, Entry, parse_entry
from canvass.log.note import Signer
from canvass.log.tiles import write_tiles
from canvass.store import schema as s
from canvass.store.election import ARTIFACTS_DIR, DB_FILE, OPERATOR_KEY, ElectionDirectory
from canvass.verify import Report, TrustStore, open_source, verify_bundle


@dataclass(frozen=True)
class Tamper:
    name: str
    what: str
    expect: str
    """Words the verifier's report must contain: the reason it names."""
    check: str
    """The check that names it (``directory``: ``canvass log verify`` on the election
    directory, the bundle being unaffected)."""


TAMPERS = (
    Tamper(
        "certified-total",
        f"add {VOTES:,} votes to the runner-up's published statewide total (manifest "
        "re-hashed to match)",
        "results/results.json contests president votes",
        "published",
    ),
    Tamper(
        "contest-csv",
        f"add {VOTES:,} votes to the runner-up in a county's row of results/president.csv "
        "(manifest re-hashed)",
        "results/president.csv line",
        "published",
    ),
    Tamper(
        "nist-report",
        f"add {VOTES:,} votes to the runner-up in the NIST SP 1500-100 report a newspaper "
        "reads (manifest re-hashed)",
        "results/nist-1500-100.json Election",
        "published",
    ),
    Tamper(
        "ranked-choice",
        "make the ranked-choice runner-up the winner in results/ranked-choice.json "
        "(manifest re-hashed)",
        "results/ranked-choice.json congress-2",
        "published",
    ),
    Tamper(
        "results-page",
        f"add {VOTES:,} votes to the runner-up on the contest's results page, "
        "contests/president.html (manifest re-hashed)",
        "contests/president.html line",
        "published",
    ),
    Tamper(
        "audit-risk",
        "set an audit's risk limit to 0.01% in audits/index.json (manifest re-hashed)",
        "audits/index.json audits 0 risk_limit",
        "published",
    ),
    Tamper(
        "reconciliation",
        "balance an out-of-balance precinct in reconciliation/units.csv (manifest re-hashed)",
        "reconciliation/units.csv line",
        "published",
    ),
    Tamper(
        "re-signed-publication",
        f"add {VOTES:,} votes to results/results.json, rewrite the log's publication entry "
        "to name it, and re-sign the log",
        "derived from the log",
        "published",
    ),
    Tamper(
        "forged-slate-beside",
        "place the runner-up's slate of electors, signed by an unregistered key, beside the "
        "certificates as certificates/ascertainment-alternate.json",
        "certificates/ascertainment-alternate.json: not part of the election",
        "files",
    ),
    Tamper(
        "forged-slate-in-index",
        "name the runner-up's forged slate in certificates/index.json as the certificate of "
        "ascertainment (manifest re-hashed)",
        "certificates/index.json ascertainments",
        "published",
    ),
    Tamper(
        "forged-slate-in-publication",
        "place the forged slate beside the certificates and name it in the log's publication "
        "as a published file, re-signing the log",
        "certificates/ascertainment-alternate.json: not part of the election",
        "files",
    ),
    Tamper(
        "unsigned-entry",
        "append the forged slate to the log's entries as a certificate of ascertainment, in "
        "tiles no signed checkpoint covers (manifest re-hashed)",
        "log/tile/entries/",
        "files",
    ),
    Tamper(
        "repeated-key",
        f"give the runner-up's statewide total twice in results/results.json, {VOTES:,} "
        "more first (a reader that keeps the first value shows it), manifest re-hashed",
        "is given twice in one object",
        "published",
    ),
    Tamper(
        "look-alike-name",
        "place a forged certificate index beside the real one under a name that looks the "
        "same (a Cyrillic і), manifest re-hashed",
        "certificates/\\u0456ndex.json: not part of the election",
        "files",
    ),
    Tamper(
        "county-change",
        "after a correction re-certifies a county with 30 fewer cards, present the state "
        "certificate resting on its old certificate as still in force",
        'standing: published "in force", derived from the log "superseded-by-county-change"',
        "published",
    ),
    Tamper(
        "ballot-table",
        f"add {VOTES:,} ballots for the runner-up to a county's ballot table and point the "
        "log at it, re-signing the log",
        "rests on ballot tables",
        "certificates",
    ),
    Tamper(
        "county-certificate",
        f"add {VOTES:,} votes to the runner-up in a county certificate",
        "the artifact was altered",
        "artifacts",
    ),
    Tamper(
        "hidden-imbalances",
        "rewrite a county certificate to leave out the imbalances it leaves unexplained, "
        "re-signing the log",
        "the signature is not",
        "signatures",
    ),
    Tamper(
        "database",
        f"point a county's import, in the database, at a ballot table with {VOTES:,} more "
        "votes for the runner-up, then publish: the bundle is rendered from the log, not "
        "the database",
        "table ballot_import, row",
        "directory",
    ),
    Tamper(
        "forged-signature",
        "replace a board member's vote with one signed by a key of the same name, re-signing "
        "the log",
        "the signature is not",
        "signatures",
    ),
    Tamper(
        "re-seated-board",
        "seat a certified county's board again with one member of the tamperer's choosing, "
        "re-signing the log",
        "cannot change while that certificate is in force",
        "signatures",
    ),
    Tamper(
        "replaced-reading",
        "rewrite an audit board's reading to remove a discrepancy, re-signing the log",
        "over this audit-reading",
        "signatures",
    ),
    Tamper(
        "back-dated-vote",
        "date a board member's vote a day earlier, re-signing the log",
        "back-dated",
        "log",
    ),
    Tamper(
        "removed-entry",
        "remove a clerk's explanation of an imbalance from the log, re-signing it",
        "rolled back",
        "log",
    ),
    Tamper(
        "split-view",
        "show this observer a log of the same size with one audit reading changed",
        "forked",
        "log",
    ),
    Tamper(
        "swapped-electors",
        "swap in the runner-up's slate of electors, signed by an unregistered key",
        "over this certificate-of-ascertainment",
        "signatures",
    ),
)


# --- the tampers ---------------------------------------------------------------------------


def _certified_total(bundle: Path, election: Path, operator: Signer) -> None:
    _, runner_up = rewriting.runner_up(bundle)

    def add(doc: Any) -> None:
        doc["contests"]["president"]["votes"][runner_up] += VOTES

    rewriting.edit_json(bundle, "results/results.json", add)


def _contest_csv(bundle: Path, election: Path, operator: Signer) -> None:
    _, runner_up = rewriting.runner_up(bundle)
    names = json.loads((bundle / "results" / "results.json").read_text())["choices"]
    path = bundle / "results" / "president.csv"
    rows = list(csv.reader(io.StringIO(path.read_text())))
    column = rows[0].index(names[f"president/{runner_up}"])
    rows[1][column] = str(int(rows[1][column]) + VOTES)
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows(rows)
    path.write_text(out.getvalue())
    rewriting.rehash(bundle, "results/president.csv")


def _nist_report(bundle: Path, election: Path, operator: Signer) -> None:
    _, runner_up = rewriting.runner_up(bundle)

    def add(doc: Any) -> None:
        [contest] = [c for c in doc["Election"][0]["Contest"] if c["@id"] == "con-president"]
        [choice] = [
            s for s in contest["ContestSelection"] if s["@id"] == f"sel-president-{runner_up}"
        ]
        choice["VoteCounts"][0]["Count"] += VOTES

    rewriting.edit_json(bundle, "results/nist-1500-100.json", add)


def _ranked_choice(bundle: Path, election: Path, operator: Signer) -> None:
    def swap(doc: Any) -> None:
        final = doc["congress-2"][-1]
        last = final["rounds"][-1]
        ranked = sorted(last["tally"], key=lambda c: -float(last["tally"][c]))
        final["winners"] = [ranked[1]]
        last["elected"] = [ranked[1]]
        last["tally"][ranked[1]], last["tally"][ranked[0]] = (
            last["tally"][ranked[0]],
            last["tally"][ranked[1]],
        )

    rewriting.edit_json(bundle, "results/ranked-choice.json", swap)


def _results_page(bundle: Path, election: Path, operator: Signer) -> None:
    _, runner_up = rewriting.runner_up(bundle)
    results = json.loads((bundle / "results" / "results.json").read_text())
    name = results["choices"][f"president/{runner_up}"]
    votes = results["contests"]["president"]["votes"][runner_up]
    path = bundle / "contests" / "president.html"
    page = path.read_text()
    row = f'<th scope="row">{name}</th><td class="n">{votes:,}</td>'
    assert row in page
    forged = f'<th scope="row">{name}</th><td class="n">{votes + VOTES:,}</td>'
    path.write_text(page.replace(row, forged, 1))
    rewriting.rehash(bundle, "contests/president.html")


def _audit_risk(bundle: Path, election: Path, operator: Signer) -> None:
    def lower(doc: Any) -> None:
        doc["audits"][0]["risk_limit"] = 0.01

    rewriting.edit_json(bundle, "audits/index.json", lower)


def _reconciliation(bundle: Path, election: Path, operator: Signer) -> None:
    path = bundle / "reconciliation" / "units.csv"
    rows = list(csv.reader(io.StringIO(path.read_text())))
    header = rows[0]
    row = next(r for r in rows[1:] if r[header.index("balanced")] == "no")
    row[header.index("voters")] = row[header.index("tabulated")]
    row[header.index("difference")] = row[header.index("stock_difference")] = "0"
    row[header.index("balanced")] = "yes"
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows(rows)
    path.write_text(out.getvalue())
    rewriting.rehash(bundle, "reconciliation/units.csv")


def _re_signed_publication(bundle: Path, election: Path, operator: Signer) -> None:
    _certified_total(bundle, election, operator)
    rewriting.name_in_publication(bundle, operator, "results/results.json")


def _forged_slate(bundle: Path) -> tuple[bytes, str]:
    """The runner-up's slate of electors, as a certificate of ascertainment signed by a key
    of the official's name that is not the registered one: the document and its
    signature."""
    _, _, entry = rewriting.find(bundle, "ascertainment.issued")
    doc = json.loads((bundle / "artifacts" / entry.artifacts[0].sha256).read_bytes())
    _, runner_up = rewriting.runner_up(bundle)
    doc["appointed"] = doc["electors"][runner_up]
    data = bytes(rfc8785.dumps(doc))
    impostor = keys.new_signer(entry.data["official"])
    election_id = rewriting.find(bundle, "election.defined")[2].data["election"]
    statement = ascertainment_statement(election_id, hashlib.sha256(data).hexdigest())
    return data, sign(impostor, statement)


def _forged_slate_beside(bundle: Path, election: Path, operator: Signer) -> None:
    data, signature = _forged_slate(bundle)
    doc = {"certificate": json.loads(data), "signature": signature}
    path = "certificates/ascertainment-alternate.json"
    (bundle / path).write_text(json.dumps(doc, indent=1) + "\n")
    rewriting.rehash(bundle, path)


def _forged_slate_in_index(bundle: Path, election: Path, operator: Signer) -> None:
    data, _ = _forged_slate(bundle)
    sha = rewriting.put_artifact(bundle, data)

    def name(doc: Any) -> None:
        doc["ascertainments"][-1]["sha256"] = sha

    rewriting.edit_json(bundle, "certificates/index.json", name)


def _forged_slate_in_publication(bundle: Path, election: Path, operator: Signer) -> None:
    _forged_slate_beside(bundle, election, operator)
    rewriting.name_in_publication(bundle, operator, "certificates/ascertainment-alternate.json")


def _unsigned_entry(bundle: Path, election: Path, operator: Signer) -> None:
    raw, _, entry = rewriting.find(bundle, "ascertainment.issued")
    old = entry.artifacts[0]
    slate, signature = _forged_slate(bundle)
    sha = rewriting.put_artifact(bundle, slate)
    ref = ArtifactRef(sha, old.name, old.media_type, len(slate))
    said = {**entry.data, "certificate": sha, "signature": signature}
    raw.append(rewriting.rewrite(entry, time=parse_entry(raw[-1]).time, data=said, artifacts=[ref]))
    added = []
    for path, tile in write_tiles(raw):
        target = bundle / "log" / path
        if not target.exists():
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(tile)
            added.append(f"log/{path}")
    rewriting.rehash(bundle, *added)


def _repeated_key(bundle: Path, election: Path, operator: Signer) -> None:
    _, runner_up = rewriting.runner_up(bundle)
    path = bundle / "results" / "results.json"
    honest = json.loads(path.read_text())["contests"]["president"]["votes"][runner_up]
    said = f'"{runner_up}": {honest}'
    text = path.read_text()
    assert said in text
    path.write_text(text.replace(said, f'"{runner_up}": {honest + VOTES}, {said}', 1))
    rewriting.rehash(bundle, "results/results.json")


def _look_alike_name(bundle: Path, election: Path, operator: Signer) -> None:
    data, _ = _forged_slate(bundle)
    sha = rewriting.put_artifact(bundle, data)
    index = json.loads((bundle / "certificates" / "index.json").read_text())
    index["ascertainments"][-1]["sha256"] = sha
    path = "certificates/\u0456ndex.json"
    (bundle / path).write_text(json.dumps(index, indent=1, ensure_ascii=False) + "\n")
    rewriting.rehash(bundle, path)


def _county_change(bundle: Path, election: Path, operator: Signer) -> None:
    # What the officials do, in the open: a correction in one county re-imports its CVRs
    # with 30 fewer cards and its board certifies again. The state certificate rests on
    # the county certificate now superseded.
    store = ElectionDirectory.open(election)
    clerk = Actor("clerk")
    boards = canvass(store).boards
    county = sorted(b.removeprefix("county:") for b in boards if b != "state")[0]
    board = f"county:{county}"
    open_correction(store, clerk, county, "30 cards of another county were scanned here")
    rewriting.corrected_export(store, county, election / "corrected" / county, 30)
    import_ballots(
        store, clerk, county, "dominion", [election / "corrected" / county], replace=True
    )
    cert = propose_county(store, clerk, county, reason="30 cards removed")
    members = [
        keys.read_key(election / "demo-keys" / f"{m.key}.key") for m in boards[board].members
    ]
    motion = signing.move(store, members[0], board, "certify", cert, "Certify the correction")
    for member in members:
        signing.vote(store, member, motion, "yes")
    record_publication(store, clerk)
    signing.witness(store, keys.read_key(election / "demo-keys" / f"{WITNESS}.key"), 1_900_000_000)
    publish(store, clerk, bundle, replace=True)
    store.close()

    # What the tamperer does: the bundle shows the state certificate as still in force.
    def in_force(doc: Any) -> None:
        for c in doc["certificates"]:
            if c["standing"] == "superseded-by-county-change":
                c["standing"], c["superseded_by_county_change"] = "in force", None

    rewriting.edit_json(bundle, "certificates/index.json", in_force)


def _ballot_table(bundle: Path, election: Path, operator: Signer) -> None:
    _, runner_up = rewriting.runner_up(bundle)
    raw, index, entry = rewriting.find(bundle, "ballots.imported")
    old = next(r for r in entry.artifacts if r.name.endswith(".parquet"))
    data = rewriting.stuffed_table((bundle / "artifacts" / old.sha256).read_bytes(), runner_up)
    sha = rewriting.put_artifact(bundle, data)
    refs = [
        ArtifactRef(sha, r.name, r.media_type, len(data)) if r == old else r
        for r in entry.artifacts
    ]
    raw[index] = rewriting.rewrite(
        entry, artifacts=refs, data={**entry.data, "cards": entry.data.get("cards", 0) + VOTES}
    )
    rewriting.resign(bundle, raw, operator)


def _county_certificate_total(bundle: Path, election: Path, operator: Signer) -> None:
    _, runner_up = rewriting.runner_up(bundle)
    _, entry = rewriting.county_certificate([parse_entry(r) for r in rewriting.log_entries(bundle)])
    path = bundle / "artifacts" / entry.data["certificate"]
    doc = json.loads(path.read_bytes())
    doc["results"]["president"]["votes"][runner_up] += VOTES
    path.write_bytes(bytes(rfc8785.dumps(doc)))
    rewriting.rehash(bundle, f"artifacts/{entry.data['certificate']}")


def _hidden_imbalances(bundle: Path, election: Path, operator: Signer) -> None:
    raw = rewriting.log_entries(bundle)
    entries = [parse_entry(r) for r in raw]
    old = next(
        e.data["certificate"]
        for e in entries
        if e.type == "certificate.proposed" and e.data.get("unexplained")
    )
    doc = json.loads((bundle / "artifacts" / old).read_bytes())
    doc["reconciliation"]["unexplained"] = []
    data = bytes(rfc8785.dumps(doc))
    new = rewriting.put_artifact(bundle, data)
    for i, e in enumerate(entries):
        if e.data.get("certificate") == old:
            changed = {**e.data, "certificate": new}
            if e.type == "certificate.proposed":
                changed["unexplained"] = 0
            refs = [
                ArtifactRef(new, r.name, r.media_type, len(data)) if r.sha256 == old else r
                for r in e.artifacts
            ]
            raw[i] = rewriting.rewrite(e, data=changed, artifacts=refs)
    rewriting.resign(bundle, raw, operator)


def _database(bundle: Path, election: Path, operator: Signer) -> None:
    _, runner_up = rewriting.runner_up(bundle)
    store = ElectionDirectory.open(election)
    with store.engine.connect() as conn:
        row = conn.execute(
            s.ballot_import.select().where(s.ballot_import.c.kind == "ballots").limit(1)
        ).first()
    assert row is not None
    forged = rewriting.stuffed_table(store.artifacts.get(row.table_sha256), runner_up)
    sha = store.artifacts.put(forged)
    with store.engine.begin() as conn:
        conn.execute(
            update(s.ballot_import)
            .where(s.ballot_import.c.entry == row.entry)
            .values(table_sha256=sha)
        )
    publish(store, Actor("operator"), bundle, replace=True)
    store.close()


def _forged_signature(bundle: Path, election: Path, operator: Signer) -> None:
    raw, index, entry = rewriting.find(bundle, "board.vote")
    impostor = keys.new_signer(entry.data["member"])
    forged = sign(impostor, {"statement": "vote", "forged": True})
    raw[index] = rewriting.rewrite(entry, data={**entry.data, "signature": forged})
    rewriting.resign(bundle, raw, operator)


def _re_seated_board(bundle: Path, election: Path, operator: Signer) -> None:
    raw = rewriting.log_entries(bundle)
    entries = [parse_entry(r) for r in raw]
    seated = [e for e in entries if e.type == "board.constituted"]
    board, other = seated[0], seated[1]
    members = [*board.data["members"][1:]]
    stranger = next(
        m for m in other.data["members"] if m["party"] == board.data["members"][0]["party"]
    )
    members.insert(0, stranger)
    reseat = Entry(
        "board.constituted",
        board.actor,
        entries[-1].time,
        {**board.data, "members": members, "reason": "a member resigned"},
    )
    publication = entries[-1]
    raw[-1:] = [
        reseat.canonical(),
        rewriting.rewrite(publication, data={**publication.data, "log_size": len(raw)}),
    ]
    rewriting.resign(bundle, raw, operator)


def _replaced_reading(bundle: Path, election: Path, operator: Signer) -> None:
    raw = rewriting.log_entries(bundle)
    winner, _ = rewriting.runner_up(bundle)
    for i, r in enumerate(raw):
        entry = parse_entry(r)
        if entry.type == "audit.interpreted" and entry.data["votes"] == []:
            raw[i] = rewriting.rewrite(entry, data={**entry.data, "votes": [winner]})
            break
    rewriting.resign(bundle, raw, operator)


def _back_dated_vote(bundle: Path, election: Path, operator: Signer) -> None:
    raw, index, entry = rewriting.find(bundle, "board.vote", last=True)
    when = dt.datetime.fromisoformat(entry.time.replace("Z", "+00:00")) - dt.timedelta(days=1)
    earlier = when.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    raw[index] = rewriting.rewrite(entry, time=earlier)
    rewriting.resign(bundle, raw, operator)


def _removed_entry(bundle: Path, election: Path, operator: Signer) -> None:
    raw, index, _ = rewriting.find(bundle, "reconciliation.explained")
    rewriting.resign(bundle, raw[:index] + raw[index + 1 :], operator)


def _split_view(bundle: Path, election: Path, operator: Signer) -> None:
    raw, index, entry = rewriting.find(bundle, "audit.interpreted")
    raw[index] = rewriting.rewrite(entry, data={**entry.data, "votes": []})
    rewriting.resign(bundle, raw, operator)


def _swapped_electors(bundle: Path, election: Path, operator: Signer) -> None:
    raw, index, entry = rewriting.find(bundle, "ascertainment.issued")
    old = entry.artifacts[0]
    data, signature = _forged_slate(bundle)
    sha = rewriting.put_artifact(bundle, data)
    ref = ArtifactRef(sha, old.name, old.media_type, len(data))
    raw[index] = rewriting.rewrite(
        entry, data={**entry.data, "certificate": sha, "signature": signature}, artifacts=[ref]
    )
    rewriting.resign(bundle, raw, operator)


_DO: dict[str, Callable[[Path, Path, Signer], None]] = {
    "certified-total": _certified_total,
    "contest-csv": _contest_csv,
    "nist-report": _nist_report,
    "ranked-choice": _ranked_choice,
    "results-page": _results_page,
    "audit-risk": _audit_risk,
    "reconciliation": _reconciliation,
    "re-signed-publication": _re_signed_publication,
    "forged-slate-beside": _forged_slate_beside,
    "forged-slate-in-index": _forged_slate_in_index,
    "forged-slate-in-publication": _forged_slate_in_publication,
    "unsigned-entry": _unsigned_entry,
    "repeated-key": _repeated_key,
    "look-alike-name": _look_alike_name,
    "county-change": _county_change,
    "ballot-table": _ballot_table,
    "county-certificate": _county_certificate_total,
    "hidden-imbalances": _hidden_imbalances,
    "database": _database,
    "forged-signature": _forged_signature,
    "re-seated-board": _re_seated_board,
    "replaced-reading": _replaced_reading,
    "back-dated-vote": _back_dated_vote,
    "removed-entry": _removed_entry,
    "split-view": _split_view,
    "swapped-electors": _swapped_electors,
}
CHANGE_THE_DIRECTORY = ("database", "county-change")
"""The tampers that change the election directory (each on its own copy)."""


def tamper(name: str, bundle: Path, election: Path) -> None:
    """Apply one tamper to ``bundle`` (a copy), as an insider holding the operator key of
    the election directory at ``election`` (also a copy: the database tamper changes it)."""
    _DO[name](bundle, election, keys.read_key(election / OPERATOR_KEY))


@dataclass
class Outcome:
    tamper: Tamper
    report: Report
    directory: list[str] = field(default_factory=list)
    """What ``canvass log verify`` says of the election directory, where it was changed."""

    @property
    def caught(self) -> bool:
        """Named by the check that must catch it (the directory's check: the bundle, made
        from the log, is unaffected and verifies)."""
        if self.tamper.check == "directory":
            return self.report.ok and any(self.tamper.expect in p for p in self.directory)
        named = next((c.problems for c in self.report.checks if c.name == self.tamper.check), [])
        return not self.report.ok and any(self.tamper.expect in p for p in named)

    def reasons(self) -> list[str]:
        found = [f"{c.name}: {p}" for c in self.report.checks for p in c.problems]
        return found + [f"canvass log verify: {p}" for p in self.directory]


def copy_election(source: Path, to: Path) -> None:
    """The database, artifacts and keys of an election directory (the operator's, and the
    demo's people's), not the demo's generated CVRs, nor bundles or drills kept beside
    them."""
    to.mkdir(parents=True)
    for name in (DB_FILE, f"{DB_FILE}-wal", f"{DB_FILE}-shm"):
        if (source / name).exists():
            shutil.copy2(source / name, to / name)
    shutil.copytree(source / ARTIFACTS_DIR, to / ARTIFACTS_DIR)
    shutil.copytree(source / OPERATOR_KEY.parent, to / OPERATOR_KEY.parent)
    if (source / "demo-keys").is_dir():
        shutil.copytree(source / "demo-keys", to / "demo-keys")


def run_drill(election: Path, bundle: Path, work: Path) -> list[Outcome]:
    """Verify the honest bundle (the observer remembers its checkpoint), then each tamper
    on a fresh copy of the bundle (and of the election directory, for those that change
    it)."""
    trust_path = work / "trust.json"
    honest = verify_bundle(open_source(str(bundle)), TrustStore(trust_path))
    if not honest.ok:
        raise AssertionError("the honest bundle does not verify:\n" + honest.text())
    TrustStore(trust_path).remember(honest.origin, honest.operator, honest.checkpoint)
    outcomes = []
    for t in TAMPERS:
        case = work / t.name
        shutil.copytree(bundle, case / "bundle")
        changed = election
        if t.name in CHANGE_THE_DIRECTORY:
            changed = case / "election"
            copy_election(election, changed)
        tamper(t.name, case / "bundle", changed)
        report = verify_bundle(open_source(str(case / "bundle")), TrustStore(trust_path))
        directory = []
        if t.check == "directory":
            store = ElectionDirectory.open(changed)
            directory = store.verify()
            store.close()
        outcomes.append(Outcome(t, report, directory))
    return outcomes
