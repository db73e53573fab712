"""The results site through the stages of a canvass: unofficial results, certified, a
correction under way in one county, that county certified again (the state certificate
resting on its old certificate no longer in force), the state certified again.

While a correction is under way the front page, the county's page and every contest page
say so in a banner, ``certificates/index.json`` lists the certificates it reopened, and
the NIST report's status is ``correction``, never ``certified``; ``canvass verify``
derives all of it again from the log and names a bundle that hides it."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from lxml import html

from canvass import keys
from canvass.app.actor import Actor
from canvass.app.boards import constitute, open_correction, propose_county
from canvass.app.elections import register_key
from canvass.app.folds import canvass as load
from canvass.app.imports import import_ballots
from canvass.app.publishing import publish, record_publication
from canvass.app.state import order_recount, propose_state
from canvass.certify.canvass import STATE, Member, county_board
from canvass.demo.build import WITNESS, build_demo
from canvass.demo.rewriting import corrected_export
from canvass.domain.model import KeyRole
from canvass.log.note import Signer
from canvass.signing import move, vote, witness
from canvass.store.election import ElectionDirectory
from canvass.verify import TrustStore, open_source, verify_bundle
from tests.browser import axe_violations, serving, sideways_scroll

CLERK = Actor("clerk")
REASON = "3 cards of another county were scanned here"


@dataclass
class Election:
    store: ElectionDirectory
    path: Path
    counties: list[str]
    names: dict[str, str]
    contests: list[str]
    people: dict[str, Signer] = field(default_factory=dict)

    def certify(self, board: str, cert: str) -> None:
        members = [self.people[m.key] for m in load(self.store).boards[board].members]
        motion = move(self.store, members[0], board, "certify", cert, "Move to certify")
        for member in members:
            vote(self.store, member, motion, "yes")

    def published(self) -> dict[str, bytes]:
        return record_publication(self.store, CLERK).content


@pytest.fixture
def election(tmp_path: Path) -> Election:
    run = build_demo(tmp_path / "lakeland", False, 3, 12, 2026, 10, canvass=False)
    jurisdictions = run.definition["jurisdictions"]
    e = Election(
        run.store,
        tmp_path / "lakeland",
        [j["id"] for j in jurisdictions if j["kind"] == "county"],
        {j["id"]: j["name"] for j in jurisdictions},
        [c["id"] for c in run.definition["contests"]],
    )
    for board in [county_board(c) for c in e.counties] + [STATE]:
        seats = []
        for n, party in enumerate(("DEM", "DEM", "REP", "REP"), start=1):
            name = f"{board.replace(':', '-')}-member{n}"
            signer = keys.new_signer(name)
            role = KeyRole.STATE_OFFICIAL if board == STATE else KeyRole.BOARD_MEMBER
            register_key(e.store, CLERK, signer.verifier(), role)
            e.people[name] = signer
            seats.append(Member(name, name, party))
        constitute(e.store, CLERK, board, "michigan", seats)
    return e


def page(files: dict[str, bytes], path: str) -> Any:
    return html.fromstring(files[path])


def banner(files: dict[str, bytes], path: str) -> str:
    """What the page's banner says ("" when it has none)."""
    found = page(files, path).xpath("//section[contains(@class, 'banner')]")
    return " ".join(found[0].text_content().split()) if found else ""


def shown(files: dict[str, bytes]) -> tuple[str, str, list[Any]]:
    """The front page's status, the NIST report's, and the certificates reopened."""
    front = json.loads(files["index.json"])
    nist = json.loads(files["results/nist-1500-100.json"])
    index = json.loads(files["certificates/index.json"])
    assert front["reopened"] == [r["scope"] for r in index["reopened"]]
    return front["status"], nist["Status"], index["reopened"]


def site_pages(e: Election, county: str) -> list[str]:
    return ["index.html", f"counties/{county}.html", *(f"contests/{c}.html" for c in e.contests)]


