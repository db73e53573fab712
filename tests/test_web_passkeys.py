"""Passkeys (WebAuthn) as the second factor, in Chromium with its virtual authenticator
(the DevTools protocol's ``WebAuthn.addVirtualAuthenticator``, a CTAP2 authenticator that
keeps its credentials in the browser and signs as a security key does).

A clerk signs in with the one-time code, adds a passkey, signs out, and signs in again with
the password and the passkey; a second browser profile, whose authenticator holds no
passkey of the account, cannot; an answer to a challenge is not accepted twice, nor is a
made-up one, and each refusal is a failed sign-in step in the access log.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from canvass.app import accounts as acc
from tests.officials import OFFICIALS, PASSWORD, form_token, make_office, served, sign_in
from tests.test_web_browser import serious_violations

pytestmark = pytest.mark.timeout(600)

AUTHENTICATOR = {
    "protocol": "ctap2",
    "transport": "usb",
    "hasResidentKey": False,
    "hasUserVerification": True,
    "isUserVerified": True,
    "automaticPresenceSimulation": True,
}


def with_authenticator(browser: Any, base: str) -> tuple[Any, Any]:
    context = browser.new_context(base_url=base)
    page = context.new_page()
    cdp = context.new_cdp_session(page)
    cdp.send("WebAuthn.enable")
    added = cdp.send("WebAuthn.addVirtualAuthenticator", {"options": AUTHENTICATOR})
    return page, (cdp, added["authenticatorId"])


def password_step(page: Any, username: str) -> None:
    page.goto("/sign-in")
    page.fill("#username", username)
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url("**/sign-in/code**")


def test_a_passkey_signs_in_instead_of_the_one_time_code(browser: Any, tmp_path: Path) -> None:
    office = make_office(tmp_path, OFFICIALS[:3])
    services = office.app.state.services
    with served(office.app) as base:
        # WebAuthn takes a host name, not an address, as the site's id: localhost.
        base = base.replace("127.0.0.1", "localhost")
        page, (cdp, authenticator) = with_authenticator(browser, base)
        errors: list[str] = []
        page.on("pageerror", lambda e: errors.append(str(e)))

        password_step(page, "clerk.wayne")
        assert page.locator("[data-passkey-button]").count() == 0  # no passkey yet
        page.fill("#code", office.officials["clerk.wayne"].code())
        page.click("form button[type=submit]")
        page.goto("/passkeys")
        page.click("[data-passkey-add-button]")
        page.locator("table tbody tr th code").wait_for()
        assert page.locator("table tbody tr").count() == 1
        assert serious_violations(page) == []
        [held] = cdp.send("WebAuthn.getCredentials", {"authenticatorId": authenticator})[
            "credentials"
        ]
        assert (
            page.locator("table tbody tr th code")
            .inner_text()
            .startswith(held["credentialId"].replace("+", "-").replace("/", "_")[:16])
        )

        page.click("header button[type=submit]")  # sign out
        page.wait_for_url("**/sign-in")
        password_step(page, "clerk.wayne")
        assert serious_violations(page) == []  # the code page with its passkey button
        with page.expect_navigation():
            page.click("[data-passkey-button]")
        assert page.url == base + "/", page.url
        assert "Cathy Garrett" in page.locator("header").inner_text()
        after = cdp.send("WebAuthn.getCredentials", {"authenticatorId": authenticator})
        assert after["credentials"][0]["signCount"] > held["signCount"]

        # Another profile's authenticator holds no passkey of this account: refused.
        other, _ = with_authenticator(browser, base)
        password_step(other, "clerk.wayne")
        other.click("[data-passkey-button]")
        status = other.locator("[data-passkey-status][role=alert]")
        status.wait_for(timeout=90000)
        assert "/sign-in/code" in other.url
        assert errors == []

    log = acc.access_log(services.accounts)
    passkey_rows = [
        (r["username"], r["event"], r["detail"]) for r in log if r["path"] == "/sign-in/passkey"
    ]
    assert passkey_rows[0] == ("clerk.wayne", "signed in", "passkey")
    assert any(r["event"] == "passkey added" for r in log)


def test_a_made_up_or_replayed_answer_is_refused(tmp_path: Path) -> None:
    """Without an authenticator: an answer that is not a signature of the challenge by a
    passkey of the account is refused, as is a second answer to one challenge; each
    refusal is a failed step in the access log, and the session stays incomplete."""
    office = make_office(tmp_path, OFFICIALS[:3])
    services = office.app.state.services
    client = TestClient(office.app, base_url="https://testserver")
    sign_in(client, office.officials["clerk.wayne"])
    # A passkey kept for the account (its public key need not match: the answer below
    # names it, and is checked against it).
    account = acc.account_named(services.accounts, "clerk.wayne")
    assert account is not None
    from canvass.store import accounts as t

    with services.accounts.writing() as conn:
        conn.execute(
            t.passkey.insert().values(
                credential_id="AAAA", account=account.id, public_key="pQECAyYgASFYIA",
                sign_count=0, added_at="2026-01-01T00:00:00Z",
            )
        )  # fmt: skip
    client.post("/sign-out", data={"csrf": form_token(client.get("/").text)})

    fresh = TestClient(office.app, base_url="https://testserver")
    token = form_token(fresh.get("/sign-in").text)
    response = fresh.post(
        "/sign-in", data={"csrf": token, "username": "clerk.wayne", "password": PASSWORD}
    )
    assert "Sign in with my passkey" in response.text
    options = fresh.post("/api/sign-in/passkey/options", json={"csrf": token})
    assert options.status_code == 200, options.text
    assert [c["id"] for c in options.json()["allowCredentials"]] == ["AAAA"]
    made_up = {
        "id": "AAAA",
        "rawId": "AAAA",
        "type": "public-key",
        "response": {"clientDataJSON": "e30", "authenticatorData": "AAAA", "signature": "AAAA"},
    }
    response = fresh.post("/api/sign-in/passkey", json={"csrf": token, "credential": made_up})
    assert response.status_code == 400
    assert response.json()["error"].startswith("the passkey was not accepted: ")
    # The challenge was spent by that answer: another answer to it is refused outright.
    response = fresh.post("/api/sign-in/passkey", json={"csrf": token, "credential": made_up})
    assert response.json()["error"] == (
        "the passkey request has expired or was answered already; try again"
    )
    assert fresh.get("/api/", follow_redirects=False).status_code != 200  # not signed in
    failed = [r for r in acc.access_log(services.accounts) if r["event"] == "sign-in failed"]
    assert [r["path"] for r in failed] == ["/sign-in/passkey"]
    # Without the form's token, nothing is handed out.
    response = fresh.post("/api/sign-in/passkey/options", json={"csrf": "wrong"})
    assert response.status_code == 403


def test_a_passkey_is_removed_by_its_owner_only(tmp_path: Path) -> None:
    from canvass.store import accounts as t

    office = make_office(tmp_path, OFFICIALS[:3])
    services = office.app.state.services
    signed = {}
    for username in ("clerk.wayne", "clerk.kent"):
        client = TestClient(office.app, base_url="https://testserver")
        signed[username] = (client, sign_in(client, office.officials[username]))
    account = acc.account_named(services.accounts, "clerk.wayne")
    assert account is not None
    with services.accounts.writing() as conn:
        conn.execute(
            t.passkey.insert().values(
                credential_id="AAAA", account=account.id, public_key="pQECAyYgASFYIA",
                sign_count=0, added_at="2026-01-01T00:00:00Z",
            )
        )  # fmt: skip
    client, csrf = signed["clerk.kent"]
    response = client.post(
        "/api/passkeys/remove", json={"credential": "AAAA"}, headers={"X-CSRF-Token": csrf}
    )
    assert (response.status_code, response.json()) == (
        400,
        {"error": "no such passkey among yours"},
    )
    client, csrf = signed["clerk.wayne"]
    assert "AAAA" in client.get("/passkeys").text
    response = client.post(
        "/api/passkeys/remove", json={"credential": "AAAA"}, headers={"X-CSRF-Token": csrf}
    )
    assert response.status_code == 200, response.text
    assert client.get("/api/passkeys").json() == {"passkeys": []}
    last = acc.access_log(services.accounts)[-1]
    assert (last["username"], last["event"]) == ("clerk.wayne", "passkey removed")
