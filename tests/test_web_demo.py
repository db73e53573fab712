"""The demo's officials: an account for every role, printed, each able to sign in; the
county board members' accounts are named as the keys the demo registered, whose key files
are in demo-keys/."""

from __future__ import annotations

import time
from pathlib import Path

import pyotp
import pytest
from fastapi.testclient import TestClient

from canvass.app.elections import open_election, registered_keys
from canvass.demo.build import build_demo
from canvass.demo.officials import PASSWORD, PEOPLE, main
from canvass.web.app import create_app
from canvass.web.settings import Settings
from tests.officials import Official, sign_in


@pytest.mark.slow
def test_demo_accounts_sign_in(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    directory = tmp_path / "demo"
    build_demo(directory, counties=4, precincts=16, ballots_per_precinct=30)
    capsys.readouterr()
    assert main([str(directory)]) == 0
    printed = capsys.readouterr().out
    assert f"(password: {PASSWORD!r})" in printed
    secrets = {
        line.split()[0]: line.split()[-1]
        for line in printed.splitlines()
        if "authenticator secret" in line
    }
    assert sorted(secrets) == sorted(p[0] for p in PEOPLE)
    app = create_app(Settings.for_election(directory))
    for username, name, role, scope in PEOPLE:
        client = TestClient(app, base_url="https://testserver")
        # The demo accepted each invitation with the code of that moment: past it, the next.
        official = Official(username, name, role, scope, secrets[username])
        official.used.append(pyotp.TOTP(official.secret).timecode(time.time()))
        sign_in(client, official, PASSWORD)
        assert client.get("/api/").json()["role"] == role
    keys = {k["name"] for k in registered_keys(open_election(directory))}
    assert {"c001-dem1", "c001-dem2", "c001-rep1", "c001-rep2", "secretary-of-state"} <= keys
    assert (directory / "demo-keys" / "c001-dem1.key").exists()
