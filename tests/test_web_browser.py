"""The officials' application in a real browser (Debian's Chromium, driven by Playwright).

Wayne County, Michigan, November 2020: the clerk imports the counting boards' CVRs (an
upload with a progress bar), the poll book shows four absent voter counting boards out of
balance and the clerk explains two; four board members each sign in in their own browser
profile, where their key lives (three made in the browser, one read from the key file
``canvass keys new`` writes); the first motion deadlocks 2–2, the second passes 4–0, a
rescind motion is recorded and the certificate stands; an audit board enters readings on
a phone-sized screen; the bundle published from it passes ``canvass verify``. Every page
visited is checked with axe-core: no serious or critical violation.
"""

from __future__ import annotations

import base64
import json
import re
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import expect
from typer.testing import CliRunner

from canvass import keys
from canvass.certify.statements import check, message, sign
from canvass.cli import app as cli
from canvass.log.note import ED25519, VerifierKey
from tests.browser import AXE, NEEDS_BROWSER
from tests.officials import (
    CANDIDATES,
    OFFICIALS,
    OUT_OF_BALANCE,
    PARTIES,
    PASSWORD,
    WAYNE_BOARD,
    Office,
    make_office,
    served,
    wayne_export,
    wayne_pollbook,
)

pytestmark = pytest.mark.timeout(600)

PHONE = {"width": 390, "height": 844}


def serious_violations(page: Any) -> list[str]:
    """axe-core's serious and critical violations on the page, in words. axe (pinned in
    tests/a11y) is evaluated in the page rather than added as a script tag: the pages'
    Content-Security-Policy allows no inline script."""
    if not AXE.is_file():
        pytest.skip(f"{NEEDS_BROWSER} axe-core is not installed at {AXE}: make test installs it")
    page.evaluate(AXE.read_text())
    found = page.evaluate(
        "async () => (await axe.run(document, {resultTypes: ['violations']})).violations"
    )
    return [
        f"{page.url}: {v['id']} ({v['impact']}): {v['help']} — "
        + "; ".join(" ".join(n["target"]) for n in v["nodes"][:3])
        for v in found
        if v["impact"] in ("serious", "critical")
    ]


class Browsing:
    """Officials, each in a browser profile of their own; every page they load is checked
    for accessibility."""

    def __init__(self, browser: Any, base: str, office: Office) -> None:
        self.browser, self.base, self.office = browser, base, office
        self.violations: list[str] = []
        self.checked: set[str] = set()
        self.errors: list[str] = []

    def sign_in(self, username: str, viewport: dict[str, int] | None = None) -> Any:
        context = self.browser.new_context(base_url=self.base, viewport=viewport)
        page = context.new_page()
        page.on("pageerror", lambda e: self.errors.append(f"{username}: {e}"))
        official = self.office.officials[username]
        page.goto("/sign-in")
        page.fill("#username", username)
        page.fill("#password", PASSWORD)
        page.click("button[type=submit]")
        page.fill("#code", official.code())
        page.click("button[type=submit]")
        assert page.url == self.base + "/", page.content()[:500]
        return page

    def visit(self, page: Any, path: str) -> None:
        page.goto(path)
        self.check(page)

    def check(self, page: Any) -> None:
        shape = re.sub(r"[0-9a-f]{64}|\d+", "N", page.url)
        if shape not in self.checked:
            self.checked.add(shape)
            self.violations += serious_violations(page)


def flash(page: Any) -> str:
    return str(page.locator(".flash").inner_text())


def sign_and_send(page: Any, expect_words: str) -> str:
    """Review what the page says will be signed, sign it, and send it."""
    panel = page.locator("#signing")
    panel.wait_for(state="visible")
    words = str(page.locator("[data-sign-words]").inner_text())
    assert expect_words in words, words
    with page.expect_navigation():
        page.click("[data-sign-confirm]")
    page.locator(".flash").wait_for()
    return words


def settled(page: Any) -> None:
    """Wait until a live page shows the log as it is now: a reload it began on learning
    that the log grew has finished (waiting on the page survives that reload). A page that
    only notes the change (a dashboard) never reloads, and is not waited for."""
    size = page.request.get("/api/live/size").json()["log_size"]
    page.wait_for_function(
        "n => { const e = document.querySelector('[data-live]');"
        " return document.readyState === 'complete' &&"
        " (!e || e.dataset.liveMode === 'note' || Number(e.dataset.size) >= n); }",
        arg=size,
        timeout=30000,
    )


