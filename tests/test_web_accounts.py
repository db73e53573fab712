"""Accounts of the officials' application: invitations, passwords (Argon2id), the second
factor, sessions and their cookies, rate-limited sign-in, the access log and its export,
key requests — each error a person can meet, with its exact words."""

from __future__ import annotations

import base64
import csv
import io
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyotp
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from canvass.app import accounts as acc
from canvass.app import key_requests as keyreq
from canvass.app.accounts import AccountError, TooManyAttempts
from canvass.app.actor import Actor
from canvass.app.elections import entries, register_key, registered_keys
from canvass.domain.model import KeyRole
from canvass.errors import CanvassError
from canvass.log.note import ED25519, VerifierKey
from canvass.store import accounts as tables
from canvass.web.app import create_app
from tests.officials import PASSWORD, Office, form_token, make_office, sign_in

PEOPLE = [
    ("admin", "Jocelyn Benson", "state-admin", ""),
    ("clerk.wayne", "Cathy Garrett", "county-clerk", "wayne"),
    ("clerk.kent", "Lisa Posthumus Lyons", "county-clerk", "kent"),
    ("monica.palmer", "Monica Palmer", "board-member", "county:wayne"),
    ("observer", "An Observer", "observer", ""),
]


@pytest.fixture
def office(tmp_path: Path) -> Iterator[Office]:
    made = make_office(tmp_path, PEOPLE)
    yield made
    made.close()


def client(office: Office) -> TestClient:
    return TestClient(office.app, base_url="https://testserver")


def problem(html: str) -> str:
    start = html.index('class="problem">') + len('class="problem">')
    return html[start : html.index("</p>", start)]


def test_a_session_cookie_is_http_only_same_site_and_secure(office: Office) -> None:
    c = client(office)
    token = form_token(c.get("/sign-in").text)
    response = c.post(
        "/sign-in",
        data={"csrf": token, "username": "admin", "password": PASSWORD},
        follow_redirects=False,
    )
    cookie = response.headers["set-cookie"]
    assert cookie.startswith("canvass_session=")
    for flag in ("HttpOnly", "Secure", "SameSite=strict", "Path=/"):
        assert flag in cookie
    # Past the password, nothing but the one-time code is open.
    assert c.get("/api/counties/wayne").json() == {"error": "sign in first"}


def test_wrong_password_then_too_many_attempts(office: Office) -> None:
    c = client(office)
    token = form_token(c.get("/sign-in").text)
    for _ in range(acc.FAILURES_PER_ACCOUNT):
        response = c.post("/sign-in", data={"csrf": token, "username": "admin", "password": "nope"})
        assert response.status_code == 400
        assert problem(response.text) == "the username or the password is not right"
    response = c.post("/sign-in", data={"csrf": token, "username": "admin", "password": PASSWORD})
    assert response.status_code == 429
    assert problem(response.text) == (
        "too many failed sign-in attempts; try again in 15 minutes or ask your administrator"
    )
    events = [r["event"] for r in acc.access_log(office.app.state.services.accounts)]
    assert events.count("sign-in failed") == acc.FAILURES_PER_ACCOUNT


def test_too_many_attempts_from_one_address(office: Office) -> None:
    c = client(office)
    token = form_token(c.get("/sign-in").text)
    for n in range(acc.FAILURES_PER_ADDRESS):
        data = {"csrf": token, "username": f"nobody{n}", "password": "nope"}
        assert c.post("/sign-in", data=data).status_code == 400
    response = c.post("/sign-in", data={"csrf": token, "username": "admin", "password": PASSWORD})
    assert response.status_code == 429


def test_a_wrong_one_time_code(office: Office) -> None:
    c = client(office)
    token = form_token(c.get("/sign-in").text)
    c.post("/sign-in", data={"csrf": token, "username": "observer", "password": PASSWORD})
    code = pyotp.TOTP(office.officials["observer"].secret).now()
    wrong = f"{(int(code) + 500000) % 1000000:06d}"
    response = c.post("/sign-in/code", data={"csrf": token, "code": wrong})
    assert response.status_code == 400
    assert problem(response.text) == (
        "the one-time code is not right; enter the code your app shows now"
    )
    assert c.get("/api/log").json() == {"error": "sign in first"}


