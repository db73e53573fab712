"""Who may do what in the officials' application, proved from its own route table: every
state-changing route called by every role that must not use it (and by a clerk of another
county, a member of another board), by nobody signed in, and with a missing or a wrong
CSRF token, is refused and writes nothing (Arlo's ``restrict_access``, tested the same
way for every route)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from canvass.app import accounts as acc
from canvass.app.elections import size
from canvass.store import accounts as tables
from canvass.web.access import Access
from canvass.web.app import route_table
from tests.officials import Office, make_office, sign_in

PARAMS = {
    "county": "wayne",
    "board": "county:wayne",
    "request_id": "1",
    "motion": "1",
    "audit": "a1",
    "number": "1",
    "token": "not-a-token",
}
"""What each path parameter is filled with: Wayne County and its board."""

BOARD = {"monica.palmer", "william.hartmann", "jonathan.kinloch", "allen.wilson"}
SIGNERS = BOARD | {"state.member", "secretary", "audit.wayne", "gazette"}
EVERYONE = {
    "admin",
    "clerk.wayne",
    "clerk.kent",
    "state.member",
    "secretary",
    "audit.wayne",
    "gazette",
    "observer",
} | BOARD
EXPECTED = {
    "/sign-out": EVERYONE,
    "/accounts": {"admin"},
    "/access-log/head": {"admin"},
    "/keys": SIGNERS,
    "/keys/{request_id}/approve": {"admin", "clerk.wayne", "clerk.kent"},
    "/keys/{request_id}/refuse": {"admin", "clerk.wayne", "clerk.kent"},
    "/election/definition": {"admin"},
    "/election/draft": {"admin"},
    "/counties/{county}/imports": {"clerk.wayne"},
    "/counties/{county}/pollbooks": {"clerk.wayne"},
    "/counties/{county}/explanations": {"clerk.wayne"},
    "/counties/{county}/corrections": {"clerk.wayne"},
    "/boards/{board}/seat": {"admin", "clerk.wayne"},
    "/boards/{board}/meetings": {"admin", "clerk.wayne"},
    "/boards/{board}/certificates": {"admin", "clerk.wayne"},
    "/boards/{board}/motions": BOARD,
    "/boards/{board}/motions/{motion}/votes": BOARD,
    "/state/escalations": {"admin"},
    "/state/ascertainment/prepare": {"secretary"},
    "/state/ascertainment": {"secretary"},
    "/publish": {"admin"},
    "/audits": {"admin"},
    "/audits/{audit}/commit": {"admin"},
    "/audits/{audit}/seed": {"admin"},
    "/audits/{audit}/rounds": {"admin"},
    "/audits/{audit}/readings": {"audit.wayne"},
    "/audits/{audit}/tallies": {"audit.wayne"},
    "/audits/{audit}/measure": {"admin"},
    "/audits/{audit}/boards": {"admin"},
    "/passkeys/options": EVERYONE,
    "/passkeys": EVERYONE,
    "/passkeys/remove": EVERYONE,
}
"""Who may use each state-changing route (in Wayne County): the declarations, reviewed."""
PUBLIC = {
    "/sign-in",
    "/sign-in/code",
    "/sign-in/passkey/options",
    "/sign-in/passkey",
    "/invitations/{token}",
}
"""Forms posted before signing in: guarded by their own CSRF token."""


def access_of(route: APIRoute) -> Access | None:
    for dependency in route.dependant.dependencies:
        if isinstance(dependency.call, Access):
            return dependency.call
    return None


def changing_routes(app: Any) -> list[APIRoute]:
    return [r for r in route_table() if set(r.methods) - {"GET", "HEAD"}]


def path_of(route: APIRoute) -> str:
    return route.path.format(**PARAMS)


def nothing_written(office: Office) -> tuple[int, ...]:
    """The log's size and the rows of every accounts table but the access log."""
    services = office.app.state.services
    with services.accounts.reading() as conn:
        counts = tuple(
            int(conn.scalar(select(func.count()).select_from(t)) or 0)
            for t in (
                tables.account,
                tables.invitation,
                tables.web_session,
                tables.key_request,
                tables.one_time_code,
                tables.reading_signature,
                tables.passkey,
                tables.passkey_challenge,
            )
        )
    return (size(services.election), *counts)


@pytest.fixture(scope="module")
def office(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Office]:
    made = make_office(tmp_path_factory.mktemp("office"))
    yield made
    made.close()


