"""Live updates in the browser (server-sent events): a county's dashboard, open in a
clerk's browser, says that the log has grown when someone else changes the election, and
keeps what the clerk was typing; the board meeting shows a new motion without a reload by
hand (the end-to-end test, tests/test_web_browser.py)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from canvass.app import accounts as acc
from canvass.app.elections import size
from tests.officials import OFFICIALS, make_office, served
from tests.test_web_browser import Browsing

pytestmark = pytest.mark.timeout(600)


def test_a_dashboard_says_the_log_has_grown_and_keeps_the_form(
    browser: Any, tmp_path: Path
) -> None:
    office = make_office(tmp_path, OFFICIALS[:3])
    services = office.app.state.services
    with served(office.app) as base:
        b = Browsing(browser, base, office)
        clerk = b.sign_in("clerk.wayne")
        b.visit(clerk, "/counties/wayne")
        note = clerk.locator("p[data-live]")
        assert note.inner_text() == ""
        clerk.select_option("#format", "ess")  # a choice made, not yet sent
        admin = acc.account_named(services.accounts, "admin")
        assert admin is not None
        acc.record_access_head(services.accounts, services.election, admin)
        expect(note).to_contain_text(
            f"Something changed since this page was shown (the log now holds "
            f"{size(services.election)} entries).",
            timeout=30000,
        )
        assert clerk.locator("#format").input_value() == "ess"  # not reloaded
        with clerk.expect_navigation():
            note.get_by_role("link", name="Show it").click()
        assert note.inner_text() == ""
        b.check(clerk)
    assert b.errors == []
    assert b.violations == [], "\n".join(b.violations)


def test_the_log_size_for_pages_without_event_source(tmp_path: Path) -> None:
    from fastapi.testclient import TestClient

    from tests.officials import sign_in

    office = make_office(tmp_path, OFFICIALS[:2])
    services = office.app.state.services
    client = TestClient(office.app, base_url="https://testserver")
    sign_in(client, office.officials["clerk.wayne"])
    assert client.get("/api/live/size").json() == {"log_size": size(services.election)}
    anonymous = TestClient(office.app, base_url="https://testserver")
    assert anonymous.get("/api/live/size").status_code == 401