def test_a_code_without_a_password_first(office: Office) -> None:
    c = client(office)
    token = form_token(c.get("/sign-in").text)
    response = c.post("/sign-in/code", data={"csrf": token, "code": "123456"})
    assert response.status_code == 401
    assert problem(response.text) == "sign in with your password first"


def give_code(c: TestClient, username: str, code: str) -> Any:
    """Sign in with the password, then give ``code``."""
    token = form_token(c.get("/sign-in").text)
    c.post("/sign-in", data={"csrf": token, "username": username, "password": PASSWORD})
    return c.post("/sign-in/code", data={"csrf": token, "code": code})


def test_a_one_time_code_is_accepted_once(office: Office) -> None:
    observer = office.officials["observer"]
    code = observer.code()
    first = client(office)
    assert give_code(first, "observer", code).status_code == 200
    assert first.get("/api/").json()["username"] == "observer"
    # Someone who saw the code (over a shoulder, in a phishing page's form) cannot use it.
    second = client(office)
    replayed = give_code(second, "observer", code)
    assert replayed.status_code == 400
    assert problem(replayed.text) == (
        "this one-time code was used already; wait for your app to show the next one and enter that"
    )
    assert second.get("/api/log").json() == {"error": "sign in first"}
    # Nor an older code still inside the window (RFC 6238 §5.2: none before the last used).
    totp = pyotp.TOTP(observer.secret)
    step = totp.timecode(time.time())
    newer = totp.generate_otp(step + 1)
    assert give_code(client(office), "observer", newer).status_code == 200
    older = give_code(client(office), "observer", totp.generate_otp(step))
    assert problem(older.text).startswith("this one-time code was used already")
    failed = [
        r["detail"]
        for r in acc.access_log(office.app.state.services.accounts)
        if r["event"] == "sign-in failed"
    ]
    assert failed == ["one-time code used again", "one-time code used again"]


def test_the_invitations_code_does_not_sign_in(office: Office) -> None:
    accounts = office.app.state.services.accounts
    admin = acc.account_named(accounts, "admin")
    assert admin is not None
    token = acc.invite(
        accounts, office.app.state.services.election, admin, "late", "Late Comer", "observer"
    )
    secret = pyotp.random_base32()
    code = pyotp.TOTP(secret).now()
    acc.accept_invitation(accounts, token, PASSWORD, secret, code)
    response = give_code(client(office), "late", code)
    assert problem(response.text).startswith("this one-time code was used already")


def test_replayed_codes_count_towards_the_limit(office: Office) -> None:
    code = office.officials["observer"].code()
    assert give_code(client(office), "observer", code).status_code == 200
    for _ in range(acc.FAILURES_PER_ACCOUNT):
        assert give_code(client(office), "observer", code).status_code == 400
    c = client(office)
    token = form_token(c.get("/sign-in").text)
    limited = c.post("/sign-in", data={"csrf": token, "username": "observer", "password": PASSWORD})
    assert limited.status_code == 429


def test_sign_out_ends_the_session(office: Office) -> None:
    c = client(office)
    csrf = sign_in(c, office.officials["observer"])
    assert c.get("/api/log").status_code == 200
    c.post("/sign-out", data={"csrf": csrf})
    assert c.get("/api/log").json() == {"error": "sign in first"}
    events = [
        (r["username"], r["event"]) for r in acc.access_log(office.app.state.services.accounts)
    ]
    assert ("observer", "signed in") in events and ("observer", "signed out") in events


def test_an_invitation_works_once(office: Office) -> None:
    c = client(office)
    csrf = sign_in(c, office.officials["admin"])
    response = c.post(
        "/api/accounts",
        json={
            "username": "new.clerk",
            "full_name": "New Clerk",
            "role": "county-clerk",
            "scope": "kent",
        },
        headers={"X-CSRF-Token": csrf},
    )
    link = response.json()["invitation"]
    path = link.removeprefix("https://testserver")
    fresh = client(office)
    page = fresh.get(path).text
    secret = page.split('name="secret" value="')[1].split('"')[0]
    data = {"csrf": form_token(page), "secret": secret, "code": pyotp.TOTP(secret).now()}
    short = fresh.post(path, data={**data, "password": "short", "password_again": "short"})
    assert problem(short.text) == "the password is too short: use at least 12 characters"
    differ = fresh.post(path, data={**data, "password": PASSWORD, "password_again": PASSWORD + "x"})
    assert problem(differ.text) == "the two passwords are not the same"
    done = fresh.post(path, data={**data, "password": PASSWORD, "password_again": PASSWORD})
    assert "Your account is ready" in done.text
    again = fresh.get(path)
    assert again.status_code == 400
    assert problem(again.text) == (
        "this invitation link is not valid: it was used, it expired, or it was mistyped; "
        "ask your administrator for a new one"
    )


