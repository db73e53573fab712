"""Fixtures of the officials' application: Wayne County, Michigan, November 2020 (the
presidential contest as its ballot printed it; the counts are generated, not the real
ones), the officials of every role with their passwords and authenticator secrets, and a
served application.

The expected results are counted here from the generated Dominion export itself (every
mark of every card, read as JSON), never from Canvass's own output.
"""

from __future__ import annotations

import csv
import io
import json
import re
import socket
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyotp
import yaml

from canvass.app import accounts as acc
from canvass.app.actor import Actor
from canvass.app.elections import define, init
from canvass.demo.cvrs import county_exports
from canvass.web.app import create_app
from canvass.web.settings import Settings

COUNTING_BOARDS = [f"Detroit AVCB {n}" for n in range(1, 9)]
PASSWORD = "a long passphrase for tests"
CANDIDATES = [
    ("biden", "Joseph R. Biden Kamala D. Harris", "dem"),
    ("trump", "Donald J. Trump Michael R. Pence", "rep"),
    ("jorgensen", "Jo Jorgensen Jeremy Cohen", "lib"),
    ("hawkins", "Howie Hawkins Angela Walker", "grn"),
]


def wayne_definition() -> dict[str, Any]:
    """Michigan with Wayne County's absent voter counting boards (and Kent County, so that
    one county's clerk can be refused another's work)."""
    jurisdictions: list[dict[str, Any]] = [
        {"id": "michigan", "name": "State of Michigan", "kind": "state"},
        {"id": "wayne", "name": "Wayne County", "kind": "county", "parent": "michigan"},
        {"id": "kent", "name": "Kent County", "kind": "county", "parent": "michigan"},
    ]
    precincts = []
    for n, name in enumerate(COUNTING_BOARDS, start=1):
        precincts.append(f"wayne-avcb-{n}")
        jurisdictions.append(
            {"id": f"wayne-avcb-{n}", "name": name, "kind": "precinct", "parent": "wayne"}
        )
    jurisdictions.append(
        {"id": "kent-1", "name": "Grand Rapids Precinct 1", "kind": "precinct", "parent": "kent"}
    )
    return {
        "election": {
            "id": "mi-2020-general",
            "name": "Michigan General Election, November 3, 2020",
            "date": "2020-11-03",
            "state": "MI",
            "vote_types": ["election_day", "absentee"],
        },
        "jurisdictions": jurisdictions,
        "counting_groups": [
            {"id": "election_day", "name": "Election Day", "vote_type": "election_day"},
            {"id": "absentee", "name": "Absentee", "vote_type": "absentee"},
        ],
        "tabulators": [
            {
                "id": "wayne-icc-1",
                "name": "Central count 1",
                "county": "wayne",
                "counting_group": "absentee",
            },
            {
                "id": "wayne-ps-01",
                "name": "Precinct scanner 1",
                "county": "wayne",
                "counting_group": "election_day",
            },
            {
                "id": "kent-ps-01",
                "name": "Precinct scanner 1",
                "county": "kent",
                "counting_group": "election_day",
            },
        ],
        "parties": [
            {"id": "dem", "name": "Democratic Party", "abbreviation": "DEM"},
            {"id": "rep", "name": "Republican Party", "abbreviation": "REP"},
            {"id": "lib", "name": "Libertarian Party", "abbreviation": "LIB"},
            {"id": "grn", "name": "Green Party", "abbreviation": "GRN"},
        ],
        "candidates": [{"id": i, "name": n, "party": p} for i, n, p in CANDIDATES],
        "contests": [
            {
                "id": "president",
                "name": "President and Vice President",
                "type": "candidate",
                "jurisdiction": "michigan",
                "candidates": [i for i, _, _ in CANDIDATES],
            }
        ],
        "ballot_styles": [
            {"id": "mi-1", "precincts": [*precincts, "kent-1"], "contests": ["president"]}
        ],
    }