def open_board(page: Any) -> None:
    """Open the board's page. A meeting page reloads itself when the log grows, and a reload
    that lands while the test navigates cancels that navigation (as it would a person's
    click), so the test first lets the page show what the log holds; should a navigation
    still be cut short or never finish, the test goes again, as the person would."""
    for attempt in range(3):
        try:
            settled(page)
            page.goto("/boards/county:wayne")
            return
        except PlaywrightError as error:
            cut_short = "interrupted by another navigation" in str(error)
            if not (cut_short or "Timeout" in str(error)) or attempt == 2:
                raise


def move(page: Any, kind: str, certificate: str) -> int:
    open_board(page)
    page.select_option("#kind", kind)
    page.select_option("#certificate", certificate)
    page.get_by_role("button", name="Review and sign my motion").click()
    words = sign_and_send(page, "move that the Board of Canvassers of Wayne County")
    if kind == "certify":
        assert "4 units out of balance, 2 of them unexplained" in words
    found = re.search(r"Motion made \(log entry (\d+)\)", flash(page))
    assert found, flash(page)
    return int(found.group(1))


def vote(page: Any, motion: int, choice: str) -> str:
    open_board(page)
    page.check(f"#vote-{motion}-{choice}")
    page.locator(f"#motion-{motion} button[type=submit]").click()
    sign_and_send(page, f"vote {'YES' if choice == 'yes' else 'NO'} on motion {motion}")
    return flash(page)