def certify_all(e: Election) -> None:
    for c in e.counties:
        e.certify(county_board(c), propose_county(e.store, CLERK, c))
    e.certify(STATE, propose_state(e.store, CLERK))


def publish_cosigned(e: Election, bundle: Path) -> None:
    """Publish the bundle, its checkpoint cosigned by the demo's witness."""
    record_publication(e.store, CLERK)
    signer = keys.read_key(e.path / "demo-keys" / f"{WITNESS}.key")
    witness(e.store, signer, 1_793_000_000)
    assert publish(e.store, CLERK, bundle).not_cosigned == []


def test_the_site_through_unofficial_certified_correction_and_certified_again(
    election: Election, tmp_path: Path
) -> None:
    e, county = election, election.counties[0]
    name = e.names[county]

    files = e.published()
    assert shown(files) == ("unofficial", "unofficial-complete", [])
    assert all(banner(files, p) == "" for p in site_pages(e, county))

    certify_all(e)
    state = load(e.store)
    first, state_cert = state.certificate_of(county), state.certificate_of(STATE)
    assert first is not None and state_cert is not None
    files = e.published()
    assert shown(files) == ("certified", "certified", [])
    index = json.loads(files["certificates/index.json"])
    [said_state] = [c for c in index["certificates"] if c["scope"] == STATE]
    rests_on = {c: state.certificate_of(c).sha256 for c in e.counties}  # type: ignore[union-attr]
    assert said_state["rests_on"] == rests_on
    words = " ".join(page(files, "certificates.html").text_content().split())
    issued = dict(e.store.entries())[first.issued]
    assert issued.type == "certificate.issued" and said_state["issued_at"] is not None
    at = datetime.fromisoformat(issued.time.replace("Z", "+00:00"))
    assert f"Issued on {at.day} {at:%B %Y, %H:%M} UTC at log entry {first.issued} " in words
    assert (
        "It rests on the county certificates in force when it was proposed: "
        + "; ".join(f"{e.names[c]}'s {sha[:12]}…" for c, sha in rests_on.items())
    ) in words
    assert all(banner(files, p) == "" for p in site_pages(e, county))

    opened = open_correction(e.store, CLERK, county, REASON)
    files = e.published()
    status, nist, reopened = shown(files)
    assert (status, nist) == ("correction", "correction")
    assert reopened == [
        {
            "scope": county,
            "certificate": first.sha256,
            "kind": "correction",
            "entry": opened,
            "reason": REASON,
        },
        {
            "scope": STATE,
            "certificate": state_cert.sha256,
            "kind": "correction",
            "entry": opened,
            "reason": REASON,
        },
    ]
    said = (
        f"A correction of {name} was opened at log entry {opened}: {REASON}. Its results, "
        f"certified at log entry {first.issued}, may change until its board certifies again."
    )
    for path in site_pages(e, county):
        assert banner(files, path).startswith("Correction under way"), path
        assert said in banner(files, path), path
        assert "Correction under way" in page(files, path).xpath("//header//span")[0].text, path
    lead = " ".join(
        page(files, f"counties/{county}.html").xpath("//p[@class='lead']")[0].text_content().split()
    )
    assert (
        f"certified by the county board at log entry {first.issued}, reopened by a correction at log entry {opened}"
        in lead
    )
    rows = files["counties.csv"].decode().splitlines()
    assert any(
        r.startswith(f"{county},{name},reported,reopened: correction under way,") for r in rows
    )
    assert f"reopened it ({REASON})" in page(files, "certificates.html").text_content()

    # The verifier derives the banner and the index again, and names a bundle hiding them.
    bundle = tmp_path / "bundle"
    publish_cosigned(e, bundle)
    trust = TrustStore(tmp_path / "trust.json")
    report = verify_bundle(open_source(str(bundle)), trust)
    assert report.ok, [p for c in report.checks for p in c.problems]
    index = json.loads((bundle / "certificates" / "index.json").read_text())
    index["reopened"] = []
    (bundle / "certificates" / "index.json").write_text(json.dumps(index, indent=1) + "\n")
    front = bundle / "index.html"
    front.write_bytes(front.read_bytes().replace(b"Correction under way", b"Certified results"))
    report = verify_bundle(open_source(str(bundle)), trust)
    problems = [p for c in report.checks for p in c.problems]
    assert not report.ok
    assert any(p.startswith("certificates/index.json reopened") for p in problems), problems
    assert any(p.startswith("index.html line") for p in problems), problems

    # The county certifies again: the state certificate that rested on its old one falls,
    # and the correction is under way until the state board certifies again.
    corrected_export(e.store, county, tmp_path / "corrected", 3)
    import_ballots(e.store, CLERK, county, "dominion", [tmp_path / "corrected"], replace=True)
    e.certify(county_board(county), propose_county(e.store, CLERK, county, reason=REASON))
    files = e.published()
    status, nist, reopened = shown(files)
    assert (status, nist) == ("correction", "correction")
    assert [(r["scope"], r["certificate"]) for r in reopened] == [(STATE, state_cert.sha256)]
    for path in site_pages(e, county):
        assert (
            f"The state board certified at log entry {state_cert.issued}; it is to certify "
            "again once the counties have." in banner(files, path)
        ), path
    assert (
        "reopened"
        not in page(files, f"counties/{county}.html").xpath("//p[@class='lead']")[0].text_content()
    )

    e.certify(STATE, propose_state(e.store, CLERK, "a county corrected its count"))
    files = e.published()
    assert shown(files) == ("corrected", "certified", [])
    assert (
        page(files, "index.html").xpath("//header//span")[0].text == "Certified, with corrections"
    )
    assert all(banner(files, p) == "" for p in site_pages(e, county))