@pytest.mark.parametrize(
    ("username", "role", "scope", "message"),
    [
        (
            "x y",
            "observer",
            "",
            "username 'x y' is not usable: it names the person's key in the election log, so it is non-empty, with no spaces and no '+'",
        ),
        (
            "z",
            "mayor",
            "",
            "role 'mayor' is not one of state-admin, county-clerk, board-member, state-official, audit-board-member, witness, observer",
        ),
        ("z", "county-clerk", "oakland", "'oakland' is not a county of the election"),
        (
            "z",
            "board-member",
            "wayne",
            "a board member's scope is a board: 'state' or 'county:<county id>'; found 'wayne'",
        ),
        (
            "z",
            "audit-board-member",
            "wayne",
            "an audit-board member's scope is '<county id>/<board>'; found 'wayne'",
        ),
        ("z", "observer", "wayne", "a observer has no scope; found 'wayne'"),
        ("monica.palmer", "observer", "", "an account named 'monica.palmer' exists already"),
    ],
)
def test_an_invitation_refused(
    office: Office, username: str, role: str, scope: str, message: str
) -> None:
    c = client(office)
    csrf = sign_in(c, office.officials["admin"])
    response = c.post(
        "/api/accounts",
        json={"username": username, "full_name": "Z", "role": role, "scope": scope},
        headers={"X-CSRF-Token": csrf},
    )
    assert response.status_code == 400
    assert response.json() == {"error": message}


def test_a_key_is_requested_then_approved_by_the_county_clerk_only(office: Office) -> None:
    member = client(office)
    csrf = sign_in(member, office.officials["monica.palmer"])
    public = base64.b64encode(bytes(range(32))).decode()
    assert member.post(
        "/api/keys", json={"public_key": "%%"}, headers={"X-CSRF-Token": csrf}
    ).json() == {"error": "the public key is not base64"}
    short = base64.b64encode(b"123").decode()
    assert member.post(
        "/api/keys", json={"public_key": short}, headers={"X-CSRF-Token": csrf}
    ).json() == {"error": "an Ed25519 public key is 32 bytes; found 3"}
    made = member.post(
        "/api/keys", json={"public_key": public}, headers={"X-CSRF-Token": csrf}
    ).json()
    again = member.post("/api/keys", json={"public_key": public}, headers={"X-CSRF-Token": csrf})
    assert again.json() == {
        "error": "a key for this account is registered or waiting for approval already; "
        "a registered key is never replaced"
    }
    kent = client(office)
    csrf_kent = sign_in(kent, office.officials["clerk.kent"])
    refused = kent.post(f"/api/keys/{made['request']}/approve", headers={"X-CSRF-Token": csrf_kent})
    assert refused.json() == {
        "error": "a county-clerk cannot approve the key of a board-member (county:wayne)"
    }
    wayne = client(office)
    csrf_wayne = sign_in(wayne, office.officials["clerk.wayne"])
    approved = wayne.post(
        f"/api/keys/{made['request']}/approve", headers={"X-CSRF-Token": csrf_wayne}
    )
    entry = approved.json()["entry"]
    key = next(
        k
        for k in registered_keys(office.app.state.services.election)
        if k["name"] == "monica.palmer"
    )
    assert key["role"] == "board-member"
    ((_, logged),) = entries(office.app.state.services.election, entry, 1)
    assert (logged.type, logged.actor) == ("key.registered", "clerk.wayne")