def test_wayne_county_in_the_browser(browser: Any, tmp_path: Path) -> None:
    office = make_office(tmp_path)
    export = wayne_export(tmp_path)
    cards = sum(export.cards.values())
    with served(office.app) as base:
        b = Browsing(browser, base, office)

        # The clerk imports and reconciles.
        clerk = b.sign_in("clerk.wayne")
        b.visit(clerk, "/counties/wayne")
        clerk.select_option("#format", "dominion")
        clerk.set_input_files("#files", [str(p) for p in export.files])
        clerk.get_by_role("button", name="Import", exact=True).click()
        assert f"Imported ballots (cards {cards})" in flash(clerk)
        b.check(clerk)
        results = clerk.locator("table.results").first
        for candidate, name, _ in CANDIDATES:
            row = results.locator("tr", has_text=name)
            assert row.locator("td").inner_text() == f"{export.votes[candidate]:,}"
        clerk.set_input_files("#pollbook", str(wayne_pollbook(export, tmp_path)))
        clerk.get_by_role("button", name="Import the poll book").click()
        assert "Poll book recorded" in flash(clerk)
        assert (
            "4 out of balance, 4 unexplained" in clerk.locator("#reconciliation + p").inner_text()
        )
        for n, (precinct, text) in enumerate(
            [
                ("wayne-avcb-1", "three voters entered twice"),
                ("wayne-avcb-2", "two ballots set aside"),
            ],
            start=1,
        ):
            form = clerk.locator("form.explain", has=clerk.locator(f"input[value='{precinct}']"))
            form.locator("select").select_option(
                "poll-book-error" if n == 1 else "ballot-not-tabulated"
            )
            form.locator("input[name=text]").fill(text)
            form.locator("button").click()
            assert f"Explanation of {precinct} recorded" in flash(clerk)
        assert (
            "4 out of balance, 2 unexplained" in clerk.locator("#reconciliation + p").inner_text()
        )
        assert sorted(OUT_OF_BALANCE) == sorted(
            clerk.locator("tr.problem-row th, tr.explained th").all_inner_texts()
        )

        # Four board members, each with a key in their own browser profile.
        members = {}
        for username in WAYNE_BOARD:
            page = b.sign_in(username)
            b.visit(page, "/keys")
            if username == "allen.wilson":  # his key file, from canvass keys new
                key_file = tmp_path / "allen.wilson.key"
                keys.write_key(keys.new_signer("allen.wilson"), key_file)
                page.set_input_files("#keyfile", str(key_file))
            else:
                page.click("[data-make-key]")
            page.locator("text=Your key is waiting for approval").wait_for()
            members[username] = page
        b.visit(clerk, "/keys")
        for username in WAYNE_BOARD:
            clerk.click(f"button[aria-label='Approve the key of {username}']")
            assert "Key registered in the election log" in flash(clerk)

        # The clerk seats the board, opens the meeting and proposes the certificate.
        b.visit(clerk, "/boards/county:wayne")
        clerk.select_option("#profile", "michigan")
        for username in WAYNE_BOARD:
            clerk.check(f"[id='m-{username}']")
            clerk.fill(f"[id='p-{username}']", PARTIES[username])
        clerk.get_by_role("button", name="Seat the board").click()
        assert "Board seated" in flash(clerk)
        clerk.get_by_role("button", name="Open the meeting").click()
        assert "Meeting opened" in flash(clerk)
        clerk.get_by_role("button", name="Propose the certificate").click()
        found = re.search(r"Certificate ([0-9a-f]{12}) proposed", flash(clerk))
        assert found, flash(clerk)
        sha = clerk.locator("table a[href^='/certificates/'] code").first.inner_text()
        assert sha == found.group(1)
        certificate = (
            clerk.locator("a[href^='/certificates/']").first.get_attribute("href").split("/")[-1]
        )
        b.visit(clerk, f"/certificates/{certificate}")
        assert "unexplained" in clerk.locator("main").inner_text()
        pdf = clerk.request.get(f"/certificates/{certificate}.pdf")
        assert pdf.ok and pdf.body().startswith(b"%PDF"), pdf.text()[-600:]

        palmer, hartmann, kinloch, wilson = (members[u] for u in WAYNE_BOARD)
        b.visit(kinloch, "/boards/county:wayne")

        # The first motion deadlocks 2-2; Kinloch's open page shows it live.
        first = move(palmer, "certify", certificate)
        kinloch.locator(f"#motion-{first}").wait_for(timeout=15000)
        vote(palmer, first, "yes")
        vote(hartmann, first, "yes")
        vote(kinloch, first, "no")
        assert "the motion failed" in vote(wilson, first, "no")
        # Palmer's page shows the others' votes as they come, without a reload by hand.
        expect(palmer.locator(f"[data-testid=tally-{first}]")).to_contain_text(
            "Yes 2, no 2", timeout=15000
        )

        # The second passes 4-0: the certificate is issued.
        second = move(kinloch, "certify", certificate)
        vote(kinloch, second, "yes")
        vote(wilson, second, "yes")
        assert "the motion passed" in vote(palmer, second, "yes")
        assert "Vote recorded: 4 yes" in vote(hartmann, second, "yes")
        b.check(hartmann)

        # A rescind motion is recorded; the certificate stands.
        rescind = move(hartmann, "rescind", certificate)
        for page, choice in ((hartmann, "yes"), (palmer, "yes"), (kinloch, "no"), (wilson, "no")):
            vote(page, rescind, choice)
        b.visit(clerk, "/boards/county:wayne")
        assert "failed" in clerk.locator(f"[data-testid=tally-{rescind}]").inner_text()
        row = clerk.locator("tr", has=clerk.locator(f"a[href='/certificates/{certificate}']"))
        assert "(in force)" in row.inner_text()
        assert "entry" in row.locator("td").nth(2).inner_text()

        # An audit: opened, committed, seeded and drawn by the state; read on a phone.
        admin = b.sign_in("admin")
        b.visit(admin, "/audits")
        admin.fill("#name", "wayne-rla")
        admin.select_option("#method", "comparison")
        admin.fill("#risk_limit", "10")
        admin.check("#c-president")
        admin.get_by_role("button", name="Open the audit").click()
        admin.get_by_role("button", name="Commit the ballot manifests and CVRs").click()
        admin.fill("#seed", "31415926535897932384")
        admin.get_by_role("button", name="Record the seed").click()
        admin.fill("#size", "6")
        admin.get_by_role("button", name="Draw the round").click()
        assert "Ballots drawn" in flash(admin)
        b.check(admin)
        b.visit(admin, "/audits/wayne-rla/rounds/1/retrieval")
        drawn = admin.locator("tbody tr").count()
        assert drawn >= 1
        auditor = b.sign_in("audit.wayne", viewport=PHONE)
        b.visit(auditor, "/keys")
        auditor.click("[data-make-key]")
        auditor.locator("text=Your key is waiting for approval").wait_for()
        b.visit(clerk, "/keys")
        clerk.click("button[aria-label='Approve the key of audit.wayne']")
        assert "Key registered in the election log" in flash(clerk)
        b.visit(admin, "/audits/wayne-rla")
        admin.fill("#board", "wayne/1")
        admin.get_by_role("button", name="Seat the audit board").click()
        assert "Audit board wayne/1 seated" in flash(admin)
        b.visit(auditor, "/audits/wayne-rla/entry")
        read = 0
        to_read = "form.reading:not(.again)"  # not the forms to read a ballot again
        while auditor.locator(to_read).count():
            form = auditor.locator(to_read).first
            ballot = form.locator("input[name=ballot]").get_attribute("value")
            for candidate in export.paper(ballot):
                form.locator(f"input[name=votes][value={candidate}]").check()
            box = form.locator("button").bounding_box()
            assert box["x"] + box["width"] <= PHONE["width"]  # fits the phone's screen
            form.locator("button").click()
            sign_and_send(auditor, f"for audit board wayne/1, record that on ballot {ballot}")
            assert f"Reading of {ballot} recorded" in flash(auditor)
            read += 1
        assert read >= 1
        b.check(auditor)
        b.visit(admin, "/audits/wayne-rla")
        admin.get_by_role("button", name="Measure the risk").click()
        assert "Risk measured — president: risk" in flash(admin)
        report = admin.request.get("/audits/wayne-rla/report.pdf")
        assert report.ok and report.body().startswith(b"%PDF")

        # Published, and verified by anyone.
        b.visit(admin, "/state")
        admin.get_by_role("button", name="Publish the results bundle").click()
        assert "Published" in flash(admin)
        b.check(admin)

        # Every other page, each as someone who may see it.
        for page, path in [
            (admin, "/"),
            (admin, "/election"),
            (admin, "/accounts"),
            (admin, "/access-log"),
            (admin, "/log"),
            (admin, "/log/1"),
            (admin, "/boards/state"),
            (clerk, "/"),
            (palmer, "/"),
            (auditor, "/"),
            (auditor, "/audits"),
        ]:
            b.visit(page, path)

    assert b.errors == []
    assert b.violations == [], "\n".join(b.violations)
    result = CliRunner().invoke(
        cli, ["verify", str(office.settings.publish_dir), "--no-trust-store"]
    )
    assert result.exit_code == 0, result.output
    assert "Everything holds" in result.output


