"""Accounts of the officials' application: invitations, passwords (Argon2id), the second
factor, sessions and their cookies, rate-limited sign-in, the access log and its export,
key requests — each error a person can meet, with its exact words."""

from __future__ import annotations

import base64
import csv
import io
from pathlib import Path

import pyotp
import pytest
from fastapi.testclient import TestClient

from canvass.app import accounts as acc
from canvass.app.accounts import AccountError, TooManyAttempts
from canvass.app.elections import registered_keys
from canvass.store import accounts as tables
from tests.officials import PASSWORD, Office, form_token, make_office, sign_in

PEOPLE = [
    ("admin", "Jocelyn Benson", "state-admin", ""),
    ("clerk.wayne", "Cathy Garrett", "county-clerk", "wayne"),
    ("clerk.kent", "Lisa Posthumus Lyons", "county-clerk", "kent"),
    ("monica.palmer", "Monica Palmer", "board-member", "county:wayne"),
    ("observer", "An Observer", "observer", ""),
]


@pytest.fixture
def office(tmp_path: Path) -> Office:
    return make_office(tmp_path, PEOPLE)


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
    from canvass.app.elections import entries

    ((_, logged),) = entries(office.app.state.services.election, entry, 1)
    assert (logged.type, logged.actor) == ("key.registered", "clerk.wayne")


def test_the_access_log_is_exported_and_its_chain_holds(office: Office) -> None:
    c = client(office)
    csrf = sign_in(client(office), office.officials["observer"])
    sign_in(c, office.officials["admin"])
    del csrf
    response = c.get("/access-log.csv")
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert [r["event"] for r in rows][-1] == "signed in"
    accounts = office.app.state.services.accounts
    assert acc.check_access_log(accounts) == []
    with accounts.writing() as conn:
        conn.execute(
            tables.access_log.update().where(tables.access_log.c.id == 1).values(detail="edited")
        )
    assert acc.check_access_log(accounts) == [
        "access log row 2: the row before it is not as it was"
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
