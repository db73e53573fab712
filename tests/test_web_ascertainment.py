"""The certificate of ascertainment signed in the browser by the registered state official.

Michigan's counties and state certified (their boards' votes signed with keys from
``canvass keys new``), the secretary of state signs in, makes a key in the browser, has it
approved, names the electors, reads the certificate in words and signs it; the entry it
writes carries a signature the command line's check accepts against the key the browser
made, and the bundle published from it passes ``canvass verify``.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

from canvass.app import accounts as acc
from canvass.app import key_requests as keyreq
from canvass.app.actor import Actor
from canvass.app.boards import constitute, propose_county, read_document, verify_canvass
from canvass.app.elections import entries, register_key, registered_keys
from canvass.app.folds import canvass as load
from canvass.app.imports import import_ballots
from canvass.app.publishing import publish
from canvass.app.state import propose_state
from canvass.certify.canvass import STATE, Member, ascertainment_statement, county_board
from canvass.certify.statements import check
from canvass.cli import app as cli
from canvass.demo.cvrs import county_exports
from canvass.domain.model import KeyRole
from canvass.keys import new_signer
from canvass.log.note import VerifierKey
from canvass.signing import move, vote
from tests.officials import make_office, served, wayne_definition
from tests.test_web_browser import Browsing, flash, sign_and_send

pytestmark = pytest.mark.timeout(600)


def certified_state(office: Any, where: Path) -> None:
    """Wayne and Kent imported and certified by their boards, then the state by its board
    (every vote signed with a key of the command line's)."""
    election = office.app.state.services.election
    admin = Actor("admin")
    for county, files in county_exports(wayne_definition(), 20, seed=2020):
        folder = where / f"{county}-cvrs"
        folder.mkdir()
        for name, data in files.items():
            (folder / name).write_bytes(data)
        import_ballots(election, admin, county, "dominion", sorted(folder.iterdir()))
    for board in [county_board("wayne"), county_board("kent"), STATE]:
        signers = []
        for party in ("dem1", "dem2", "rep1", "rep2"):
            signer = new_signer(f"{board.replace(':', '-')}-{party}")
            role = KeyRole.STATE_OFFICIAL if board == STATE else KeyRole.BOARD_MEMBER
            register_key(election, admin, signer.verifier(), role)
            signers.append(signer)
        seats = [Member(s.name, s.name, s.name[-4:-1].upper()) for s in signers]
        constitute(election, admin, board, "michigan", seats)
        if board == STATE:
            cert = propose_state(election, admin)
        else:
            cert = propose_county(election, admin, board.removeprefix("county:"), board=board)
        motion = move(election, signers[0], board, "certify", cert, "I move that we certify")
        for signer in signers:
            vote(election, signer, motion, "yes")
    assert load(election).certificate_of(STATE).issued is not None


def test_the_state_official_signs_the_certificate_of_ascertainment(
    browser: Any, tmp_path: Path
) -> None:
    office = make_office(tmp_path)
    services = office.app.state.services
    certified_state(office, tmp_path)
    state_cert = load(services.election).certificate_of(STATE).sha256
    votes = read_document(services.election, state_cert)["results"]["president"]["votes"]
    winner = max((c for c in votes if c != "write-in"), key=lambda c: votes[c])
    electors = {c: [f"{c} elector {n}" for n in range(1, 16)] for c in votes if c != "write-in"}
    with served(office.app) as base:
        b = Browsing(browser, base, office)
        secretary = b.sign_in("secretary")
        b.visit(secretary, "/keys")
        secretary.click("[data-make-key]")
        secretary.locator("text=Your key is waiting for approval").wait_for()
        admin = acc.account_named(services.accounts, "admin")
        assert admin is not None
        [request] = keyreq.key_requests(services.accounts, services.election)
        keyreq.decide_key(services.accounts, services.election, admin, request.id, True)

        b.visit(secretary, "/state")
        secretary.fill("#electors", yaml.safe_dump(electors))
        secretary.get_by_role(
            "button", name="Review and sign the certificate of ascertainment"
        ).click()
        words = sign_and_send(secretary, "issue the certificate of ascertainment")
        assert "You, Secretary of State (key secretary)" in words
        assert "of election mi-2020-general, appointing the electors it names" in words
        found = re.search(
            r"Certificate of ascertainment issued \(log entry (\d+)\)", flash(secretary)
        )
        assert found, flash(secretary)
        b.check(secretary)
    assert b.errors == []
    assert b.violations == [], "\n".join(b.violations)

    # The entry: the official's signature over the statement the command line signs, by the
    # key the browser made (the only key registered under that name).
    [(_, entry)] = entries(services.election, int(found.group(1)), 1)
    assert entry.type == "ascertainment.issued"
    assert (entry.actor, entry.data["official"]) == ("secretary", "secretary")
    doc = read_document(services.election, entry.data["certificate"])
    assert doc["state_certificate"] == state_cert
    assert doc["appointed"] == electors[winner]
    [key] = [
        VerifierKey.decode(k["vkey"])
        for k in registered_keys(services.election)
        if k["name"] == "secretary"
    ]
    statement = ascertainment_statement("mi-2020-general", entry.data["certificate"])
    check(statement, entry.data["signature"], key, "the browser's signature")
    assert verify_canvass(services.election) == []

    out = tmp_path / "public"
    publish(services.election, Actor("admin"), out)
    result = CliRunner().invoke(cli, ["verify", str(out), "--no-trust-store"])
    assert result.exit_code == 0, result.output
    assert "Everything holds" in result.output
