"""Passkeys (WebAuthn) as the second factor, instead of the one-time code.

A signed-in person adds a passkey (their security key, phone or computer's platform
authenticator): the browser makes a credential for this site (the relying party) and the
server keeps its public key. Signing in is then the password, then the passkey: the
server hands the session waiting for its second factor a challenge, the authenticator
signs it, and the server checks the signature against the public key it kept, for this
site's origin, with the authenticator's signature count moving forward (a count that does
not suggests a cloned authenticator). Each challenge is used once, within five minutes,
and only by the session it was given to. The checks are py_webauthn's (Duo Labs), which
implements the WebAuthn Level 2 verification procedures; nothing here is cryptography of
its own.

A failed passkey step counts against the account and the address as a wrong code does,
and is in the access log.
"""

from __future__ import annotations

import json
import secrets
from datetime import timedelta
from typing import Any

import webauthn
from sqlalchemy import select
from sqlalchemy.engine import Connection
from webauthn.helpers import bytes_to_base64url
from webauthn.helpers.exceptions import WebAuthnException
from webauthn.helpers.structs import (
    AuthenticatorSelectionCriteria,
    PublicKeyCredentialDescriptor,
    ResidentKeyRequirement,
    UserVerificationRequirement,
)

from canvass.app.accounts import (
    Account,
    AccountError,
    Accounts,
    _at,
    _fail,
    _now,
    _refuse_if_throttled,
    _sha,
    complete_session,
    session,
)
from canvass.store import accounts as t

CHALLENGE_MINUTES = 5
REGISTER, SIGN_IN = "register", "sign-in"


def _challenge(conn: Connection, token: str, purpose: str) -> bytes:
    challenge = secrets.token_bytes(32)
    where = (t.passkey_challenge.c.session_sha256 == _sha(token)) & (
        t.passkey_challenge.c.purpose == purpose
    )
    conn.execute(t.passkey_challenge.delete().where(where))
    conn.execute(
        t.passkey_challenge.insert().values(
            session_sha256=_sha(token),
            purpose=purpose,
            challenge=bytes_to_base64url(challenge),
            expires_at=_at(_now() + timedelta(minutes=CHALLENGE_MINUTES)),
        )
    )
    return challenge


def _take_challenge(conn: Connection, token: str, purpose: str) -> bytes:
    """The session's challenge for ``purpose``, removed: a challenge answers once."""
    where = (t.passkey_challenge.c.session_sha256 == _sha(token)) & (
        t.passkey_challenge.c.purpose == purpose
    )
    row = conn.execute(select(t.passkey_challenge).where(where)).first()
    conn.execute(t.passkey_challenge.delete().where(where))
    if row is None or row.expires_at < _at(_now()):
        raise AccountError("the passkey request has expired or was answered already; try again")
    return webauthn.base64url_to_bytes(row.challenge)


def _credentials(conn: Connection, account: int) -> list[Any]:
    return list(conn.execute(select(t.passkey).where(t.passkey.c.account == account)).all())


def passkey_count(accounts: Accounts, account: Account) -> int:
    with accounts.reading() as conn:
        return len(_credentials(conn, account.id))


def waiting_has_passkey(accounts: Accounts, token: str) -> bool:
    """Whether the account of the session waiting for its second factor has a passkey."""
    found = session(accounts, token, complete=False)
    if found is None:
        return False
    with accounts.reading() as conn:
        return bool(_credentials(conn, found.account.id))


def list_passkeys(accounts: Accounts, account: Account) -> list[dict[str, str]]:
    with accounts.reading() as conn:
        return [
            {"credential_id": str(c.credential_id), "added_at": str(c.added_at)}
            for c in _credentials(conn, account.id)
        ]


def remove_passkey(accounts: Accounts, account: Account, credential_id: str) -> None:
    """Remove one of the account's own passkeys (lost, or replaced); the one-time code
    still signs the person in."""
    with accounts.writing() as conn:
        done = conn.execute(
            t.passkey.delete().where(
                (t.passkey.c.credential_id == credential_id) & (t.passkey.c.account == account.id)
            )
        )
        if done.rowcount != 1:
            raise AccountError("no such passkey among yours")