@pytest.fixture(scope="module")
def clients(office: Office) -> dict[str, tuple[TestClient, str]]:
    """Every official signed in, with their session's CSRF token."""
    signed = {}
    for username, official in office.officials.items():
        client = TestClient(office.app, base_url="https://testserver")
        signed[username] = (client, sign_in(client, official))
    return signed


def test_every_state_changing_route_declares_who_may_use_it(office: Office) -> None:
    declared = {}
    for route in changing_routes(office.app):
        path = route.path.removeprefix("/api")
        if path in PUBLIC:
            assert access_of(route) is None
            continue
        access = access_of(route)
        assert access is not None, f"{route.path} declares no access"
        services = office.app.state.services
        allowed = {
            username
            for username in office.officials
            if access.allows(acc.account_named(services.accounts, username), PARAMS)  # type: ignore[arg-type]
        }
        declared[path] = allowed
    assert declared == EXPECTED


def test_role_by_route_matrix_refuses_and_writes_nothing(
    office: Office, clients: dict[str, tuple[TestClient, str]], capsys: pytest.CaptureFixture[str]
) -> None:
    pairs = 0
    for route in changing_routes(office.app):
        path = route.path.removeprefix("/api")
        if path in PUBLIC:
            continue
        url = path_of(route)
        for username, (client, csrf) in clients.items():
            if username in EXPECTED[path]:
                continue
            before = nothing_written(office)
            response = client.post(url, data={"csrf": csrf})
            assert response.status_code == 403, (url, username, response.text[:300])
            assert nothing_written(office) == before, (url, username)
            pairs += 1
        anonymous = TestClient(office.app, base_url="https://testserver", follow_redirects=False)
        before = nothing_written(office)
        response = anonymous.post(url, data={"csrf": "x"})
        assert response.status_code == 401, (url, response.text[:300])
        assert nothing_written(office) == before
        pairs += 1
        allowed = sorted(EXPECTED[path])[0]
        client, csrf = clients[allowed]
        for token in ({}, {"csrf": "wrong" + csrf}):
            before = nothing_written(office)
            response = client.post(url, data=token)
            assert response.status_code == 403, (url, allowed, token, response.text[:300])
            assert "CSRF token missing or wrong" in response.text
            assert nothing_written(office) == before
            pairs += 1
    for route in changing_routes(office.app):
        if route.path.removeprefix("/api") not in PUBLIC:
            continue
        url = path_of(route)
        for form in ({}, {"csrf": "wrong"}):
            client = TestClient(office.app, base_url="https://testserver")
            client.get("/sign-in")
            before = nothing_written(office)
            response = client.post(url, data={**form, "username": "admin", "password": "x"})
            assert response.status_code == 403, (url, response.text[:300])
            assert nothing_written(office) == before
            pairs += 1
    with capsys.disabled():
        print(f"\nrole-by-route matrix: {pairs} refused requests checked, each writing nothing")
    assert pairs > 500


def test_a_refusal_is_in_the_access_log(
    office: Office, clients: dict[str, tuple[TestClient, str]]
) -> None:
    client, csrf = clients["clerk.kent"]
    response = client.post("/counties/wayne/explanations", data={"csrf": csrf})
    assert response.status_code == 403
    assert "a county-clerk of kent may not do this" in response.text
    last = acc.access_log(office.app.state.services.accounts)[-1]
    assert (last["username"], last["event"], last["path"]) == (
        "clerk.kent",
        "refused",
        "/counties/wayne/explanations",
    )
    services = office.app.state.services
    assert acc.check_access_log(services.accounts, services.election) == []


def test_json_refusal_says_why(office: Office, clients: dict[str, tuple[TestClient, str]]) -> None:
    client, csrf = clients["observer"]
    response = client.post("/api/audits", json={}, headers={"X-CSRF-Token": csrf})
    assert response.status_code == 403
    assert response.json() == {"error": "an observer may not do this"}


def test_refused_without_signing_in_the_page_sends_to_sign_in(
    office: Office, tmp_path: Path
) -> None:
    client = TestClient(office.app, base_url="https://testserver", follow_redirects=False)
    response = client.get("/counties/wayne")
    assert response.status_code == 303
    assert response.headers["location"] == "/sign-in?next=/counties/wayne"
    assert client.get("/api/counties/wayne").json() == {"error": "sign in first"}