def test_the_access_log_is_exported_and_its_chain_holds(office: Office) -> None:
    c = client(office)
    sign_in(client(office), office.officials["observer"])
    sign_in(c, office.officials["admin"])
    response = c.get("/access-log.csv")
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert [r["event"] for r in rows][-1] == "signed in"
    accounts, election = office.app.state.services.accounts, office.app.state.services.election
    assert acc.check_access_log(accounts, election) == []
    with accounts.writing() as conn:
        conn.execute(
            tables.access_log.update().where(tables.access_log.c.id == 1).values(detail="edited")
        )
    assert acc.check_access_log(accounts, election) == [
        "access log row 2: the row before it is not as it was"
    ]


def cut_off_the_end(accounts: acc.Accounts, rows: int) -> None:
    """Remove the access log's last ``rows`` rows, as someone holding its database could."""
    with accounts.writing() as conn:
        last = conn.scalar(select(func.max(tables.access_log.c.id)))
        conn.execute(tables.access_log.delete().where(tables.access_log.c.id > last - rows))


def test_the_access_logs_head_in_the_election_log_shows_rows_cut_off(office: Office) -> None:
    accounts, election = office.app.state.services.accounts, office.app.state.services.election
    c = client(office)
    csrf = sign_in(c, office.officials["admin"])
    observer = client(office)
    sign_in(observer, office.officials["observer"])
    recorded = c.post("/api/access-log/head", headers={"X-CSRF-Token": csrf}).json()
    rows = len(acc.access_log(accounts))
    ((_, entry),) = entries(election, recorded["entry"], 1)
    assert (entry.type, entry.actor, entry.data["rows"]) == ("access-log.head", "admin", rows)
    page = c.get("/access-log").text
    assert f'Last recorded in election log entry <a href="/log/{recorded["entry"]}">' in page
    for _ in range(2):  # refused, so in the access log after its head
        assert observer.get("/api/accounts").status_code == 403
    assert len(acc.access_log(accounts)) == rows + 2
    assert acc.check_access_log(accounts, election) == []

    # The chain alone cannot tell the last rows were removed: what is left is a whole chain.
    cut_off_the_end(accounts, 3)
    with accounts.reading() as conn:
        assert tables.check_access_chain(conn) == []
    assert acc.check_access_log(accounts, election) == [
        f"the access log holds {rows - 1} rows; election log entry {recorded['entry']} "
        f"recorded {rows}: rows were removed from its end"
    ]
    page = c.get("/access-log").text
    assert "The access log is not as it was: the access log holds" in page

    # Nor can rows rewritten with a chain of their own pass for those the head named.
    with accounts.writing() as conn:
        kept = list(conn.execute(select(tables.access_log).order_by("id")).mappings())
        conn.execute(tables.access_log.delete())
        for row in kept:
            fields = {f: row[f] for f in tables.ACCESS_FIELDS if f != "id"}
            if row["event"] == "signed in" and row["username"] == "observer":
                fields["username"] = "admin"
            tables.append_access(conn, fields)
        tables.append_access(conn, fields)
        tables.append_access(conn, fields)
    assert acc.check_access_log(accounts, election) == [
        f"the access log's first {rows} rows are not those election log entry "
        f"{recorded['entry']} recorded"
    ]


def test_the_passwords_are_argon2id(office: Office) -> None:
    with office.app.state.services.accounts.reading() as conn:
        hashes = [r.password_hash for r in conn.execute(tables.account.select())]
    assert all(h.startswith("$argon2id$") for h in hashes)


def test_accounts_errors_are_account_errors() -> None:
    assert issubclass(TooManyAttempts, AccountError)


def test_an_upload_error_names_the_file_as_uploaded(office: Office) -> None:
    c = client(office)
    csrf = sign_in(c, office.officials["clerk.wayne"])
    response = c.post(
        "/counties/wayne/pollbooks",
        data={"csrf": csrf},
        files=[("pollbook", ("wayne.csv", b"county,precinct\nwayne,x\n"))],
    )
    assert response.status_code == 400
    assert problem(response.text).startswith("wayne.csv row 1: expected columns vote_type")
    assert list((office.settings.upload_dir).iterdir()) == []  # nothing left behind


def test_pages_forbid_inline_script_framing_and_caching(office: Office) -> None:
    c = client(office)
    sign_in(c, office.officials["observer"])
    headers = c.get("/log").headers
    assert "script-src" not in headers["content-security-policy"]  # default-src 'self'
    assert "default-src 'self'" in headers["content-security-policy"]
    assert "frame-ancestors 'none'" in headers["content-security-policy"]
    assert headers["cache-control"] == "no-store"
    assert headers["x-content-type-options"] == "nosniff"


