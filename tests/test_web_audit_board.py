"""An audit board of two, each member signing readings with the key in their own browser:
a reading is recorded, with both signatures, only when both have signed the same reading;
until then each signature is checked and kept apart from the election's record.

The server's side is driven here with keys from ``canvass keys new`` (the statements
signed by the command line's own function); the browser's side, with keys made in two
browser profiles, is in :func:`test_two_members_sign_in_their_own_browsers`.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from canvass.app import accounts as acc
from canvass.app import key_requests as keyreq
from canvass.app.actor import Actor
from canvass.app.audits import commit, draw, open_audit, record_seed
from canvass.app.elections import entries, size
from canvass.app.imports import import_ballots
from canvass.app.retrieval import reading_to_sign
from canvass.audit.workflow import reading_statement
from canvass.certify.statements import check, sign
from canvass.keys import new_signer
from canvass.log.note import Signer, VerifierKey
from tests.officials import OFFICIALS, Office, make_office, served, sign_in, wayne_export

pytestmark = pytest.mark.timeout(600)

MEMBERS = ["audit.wayne", "audit.wayne.2"]
PEOPLE = [
    *OFFICIALS,
    ("audit.wayne.2", "Audit Board Wayne 1, second member", "audit-board-member", "wayne/1"),
    ("audit.wayne.b", "Audit Board Wayne 2", "audit-board-member", "wayne/2"),
]


def drawn_audit(tmp_path: Path) -> tuple[Office, Any, list[str]]:
    """Wayne County imported; a comparison audit opened, committed, seeded and drawn; the
    ballots drawn."""
    office = make_office(tmp_path, PEOPLE)
    export = wayne_export(tmp_path)
    election = office.app.state.services.election
    import_ballots(election, Actor("clerk.wayne"), "wayne", "dominion", export.files)
    open_audit(election, Actor("admin"), "rla", "comparison", 10, ["president"])
    commit(election, Actor("admin"), "rla")
    record_seed(election, Actor("admin"), "rla", "31415926535897932384")
    _, listing = draw(election, Actor("admin"), "rla", 4)
    ballots = sorted(
        {
            "/".join((r["county"], r["tabulator"], r["batch"], r["record"]))
            for r in csv.DictReader(io.StringIO(listing))
        }
    )
    return office, export, ballots


def approve_all(office: Office) -> None:
    """The clerk approves every key waiting, and the administrator seats audit board
    wayne/1 (its members are the accounts whose keys are registered)."""
    services = office.app.state.services
    clerk = acc.account_named(services.accounts, "clerk.wayne")
    assert clerk is not None
    for request in keyreq.key_requests(services.accounts, services.election):
        if request.decision is None:
            keyreq.decide_key(services.accounts, services.election, clerk, request.id, True)
    admin = acc.account_named(services.accounts, "admin")
    assert admin is not None
    acc.seat_audit_board(services.accounts, services.election, admin.actor, "rla", "wayne/1")


def post_reading(
    client: TestClient,
    csrf: str,
    signer: Signer,
    office: Office,
    reading: dict[str, Any],
    reason: str = "",
) -> Any:
    statement = reading_to_sign(
        office.app.state.services.election, "rla", "wayne", "wayne/1", reading, reason
    )
    return client.post(
        "/api/audits/rla/readings",
        json={**reading, "signature": sign(signer, statement), "reason": reason},
        headers={"X-CSRF-Token": csrf},
    )


def test_a_reading_is_recorded_when_every_member_has_signed_it(tmp_path: Path) -> None:
    office, export, ballots = drawn_audit(tmp_path)
    services = office.app.state.services
    keys = {m: new_signer(m) for m in MEMBERS}
    clients = {}
    for member in MEMBERS:
        client = TestClient(office.app, base_url="https://testserver")
        csrf = sign_in(client, office.officials[member])
        public = keys[member].verifier().public_key
        keyreq.request_key(services.accounts, acc.account_named(services.accounts, member), public)  # type: ignore[arg-type]
        clients[member] = (client, csrf)
    approve_all(office)
    (first, first_csrf), (second, second_csrf) = clients["audit.wayne"], clients["audit.wayne.2"]

    ballot = ballots[0]
    marked = export.paper(ballot)
    other = "trump" if marked != ["trump"] else "biden"
    reading = {"ballot": ballot, "contest": "president", "votes": marked}
    before = size(services.election)

    # The first member signs: kept, not recorded; the page says whom it waits for.
    response = post_reading(first, first_csrf, keys["audit.wayne"], office, reading)
    assert response.status_code == 200, response.text
    assert response.json()["waiting"] == ["audit.wayne.2"]
    assert size(services.election) == before
    page = second.get("/audits/rla/entry").text
    assert "signed by audit.wayne as " in page and "waiting for audit.wayne.2." in page

    # A signature that is not the member's own key's is refused and kept nowhere.
    response = post_reading(second, second_csrf, keys["audit.wayne"], office, reading)
    assert response.status_code == 400, response.text
    assert "not audit.wayne.2's over this audit-reading" in response.json()["error"]
    assert "signed by audit.wayne as " in second.get("/audits/rla/entry").text

    # The second member signs a different reading: both kept, nothing recorded.
    different = {**reading, "votes": [other]}
    response = post_reading(second, second_csrf, keys["audit.wayne.2"], office, different)
    assert response.json()["waiting"] == ["audit.wayne"]
    assert size(services.election) == before
    page = first.get("/audits/rla/entry").text
    assert "signed by audit.wayne.2 as " in page and "waiting for audit.wayne.</p>" in page

    # The second member signs what the first signed (replacing their own): recorded once,
    # with both signatures, each the member's over the statement the command line signs.
    response = post_reading(second, second_csrf, keys["audit.wayne.2"], office, reading)
    assert response.status_code == 200, response.text
    assert response.json()["waiting"] == []
    [entry] = response.json()["entries"]
    assert size(services.election) == before + 1
    [(_, recorded)] = entries(services.election, entry, 1)
    assert recorded.type == "audit.interpreted"
    assert (recorded.data["ballot"], recorded.data["votes"]) == (ballot, marked)
    statement = reading_statement("mi-2020-general", "audit.interpreted", recorded.data)
    signatures = {s["member"]: s["signature"] for s in recorded.data["signatures"]}
    assert sorted(signatures) == MEMBERS
    for member, signature in signatures.items():
        check(statement, signature, keys[member].verifier(), member)
    page = first.get("/audits/rla/entry").text
    assert "waiting for" not in page

    # The board reads the ballot again: the entry screen offers it beside the recorded
    # reading, asking why; a new reading without a reason is refused; with one, once both
    # have signed it, it is recorded, superseding the first, which stays in the log.
    key = f"{ballot.replace('/', '-')}-president"
    assert f'<input id="r-{key}" name="reason" required' in page
    response = first.get(
        "/api/audits/rla/readings/statement",
        params={"ballot": ballot, "contest": "president", "votes": other},
    )
    assert response.status_code == 400, response.text
    assert "to read it again, give the reason" in response.json()["error"], response.text
    why = "the second member misread the oval"
    response = post_reading(first, first_csrf, keys["audit.wayne"], office, different, why)
    assert response.json()["waiting"] == ["audit.wayne.2"], response.text
    page = second.get("/audits/rla/entry").text
    assert f"(read again: {why}); waiting for audit.wayne.2." in page
    assert f'name="reason" required value="{why}"' in page
    response = post_reading(second, second_csrf, keys["audit.wayne.2"], office, different, why)
    assert response.json()["waiting"] == [], response.text
    [again] = response.json()["entries"]
    [(_, reread)] = entries(services.election, again, 1)
    assert (reread.data["votes"], reread.data["reason"]) == ([other], why)
    assert reread.data["supersedes"] == entry
    [(_, still)] = entries(services.election, entry, 1)
    assert still.data["votes"] == marked
    before += 1

    # A member of an audit board not seated for this audit is refused; nothing is kept.
    client = TestClient(office.app, base_url="https://testserver")
    csrf = sign_in(client, office.officials["audit.wayne.b"])
    response = client.post(
        "/api/audits/rla/readings",
        json={**reading, "ballot": ballots[1], "signature": "AAAA"},
        headers={"X-CSRF-Token": csrf},
    )
    assert response.status_code == 400
    assert response.json()["error"] == (
        "audit rla: 'wayne/2' is not a seated audit board; the state administrator seats it "
        "once its members' keys are registered"
    )
    assert size(services.election) == before + 1
    assert "waiting for" not in first.get("/audits/rla/entry").text


def test_two_members_sign_in_their_own_browsers(browser: Any, tmp_path: Path) -> None:
    """Each member makes a key in their own browser profile; each signs the reading after
    reading it in words; the reading is recorded, with both signatures, after the second."""
    from tests.test_web_browser import Browsing, flash, sign_and_send

    office, export, ballots = drawn_audit(tmp_path)
    services = office.app.state.services
    with served(office.app) as base:
        b = Browsing(browser, base, office)
        pages = {}
        for member in MEMBERS:
            page = b.sign_in(member, viewport={"width": 390, "height": 844})
            page.goto("/keys")
            page.click("[data-make-key]")
            page.locator("text=Your key is waiting for approval").wait_for()
            pages[member] = page
        approve_all(office)
        first, second = pages["audit.wayne"], pages["audit.wayne.2"]
        ballot = ballots[0]
        marked = export.paper(ballot)
        form_of = "form.reading:has(input[name=ballot][value='{}'])"
        b.visit(first, "/audits/rla/entry")
        form = first.locator(form_of.format(ballot)).first
        for candidate in marked:
            form.locator(f"input[name=votes][value={candidate}]").check()
        before = size(services.election)
        form.locator("button").click()
        sign_and_send(first, f"for audit board wayne/1, record that on ballot {ballot}")
        assert "it is recorded when audit.wayne.2 signs the same reading" in flash(first)
        assert size(services.election) == before

        # The second member's form starts from what the first signed; they sign it too.
        b.visit(second, "/audits/rla/entry")
        slug = ballot.replace("/", "-")
        assert (
            "waiting for audit.wayne.2"
            in second.locator(f"[data-testid=pending-{slug}-president]").inner_text()
        )
        form = second.locator(form_of.format(ballot)).first
        checked = form.locator("input[name=votes]:checked")
        assert sorted(checked.evaluate_all("(els) => els.map((e) => e.value)")) == sorted(marked)
        form.locator("button").click()
        sign_and_send(second, f"for audit board wayne/1, record that on ballot {ballot}")
        assert f"Reading of {ballot} recorded" in flash(second)
        b.check(second)

        # The board reads it again, saying why: the form is beside the recorded reading.
        why = "a second look at the oval"
        for page in (first, second):
            b.visit(page, "/audits/rla/entry")
            again = page.locator(f"#b-{slug} details.again")
            if again.get_attribute("open") is None:
                again.locator("summary").click()
            form = again.locator("form")
            for candidate in marked:
                form.locator(f"input[name=votes][value={candidate}]").check()
            form.locator("input[name=reason]").fill(why)
            form.locator("button").click()
            sign_and_send(page, f"for audit board wayne/1, record that on ballot {ballot}")
            b.check(page)
        assert f"Reading of {ballot} recorded" in flash(second)
    assert b.errors == []
    assert b.violations == [], "\n".join(b.violations)
    [(_, recorded), (_, reread)] = entries(services.election, before, 2)
    assert (reread.data["reason"], reread.data["supersedes"]) == (why, before)
    assert sorted(s["member"] for s in recorded.data["signatures"]) == MEMBERS
    keys = {k.name: k for k in _registered(office)}
    statement = reading_statement("mi-2020-general", "audit.interpreted", recorded.data)
    for s in recorded.data["signatures"]:
        check(statement, s["signature"], keys[s["member"]], s["member"])


def _registered(office: Office) -> list[VerifierKey]:
    from canvass.app.elections import registered_keys

    return [
        VerifierKey.decode(k["vkey"]) for k in registered_keys(office.app.state.services.election)
    ]


def test_a_batch_hand_count_is_recorded_when_every_member_has_signed_it(tmp_path: Path) -> None:
    """A batch-comparison audit: each member signs the board's hand count of a batch drawn
    (counted here from the export's marks: a card marked for one candidate counts for
    them); recorded with both signatures after the second, never after the first."""
    office = make_office(tmp_path, PEOPLE)
    export = wayne_export(tmp_path)
    services = office.app.state.services
    election = services.election
    import_ballots(election, Actor("clerk.wayne"), "wayne", "dominion", export.files)
    open_audit(election, Actor("admin"), "rla", "batch-comparison", 10, ["president"])
    commit(election, Actor("admin"), "rla")
    record_seed(election, Actor("admin"), "rla", "31415926535897932384")
    _, listing = draw(election, Actor("admin"), "rla", 2)
    batch = sorted(
        "/".join((r["county"], r["tabulator"], r["batch"]))
        for r in csv.DictReader(io.StringIO(listing))
    )[0]
    counted = {c: 0 for c in ("biden", "trump", "jorgensen", "hawkins")}
    for ballot, marks in export.marked.items():
        if ballot.rsplit("/", 1)[0] == batch and len(marks) == 1:
            counted[marks[0]] += 1
    assert sum(counted.values()) > 0

    keys = {m: new_signer(m) for m in MEMBERS}
    clients = {}
    for member in MEMBERS:
        client = TestClient(office.app, base_url="https://testserver")
        clients[member] = (client, sign_in(client, office.officials[member]))
        account = acc.account_named(services.accounts, member)
        keyreq.request_key(services.accounts, account, keys[member].verifier().public_key)  # type: ignore[arg-type]
    approve_all(office)

    form = {
        "batch": batch,
        "contest": "president",
        **{f"count.{k}": str(v) for k, v in counted.items()},
    }
    before = size(election)
    for n, member in enumerate(MEMBERS):
        client, csrf = clients[member]
        signable = client.get("/api/audits/rla/tallies/statement", params=form).json()
        assert (
            f"counting batch {batch} by hand finds, in president: biden {counted['biden']:,}"
            in signable["words"]
        )
        signature = sign(keys[member], signable["statement"])
        response = client.post(
            "/api/audits/rla/tallies",
            json={**form, "signature": signature},
            headers={"X-CSRF-Token": csrf},
        )
        assert response.status_code == 200, response.text
        if n == 0:
            assert response.json()["waiting"] == ["audit.wayne.2"]
            assert size(election) == before
            page = clients["audit.wayne.2"][0].get("/audits/rla/entry").text
            assert "signed by audit.wayne as " in page and "waiting for audit.wayne.2." in page
            assert (
                f'name="count.biden" inputmode="numeric" pattern="[0-9]*" value="{counted["biden"]}"'
                in page
            )
    [entry] = response.json()["entries"]
    [(_, recorded)] = entries(election, entry, 1)
    assert recorded.type == "audit.batch_tallied"
    assert (recorded.data["batch"], recorded.data["votes"]) == (batch, counted)
    statement = reading_statement("mi-2020-general", "audit.batch_tallied", recorded.data)
    for s in recorded.data["signatures"]:
        check(statement, s["signature"], keys[s["member"]].verifier(), s["member"])
    assert sorted(s["member"] for s in recorded.data["signatures"]) == MEMBERS

    # A count that is not a number is refused in one line; nothing kept.
    client, csrf = clients["audit.wayne"]
    response = client.post(
        "/api/audits/rla/tallies",
        json={**form, "count.biden": "many", "signature": "AAAA"},
        headers={"X-CSRF-Token": csrf},
    )
    assert response.status_code == 400
    assert response.json()["error"] == "count.biden is a whole number of votes; found 'many'"
    # The audit's own page shows a batch audit (what is drawn, what is counted).
    page = client.get("/audits/rla")
    assert page.status_code == 200, page.text[:500]


def test_two_members_sign_a_batch_count_in_their_own_browsers(browser: Any, tmp_path: Path) -> None:
    """A batch-comparison audit in Chromium: the first member types the hand count and
    signs it; the second member's form starts from that count, and their signature
    records it; the entry screen is checked with axe-core."""
    from tests.test_web_browser import Browsing, flash, sign_and_send

    office = make_office(tmp_path, PEOPLE)
    export = wayne_export(tmp_path)
    services = office.app.state.services
    election = services.election
    import_ballots(election, Actor("clerk.wayne"), "wayne", "dominion", export.files)
    open_audit(election, Actor("admin"), "rla", "batch-comparison", 10, ["president"])
    commit(election, Actor("admin"), "rla")
    record_seed(election, Actor("admin"), "rla", "31415926535897932384")
    _, listing = draw(election, Actor("admin"), "rla", 1)
    [batch] = sorted(
        {
            "/".join((r["county"], r["tabulator"], r["batch"]))
            for r in csv.DictReader(io.StringIO(listing))
        }
    )
    counted = {c: 0 for c in ("biden", "trump", "jorgensen", "hawkins")}
    for ballot, marks in export.marked.items():
        if ballot.rsplit("/", 1)[0] == batch and len(marks) == 1:
            counted[marks[0]] += 1
    with served(office.app) as base:
        b = Browsing(browser, base, office)
        pages = {}
        for member in MEMBERS:
            page = b.sign_in(member, viewport={"width": 390, "height": 844})
            page.goto("/keys")
            page.click("[data-make-key]")
            page.locator("text=Your key is waiting for approval").wait_for()
            pages[member] = page
        approve_all(office)
        first, second = pages["audit.wayne"], pages["audit.wayne.2"]
        b.visit(first, "/audits/rla/entry")
        form = first.locator("form.reading").first
        for choice, n in counted.items():
            form.locator(f"input[name='count.{choice}']").fill(str(n))
        before = size(election)
        form.locator("button").click()
        sign_and_send(first, f"record that counting batch {batch} by hand finds, in president")
        assert "it is recorded when audit.wayne.2 signs the same count" in flash(first)
        assert size(election) == before

        b.visit(second, "/audits/rla/entry")
        form = second.locator("form.reading").first
        for choice, n in counted.items():
            assert form.locator(f"input[name='count.{choice}']").input_value() == str(n)
        form.locator("button").click()
        sign_and_send(second, f"biden {counted['biden']:,}")
        assert f"Count of batch {batch} recorded" in flash(second)
        b.check(second)
    assert b.errors == []
    assert b.violations == [], "\n".join(b.violations)
    [(_, recorded)] = entries(election, before, 1)
    assert (recorded.type, recorded.data["votes"]) == ("audit.batch_tallied", counted)
    assert sorted(s["member"] for s in recorded.data["signatures"]) == MEMBERS
