"""The election's definition drafted from a voting system's files and reviewed in the
browser: the administrator uploads a county's Dominion export, reads what to review and
the drafted YAML, corrects it on the page, and records it; drafting records nothing.

What the draft must hold is read here from the export's own manifests (the candidates'
names as Dominion spells them), never from Canvass's output.
"""

from __future__ import annotations

import html
import json
import re
from pathlib import Path
from typing import Any

import yaml
from fastapi.testclient import TestClient

from canvass.app.elections import entries, size
from tests.officials import OFFICIALS, form_token, make_office, served, sign_in, wayne_export


def textarea(page: str) -> str:
    found = re.search(r'<textarea id="text" name="text"[^>]*>(.*?)</textarea>', page, re.S)
    assert found, page[:2000]
    return html.unescape(found.group(1))


def test_a_definition_drafted_from_an_export_is_reviewed_then_recorded(tmp_path: Path) -> None:
    office = make_office(tmp_path, OFFICIALS[:1])
    services = office.app.state.services
    export = wayne_export(tmp_path)
    client = TestClient(office.app, base_url="https://testserver")
    csrf = sign_in(client, office.officials["admin"])
    page = client.get("/election").text
    assert 'action="/election/draft"' in page

    before = size(services.election)
    files = [("files", (p.name, p.read_bytes(), "application/json")) for p in export.files]
    response = client.post(
        "/election/draft",
        data={
            "csrf": csrf,
            "format": "dominion",
            "state": "MI",
            "election_id": "mi-2020-general",
            "county": "Wayne County",
            "name": "Michigan General Election, November 3, 2020",
            "date": "2020-11-03",
        },
        files=files,
    )
    assert response.status_code == 200, response.text[:800]
    assert size(services.election) == before  # drafting records nothing
    assert "What to review" in response.text
    for folder in (office.settings.upload_dir, tmp_path):
        assert str(folder) not in response.text  # no server path on the page
    drafted = yaml.safe_load(textarea(response.text))
    manifest = next(p for p in export.files if p.name == "CandidateManifest.json")
    names = {c["Description"] for c in json.loads(manifest.read_text())["List"]}
    assert {c["name"] for c in drafted["candidates"]} >= names
    assert drafted["election"]["id"] == "mi-2020-general"
    assert drafted["election"]["state"] == "MI"
    assert any(j["name"] == "Wayne County" for j in drafted["jurisdictions"])

    # Reviewed and corrected on the page, then recorded: the definition in force.
    drafted["election"]["name"] = "Michigan General Election, November 3, 2020 (reviewed)"
    reviewed = yaml.safe_dump(drafted, sort_keys=False)
    token = form_token(response.text)
    response = client.post(
        "/election/definition", data={"csrf": token, "text": reviewed}, follow_redirects=False
    )
    assert response.status_code == 303, response.text[:800]
    assert size(services.election) == before + 1
    [(_, entry)] = entries(services.election, before, 1)
    assert entry.type == "election.defined" and entry.data["supersedes"] is not None
    shown = client.get("/api/election").json()
    assert shown["state"]["election"]["name"].endswith("(reviewed)")

    # An export that does not name the election: the form's field is named, not a flag.
    response = client.post(
        "/api/election/draft",
        data={"format": "dominion", "county": "Wayne County"},
        files=files,
        headers={"X-CSRF-Token": token},
    )
    assert response.status_code == 400, response.text
    assert response.json()["error"].endswith(
        "the export does not name the election; give the election's name"
    )

    # Files that are not the format named: one line saying so, and nothing recorded.
    response = client.post(
        "/api/election/draft",
        data={"format": "dominion"},
        files=[("files", ("notes.txt", b"not an export", "text/plain"))],
        headers={"X-CSRF-Token": token},
    )
    assert response.status_code == 400, response.text
    error = response.json()["error"]
    assert "\n" not in error and "notes.txt" in error, error
    assert str(office.settings.upload_dir) not in error
    assert size(services.election) == before + 1


def test_a_draft_reviewed_in_the_browser(browser: Any, tmp_path: Path) -> None:
    """The same in Chromium: the form on the election's page, the draft's page (checked
    with axe-core), a correction typed into it, and the definition recorded."""
    from tests.test_web_browser import Browsing, flash

    office = make_office(tmp_path, OFFICIALS[:1])
    services = office.app.state.services
    export = wayne_export(tmp_path)
    with served(office.app) as base:
        b = Browsing(browser, base, office)
        admin = b.sign_in("admin")
        b.visit(admin, "/election")
        admin.select_option("#draft-format", "dominion")
        admin.set_input_files("#draft-files", [str(p) for p in export.files])
        admin.fill("#draft-county", "Wayne County")
        admin.fill("#draft-name", "Michigan General Election, November 3, 2020")
        admin.fill("#draft-date", "2020-11-03")
        before = size(services.election)
        with admin.expect_navigation():
            admin.get_by_role("button", name="Draft a definition to review").click()
        assert admin.locator("h1").inner_text() == "A drafted election definition, to review"
        b.check(admin)
        assert size(services.election) == before
        drafted = yaml.safe_load(admin.locator("#text").input_value())
        drafted["election"]["name"] += " (reviewed)"
        admin.fill("#text", yaml.safe_dump(drafted, sort_keys=False))
        admin.get_by_role("button", name="Record this definition").click()
        assert "Definition recorded" in flash(admin)
        assert "(reviewed)" in admin.locator("main").inner_text()
    assert b.errors == []
    assert b.violations == [], "\n".join(b.violations)
    assert size(services.election) == before + 1