@dataclass
class Export:
    folder: Path
    files: list[Path]
    votes: dict[str, int]
    """Candidate id → votes, counted here from the export's marks."""
    cards: Counter[tuple[str, str]]
    """(counting board's precinct id, vote type) → cards."""
    marked: dict[str, list[str]]
    """Ballot id (``wayne/tabulator/batch/record``) → the candidates marked on it."""

    def paper(self, ballot: str) -> list[str]:
        """What the audit board finds marked on the paper ballot: what the export says
        (no ballot was misread in this election)."""
        return self.marked[ballot]


def wayne_export(where: Path, ballots_per_precinct: int = 40) -> Export:
    """Wayne County's Dominion export (the demo's generator), and what it holds."""
    definition = wayne_definition()
    folder = where / "wayne-cvrs"
    folder.mkdir(parents=True)
    files = dict(dict(county_exports(definition, ballots_per_precinct, seed=2020))["wayne"])
    paths = []
    for name, data in files.items():
        (folder / name).write_bytes(data)
        paths.append(folder / name)
    sessions = json.loads(files["CvrExport.json"])["Sessions"]
    candidates = {
        c["Id"]: c["Description"] for c in json.loads(files["CandidateManifest.json"])["List"]
    }
    by_name = {n.upper(): i for i, n, _ in CANDIDATES}
    portions = {
        p["Id"]: p["ExternalId"] for p in json.loads(files["PrecinctPortionManifest.json"])["List"]
    }
    votes: Counter[str] = Counter()
    cards: Counter[tuple[str, str]] = Counter()
    marked: dict[str, list[str]] = {}
    for s in sessions:
        ballot = f"wayne/{s['TabulatorId']}/{s['BatchId']}/{s['RecordId']}"
        marked[ballot] = [
            by_name[candidates[m["CandidateId"]]]
            for card in s["Original"]["Cards"]
            for contest in card["Contests"]
            for m in contest["Marks"]
        ]
        vote_type = "absentee" if s["CountingGroupId"] == 2 else "election_day"
        cards[(portions[s["Original"]["PrecinctPortionId"]], vote_type)] += 1
        for card in s["Original"]["Cards"]:
            for contest in card["Contests"]:
                marks = contest["Marks"]
                if len(marks) == 1:  # an overvote counts for nobody; a blank has no mark
                    votes[by_name[candidates[marks[0]["CandidateId"]]]] += 1
    return Export(folder, paths, dict(votes), cards, marked)


OUT_OF_BALANCE = {"wayne-avcb-1": 3, "wayne-avcb-2": -2, "wayne-avcb-3": 1, "wayne-avcb-4": 5}
"""Counting boards whose poll book is off (voters listed minus ballots tabulated), as
Detroit's absent voter counting boards were in November 2020."""


def wayne_pollbook(export: Export, where: Path) -> Path:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    counts = ["checkins", "absentee_received", "absentee_accepted", "absentee_rejected"]
    counts += ["provisional_issued", "provisional_accepted", "ballots_issued", "ballots_spoiled"]
    writer.writerow(["county", "precinct", "vote_type", *counts, "ballots_unused"])
    for (precinct, vote_type), n in sorted(export.cards.items()):
        voters = n + (OUT_OF_BALANCE.get(precinct, 0) if vote_type == "absentee" else 0)
        if vote_type == "absentee":
            writer.writerow(["wayne", precinct, vote_type, 0, voters, voters, 0, 0, 0, 0, 0, 0])
        else:
            writer.writerow(["wayne", precinct, vote_type, voters, 0, 0, 0, 0, 0, 0, 0, 0])
    path = where / "wayne-pollbook.csv"
    path.write_text(out.getvalue())
    return path


@dataclass(frozen=True)
class Official:
    username: str
    full_name: str
    role: str
    scope: str
    secret: str
    used: list[int] = field(default_factory=list, compare=False, repr=False)
    """The TOTP time steps whose codes this official has given the application."""

    def code(self) -> str:
        """A code the application has not accepted yet (it accepts each once, and none
        older than the last): the oldest it still takes (the step before the current one)
        past the last used, after waiting for its step when that is more than one ahead."""
        totp = pyotp.TOTP(self.secret)
        while True:
            now = time.time()
            left = totp.interval - now % totp.interval
            if left < 3:  # the step may turn before the application reads the code
                time.sleep(left)
                continue
            current = totp.timecode(now)
            step = max(current - 1, self.used[-1] + 1 if self.used else current - 1)
            if step <= current + 1:
                break
            time.sleep(left)
        self.used.append(step)
        return totp.generate_otp(step)