def registration_options(accounts: Accounts, token: str, account: Account, rp_id: str) -> str:
    """The options (JSON) for the browser to make a passkey for ``account`` on this site."""
    with accounts.writing() as conn:
        existing = _credentials(conn, account.id)
        challenge = _challenge(conn, token, REGISTER)
    options = webauthn.generate_registration_options(
        rp_id=rp_id,
        rp_name="Canvass",
        user_name=account.username,
        user_display_name=account.full_name,
        user_id=f"canvass-account-{account.id}".encode(),
        challenge=challenge,
        authenticator_selection=AuthenticatorSelectionCriteria(
            resident_key=ResidentKeyRequirement.DISCOURAGED,
            user_verification=UserVerificationRequirement.PREFERRED,
        ),
        exclude_credentials=[
            PublicKeyCredentialDescriptor(id=webauthn.base64url_to_bytes(c.credential_id))
            for c in existing
        ],
    )
    return str(webauthn.options_to_json(options))


def add_passkey(
    accounts: Accounts,
    token: str,
    account: Account,
    credential: dict[str, Any],
    rp_id: str,
    origin: str,
) -> None:
    """Keep the passkey the browser made, once its attestation checks out for this site
    and the challenge this session was given."""
    with accounts.writing() as conn:
        challenge = _take_challenge(conn, token, REGISTER)
    try:
        made = webauthn.verify_registration_response(
            credential=json.dumps(credential),
            expected_challenge=challenge,
            expected_rp_id=rp_id,
            expected_origin=origin,
        )
    except (WebAuthnException, ValueError, TypeError, KeyError) as e:
        raise AccountError(f"the passkey was not accepted: {e}") from None
    with accounts.writing() as conn:
        conn.execute(
            t.passkey.insert().values(
                credential_id=bytes_to_base64url(made.credential_id),
                account=account.id,
                public_key=bytes_to_base64url(made.credential_public_key),
                sign_count=made.sign_count,
                added_at=_at(_now()),
            )
        )


def _waiting(accounts: Accounts, token: str) -> Account:
    found = session(accounts, token, complete=False)
    if found is None or found.complete:
        raise AccountError("sign in with your password first")
    return found.account


def sign_in_options(accounts: Accounts, token: str, rp_id: str) -> str:
    """The options (JSON) for the browser to sign this session's challenge with one of the
    account's passkeys."""
    account = _waiting(accounts, token)
    with accounts.writing() as conn:
        existing = _credentials(conn, account.id)
        if not existing:
            raise AccountError("this account has no passkey; enter the one-time code instead")
        challenge = _challenge(conn, token, SIGN_IN)
    options = webauthn.generate_authentication_options(
        rp_id=rp_id,
        challenge=challenge,
        allow_credentials=[
            PublicKeyCredentialDescriptor(id=webauthn.base64url_to_bytes(c.credential_id))
            for c in existing
        ],
        user_verification=UserVerificationRequirement.PREFERRED,
    )
    return str(webauthn.options_to_json(options))


def passkey_second_factor(
    accounts: Accounts,
    token: str,
    credential: dict[str, Any],
    rp_id: str,
    origin: str,
    address: str,
) -> Account:
    """Check the passkey's signature of this session's challenge; the session is
    complete."""
    account = _waiting(accounts, token)
    with accounts.reading() as conn:
        _refuse_if_throttled(conn, account.username, address)
    why = ""
    with accounts.writing() as conn:
        challenge = _take_challenge(conn, token, SIGN_IN)
        known = {c.credential_id: c for c in _credentials(conn, account.id)}
        kept = known.get(str(credential.get("id", "")))
        if kept is None:
            why = "not a passkey of this account"
        else:
            try:
                checked = webauthn.verify_authentication_response(
                    credential=json.dumps(credential),
                    expected_challenge=challenge,
                    expected_rp_id=rp_id,
                    expected_origin=origin,
                    credential_public_key=webauthn.base64url_to_bytes(kept.public_key),
                    credential_current_sign_count=int(kept.sign_count),
                )
            except (WebAuthnException, ValueError, TypeError, KeyError) as e:
                why = f"the passkey's answer does not check out ({e})"
            else:
                conn.execute(
                    t.passkey.update()
                    .where(t.passkey.c.credential_id == kept.credential_id)
                    .values(sign_count=checked.new_sign_count)
                )
                complete_session(conn, token)
    if why:
        _fail(accounts, account.username, address, "/sign-in/passkey", why)
        raise AccountError(f"the passkey was not accepted: {why}")
    return account