@pytest.mark.parametrize("width", [390, 1280])
def test_a_correction_under_way_reads_well_and_checks_out_in_a_browser(
    election: Election, tmp_path: Path, context: Any, width: int
) -> None:
    e, county = election, election.counties[0]
    certify_all(e)
    open_correction(e.store, CLERK, county, REASON)
    publish_cosigned(e, tmp_path / "bundle")
    with serving(tmp_path / "bundle") as address:
        tab = context.new_page()
        tab.set_viewport_size({"width": width, "height": 900})
        for path in [*site_pages(e, county), "counties.html", "certificates.html"]:
            tab.goto(address + path)
            tab.wait_for_function(
                "document.getElementById('check-report').dataset.check !== 'not-run'",
                timeout=60_000,
            )
            state = tab.evaluate("document.getElementById('check-report').dataset.check")
            assert state == "passed", (path, tab.text_content("#check-report"))
            assert tab.is_visible("section.banner"), path
            assert axe_violations(tab) == [], path
            assert sideways_scroll(tab) == 0, path
    assert context.console_errors == []


def test_a_recount_under_way_is_said_until_every_county_and_the_state_certify_again(
    election: Election,
) -> None:
    e = election
    certify_all(e)
    reason = "the margin is within the recount margin"
    ordered = order_recount(e.store, CLERK, "president", reason)
    files = e.published()
    status, nist, reopened = shown(files)
    assert (status, nist) == ("recount", "recount")
    assert [(r["scope"], r["kind"], r["entry"]) for r in reopened] == [
        *((c, "recount", ordered) for c in e.counties),
        (STATE, "recount", ordered),
    ]
    for c in e.counties:
        said = f"A recount of {e.names[c]} was opened at log entry {ordered}: {reason}."
        assert said in banner(files, "index.html")
        assert banner(files, "contests/president.html").startswith("Recount under way")
    for c in e.counties:
        e.certify(county_board(c), propose_county(e.store, CLERK, c, reason=reason))
    assert [r["scope"] for r in shown(e.published())[2]] == [STATE]
    e.certify(STATE, propose_state(e.store, CLERK, reason))
    files = e.published()
    assert shown(files)[2] == [] and banner(files, "index.html") == ""
    assert shown(files)[:2] == ("corrected", "certified")
    assert page(files, "index.html").xpath("//header//span")[0].text == "Certified after a recount"