OFFICIALS = [
    ("admin", "Jocelyn Benson", "state-admin", ""),
    ("clerk.wayne", "Cathy Garrett", "county-clerk", "wayne"),
    ("clerk.kent", "Lisa Posthumus Lyons", "county-clerk", "kent"),
    ("monica.palmer", "Monica Palmer", "board-member", "county:wayne"),
    ("william.hartmann", "William Hartmann", "board-member", "county:wayne"),
    ("jonathan.kinloch", "Jonathan Kinloch", "board-member", "county:wayne"),
    ("allen.wilson", "Allen Wilson", "board-member", "county:wayne"),
    ("state.member", "Aaron Van Langevelde", "board-member", "state"),
    ("secretary", "Secretary of State", "state-official", ""),
    ("audit.wayne", "Audit Board Wayne 1", "audit-board-member", "wayne/1"),
    ("gazette", "Detroit Free Press", "witness", ""),
    ("observer", "An Observer", "observer", ""),
]
WAYNE_BOARD = ["monica.palmer", "william.hartmann", "jonathan.kinloch", "allen.wilson"]
PARTIES = {
    "monica.palmer": "rep",
    "william.hartmann": "rep",
    "jonathan.kinloch": "dem",
    "allen.wilson": "dem",
}


@dataclass
class Office:
    """An election with its officials' application (not yet served)."""

    directory: Path
    settings: Settings
    app: Any
    officials: dict[str, Official]

    def close(self) -> None:
        """Close the application's databases (as its shutdown does)."""
        self.app.state.services.close()


def make_office(
    where: Path,
    people: list[tuple[str, str, str, str]] = OFFICIALS,
    database: str | None = None,
    schema: str | None = None,
    **settings: Any,
) -> Office:
    """Wayne County's election, defined, with an account for each of ``people`` set up
    through the invitation workflow (a known TOTP secret each); its log in ``where``
    (SQLite), or in the PostgreSQL ``database`` under ``schema`` (the accounts then
    beside it)."""
    directory = where / "election"
    election = init(directory, Actor("installer"), "canvass.test/michigan", database, schema)
    define(
        election, Actor("installer"), yaml.safe_dump(wayne_definition()).encode(), "michigan.yaml"
    )
    settings = {"password_hash": "test-only-cheapest", **settings}
    config = Settings.for_election(directory, upload_dir=where / "uploads", **settings)
    app = create_app(config)
    accounts = app.state.services.accounts
    token = acc.create_administrator(accounts, people[0][0], people[0][1])
    admin = acc.invitation(accounts, token)
    officials = {}
    for username, name, role, scope in people:
        if username != admin.username:
            token = acc.invite(
                accounts, app.state.services.election, admin, username, name, role, scope
            )
        official = Official(username, name, role, scope, pyotp.random_base32())
        acc.accept_invitation(accounts, token, PASSWORD, official.secret, official.code())
        officials[username] = official
    return Office(directory, config, app, officials)


def form_token(html: str) -> str:
    found = re.search(r'name="csrf" value="([^"]*)"', html)
    assert found, "no CSRF field on the page"
    return found.group(1)


def sign_in(client: Any, official: Official, password: str = PASSWORD) -> str:
    """Sign ``client`` in as ``official`` (password, then one-time code); the session's
    CSRF token."""
    token = form_token(client.get("/sign-in").text)
    response = client.post(
        "/sign-in", data={"csrf": token, "username": official.username, "password": password}
    )
    assert response.status_code == 200, response.text
    token = form_token(response.text)
    response = client.post("/sign-in/code", data={"csrf": token, "code": official.code()})
    assert response.status_code == 200, response.text
    return form_token(response.text)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def served(app: Any) -> Iterator[str]:
    """The app under uvicorn on a free loopback port, in a thread; yields its address."""
    import uvicorn

    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(
            app, host="127.0.0.1", port=port, log_level="warning", timeout_graceful_shutdown=2
        )
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline:
            raise RuntimeError("the application did not start")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(10)