def test_the_browser_signs_the_bytes_the_command_line_signs(browser: Any, tmp_path: Path) -> None:
    """A key file read into WebCrypto signs a statement exactly as the command line does
    (Ed25519 is deterministic: same key, same bytes, same signature), and a key made in the
    browser signs what the command line's check accepts."""
    office = make_office(tmp_path, OFFICIALS[:5])
    key_file = tmp_path / "monica.key"
    signer = keys.new_signer("monica.palmer")
    keys.write_key(signer, key_file)
    statement = {
        "statement": "vote",
        "election": "mi-2020-general",
        "board": "county:wayne",
        "motion": 7,
        "kind": "certify",
        "certificate": "ab" * 32,
        "vote": "yes",
    }
    with served(office.app) as base:
        b = Browsing(browser, base, office)
        page = b.sign_in("monica.palmer")
        page.goto("/keys")
        page.set_input_files("#keyfile", str(key_file))
        page.locator("text=Your key is waiting for approval").wait_for()
        signed = page.evaluate(SIGN_WITH_KEPT_KEY, base64.b64encode(message(statement)).decode())
        assert signed == sign(signer, statement)

        other = b.sign_in("william.hartmann")
        other.goto("/keys")
        other.click("[data-make-key]")
        other.locator("text=Your key is waiting for approval").wait_for()
        kept = other.evaluate(SIGN_WITH_KEPT_KEY, base64.b64encode(message(statement)).decode())
        public = other.evaluate(PUBLIC_KEY_KEPT)
    key = VerifierKey("william.hartmann", ED25519, base64.b64decode(public))
    check(statement, kept, key, "the browser's signature")
    registered = json.loads(json.dumps(key.encode()))
    assert registered.startswith("william.hartmann+")


SIGN_WITH_KEPT_KEY = """async (message) => {
  const db = await new Promise((ok) => { const r = indexedDB.open("canvass-keys", 1); r.onsuccess = () => ok(r.result); });
  const kept = await new Promise((ok) => { const r = db.transaction("keys").objectStore("keys").get(document.querySelector('meta[name="canvass-user"]').content); r.onsuccess = () => ok(r.result); });
  const bytes = Uint8Array.from(atob(message), (c) => c.charCodeAt(0));
  const signature = await crypto.subtle.sign({name: "Ed25519"}, kept.privateKey, bytes);
  return btoa(String.fromCharCode(...new Uint8Array(signature)));
}"""

PUBLIC_KEY_KEPT = """async () => {
  const db = await new Promise((ok) => { const r = indexedDB.open("canvass-keys", 1); r.onsuccess = () => ok(r.result); });
  const kept = await new Promise((ok) => { const r = db.transaction("keys").objectStore("keys").get(document.querySelector('meta[name="canvass-user"]').content); r.onsuccess = () => ok(r.result); });
  if (kept.privateKey.extractable) throw new Error("the private key is extractable");
  return kept.publicKey;
}"""