APPROVE_THEN_CRASH = """
import os, sys
from pathlib import Path
from canvass.app import accounts as acc
from canvass.app import key_requests as keyreq
from canvass.app.elections import open_election

accounts = acc.Accounts.open(sys.argv[1], "test-only-cheapest")
election = open_election(Path(sys.argv[2]))
request, when = int(sys.argv[3]), sys.argv[4]
register = keyreq.register_key

def register_and_crash(*args, **kwargs):
    if when == "before the log":
        os._exit(9)
    register(*args, **kwargs)
    os._exit(9)

keyreq.register_key = register_and_crash
keyreq.decide_key(accounts, election, acc.account_named(accounts, "clerk.wayne"), request, True)
"""


def approve_then_crash(office: Office, request: int, when: str) -> None:
    """Approve the key request in a process that dies (no clean-up runs) at ``when``."""
    where = [office.settings.accounts_url, str(office.directory), str(request), when]
    done = subprocess.run(
        [sys.executable, "-c", APPROVE_THEN_CRASH, *where],
        env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parent.parent)},
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 9, done.stderr


def test_a_key_approval_that_crashed_is_whole_or_not_at_all(office: Office) -> None:
    accounts, election = office.app.state.services.accounts, office.app.state.services.election
    member = acc.account_named(accounts, "monica.palmer")
    clerk = acc.account_named(accounts, "clerk.wayne")
    assert member is not None and clerk is not None
    request = keyreq.request_key(accounts, member, bytes(range(32)))

    # The process ends after taking the request up, before the log: nothing was approved.
    approve_then_crash(office, request, "before the log")
    assert "monica.palmer" not in {k["name"] for k in registered_keys(election)}
    (mine,) = keyreq.key_requests(accounts, election, member)
    assert (mine.decision, mine.log_entry) == (None, None)
    restarted = create_app(office.settings)
    with accounts.reading() as conn:
        assert conn.scalar(select(tables.key_request.c.decision)) is None
    del restarted

    # It ends after the key is in the log, before the request is marked: approved, whole.
    approve_then_crash(office, request, "after the log")
    logged = next(k for k in registered_keys(election) if k["name"] == "monica.palmer")
    (mine,) = keyreq.key_requests(accounts, election, member)
    assert (mine.decision, mine.decided_by, mine.log_entry) == (
        "approved",
        "clerk.wayne",
        logged["entry"],
    )
    with pytest.raises(AccountError, match=f"^key request {request} was approved already$"):
        keyreq.decide_key(accounts, election, clerk, request, True)
    with pytest.raises(AccountError, match="registered or waiting for approval already"):
        keyreq.request_key(accounts, member, bytes(range(1, 33)))
    create_app(office.settings)  # settles what the crash left
    with accounts.reading() as conn:
        row = conn.execute(select(tables.key_request)).one()
    assert (row.decision, row.decided_by, row.log_entry) == (
        "approved",
        "clerk.wayne",
        logged["entry"],
    )
    assert [e.type for _, e in entries(election, logged["entry"], 1)] == ["key.registered"]


def test_a_key_approval_refused_by_the_log_leaves_the_request_waiting(office: Office) -> None:
    accounts, election = office.app.state.services.accounts, office.app.state.services.election
    member = acc.account_named(accounts, "monica.palmer")
    clerk = acc.account_named(accounts, "clerk.wayne")
    assert member is not None and clerk is not None
    request = keyreq.request_key(accounts, member, bytes(range(32)))
    # Someone registered a different key under the same name from the command line.
    register_key(
        election,
        Actor("installer"),
        VerifierKey("monica.palmer", ED25519, bytes(32)),
        KeyRole.BOARD_MEMBER,
    )
    with pytest.raises(CanvassError, match="already registered"):
        keyreq.decide_key(accounts, election, clerk, request, True)
    (mine,) = keyreq.key_requests(accounts, election, member)
    assert mine.decision is None
    keyreq.decide_key(accounts, election, clerk, request, False)
    (mine,) = keyreq.key_requests(accounts, election, member)
    assert (mine.decision, mine.decided_by) == ("refused", "clerk.wayne")
