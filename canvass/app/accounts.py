"""The officials who sign in: accounts and their roles, invitations, passwords and the
second factor, sessions and the access log.

Roles (a role and, where it has one, its scope):

==========================  ===========================  ===============================
role                        scope                        signs with their own key
==========================  ===========================  ===============================
``state-admin``             —                            no
``county-clerk``            a county id                  no
``board-member``            a board: ``county:<id>``,    yes (motions, votes)
                            ``state``
``state-official``          —                            yes (ascertainment)
``audit-board-member``      ``<county id>/<board>``      yes (readings)
``witness``                 —                            yes (cosignatures)
``observer``                —                            no (reads only)
==========================  ===========================  ===============================

An administrator creates an account and hands its one-time invitation link to the person,
who chooses a password (hashed with Argon2id, RFC 9106) and sets up a time-based one-time
password (TOTP, RFC 6238) as the second factor; each code is accepted once. Signing in is
two steps, each rate-limited per account and per address; a session is complete only after
the second. The person's username is the name of their key in the election log, so every
change they make is recorded under it; :mod:`canvass.app.key_requests` registers that key.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from pathlib import Path
from typing import Any

import pyotp
from argon2 import PasswordHasher, profiles
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import Engine, func, select
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from canvass.app.actor import Actor
from canvass.app.audits import seat_board
from canvass.app.elections import entries, registered_keys
from canvass.app.results import definition
from canvass.domain.model import JurisdictionKind, KeyRole
from canvass.errors import CanvassError
from canvass.errors import VerificationError as KeyError_
from canvass.log.entry import new_entry
from canvass.log.note import check_key_name
from canvass.store import accounts as t
from canvass.store import db
from canvass.store.election import DATABASE_CONFIG, ElectionDirectory


class Role(StrEnum):
    STATE_ADMIN = "state-admin"
    COUNTY_CLERK = "county-clerk"
    BOARD_MEMBER = "board-member"
    STATE_OFFICIAL = "state-official"
    AUDIT_BOARD_MEMBER = "audit-board-member"
    WITNESS = "witness"
    OBSERVER = "observer"


SIGNING_ROLES = {
    Role.BOARD_MEMBER: KeyRole.BOARD_MEMBER,
    Role.STATE_OFFICIAL: KeyRole.STATE_OFFICIAL,
    Role.AUDIT_BOARD_MEMBER: KeyRole.AUDIT_BOARD,
    Role.WITNESS: KeyRole.WITNESS,
}
"""The roles whose people sign with their own key, and the role their key is registered
under in the election log."""

INVITATION_DAYS = 7
SESSION_HOURS = 12
SIGN_IN_WINDOW = timedelta(minutes=15)
FAILURES_PER_ACCOUNT = 5
"""Failed sign-in steps in :data:`SIGN_IN_WINDOW` after which an account is refused."""
FAILURES_PER_ADDRESS = 20
MIN_PASSWORD = 12

PASSWORD_HASHES = {
    "rfc9106-low-memory": profiles.RFC_9106_LOW_MEMORY,
    "rfc9106-high-memory": profiles.RFC_9106_HIGH_MEMORY,
    "test-only-cheapest": profiles.CHEAPEST,
}
"""Argon2id parameters: RFC 9106 §4's two recommended options (the low-memory one, 64 MiB
and 3 passes, is the default), and the cheapest, for tests only."""


class AccountError(CanvassError):
    """An account, invitation, sign-in or key request that cannot go on."""


class TooManyAttempts(AccountError):
    """Sign-in refused for a while after too many failures."""


@dataclass(frozen=True)
class Account:
    id: int
    username: str
    full_name: str
    role: Role
    scope: str
    active: bool

    @property
    def actor(self) -> Actor:
        return Actor(self.username)

    @property
    def county(self) -> str | None:
        """The county the account works in, if its scope names one."""
        if self.role == Role.COUNTY_CLERK:
            return self.scope
        if self.role == Role.BOARD_MEMBER and self.scope.startswith("county:"):
            return self.scope.removeprefix("county:")
        if self.role == Role.AUDIT_BOARD_MEMBER:
            return self.scope.split("/", 1)[0]
        return None


@dataclass(frozen=True)
class Session:
    account: Account
    csrf: str
    complete: bool
    """The second factor was given."""


class Accounts:
    """The accounts database (see :mod:`canvass.store.accounts`)."""

    def __init__(self, engine: Engine, password_hash: str = "rfc9106-low-memory") -> None:
        self.engine = engine
        if password_hash not in PASSWORD_HASHES:
            raise AccountError(
                f"password hash {password_hash!r} is not one of {', '.join(PASSWORD_HASHES)}"
            )
        self.hasher = PasswordHasher.from_parameters(PASSWORD_HASHES[password_hash])

    @classmethod
    def open(cls, url: str, password_hash: str = "rfc9106-low-memory") -> Accounts:
        return cls(t.accounts_engine(url), password_hash)

    @contextmanager
    def writing(self) -> Iterator[Connection]:
        with db.write_transaction(self.engine) as conn:
            yield conn

    @contextmanager
    def reading(self) -> Iterator[Connection]:
        with db.read_transaction(self.engine) as conn:
            yield conn


def default_url(election: Path) -> str:
    """Where an election's accounts are kept by default, beside its own database:
    ``accounts.db`` in its directory (SQLite), or, for an election on PostgreSQL, the
    schema ``SCHEMA_accounts`` of its database, which every app server reaches."""
    if (election / DATABASE_CONFIG).is_file():
        url, schema = ElectionDirectory.database(election)
        if url.startswith("postgresql"):
            return t.postgresql_url(url, t.schema_beside(schema))
    return t.sqlite_url(election / "accounts.db")


def _now() -> datetime:
    return datetime.now(UTC)


def _at(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _sha(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _account(row: Any) -> Account:
    return Account(row.id, row.username, row.full_name, Role(row.role), row.scope, bool(row.active))


# --- accounts and invitations ----------------------------------------------------------


def check_scope(election: ElectionDirectory, role: Role, scope: str) -> str:
    """``scope`` if it fits ``role`` in this election."""
    counties = {
        j.id for j in definition(election).jurisdictions if j.kind == JurisdictionKind.COUNTY
    }
    county = ""
    if role == Role.COUNTY_CLERK:
        county = scope
    elif role == Role.BOARD_MEMBER:
        if scope == "state":
            return scope
        if not scope.startswith("county:"):
            raise AccountError(
                f"a board member's scope is a board: 'state' or 'county:<county id>'; "
                f"found {scope!r}"
            )
        county = scope.removeprefix("county:")
    elif role == Role.AUDIT_BOARD_MEMBER:
        county, _, board = scope.partition("/")
        if not board:
            raise AccountError(
                f"an audit-board member's scope is '<county id>/<board>'; found {scope!r}"
            )
    elif scope:
        raise AccountError(f"a {role} has no scope; found {scope!r}")
    if county and county not in counties:
        raise AccountError(f"{county!r} is not a county of the election")
    return scope


def invite(
    accounts: Accounts,
    election: ElectionDirectory,
    by: Account,
    username: str,
    full_name: str,
    role: str,
    scope: str = "",
) -> str:
    """Create an account (inactive until the invitation is accepted); returns the
    invitation's one-time token."""
    try:
        role_ = Role(role)
    except ValueError:
        raise AccountError(
            f"role {role!r} is not one of {', '.join(r.value for r in Role)}"
        ) from None
    try:
        check_key_name(username)
    except KeyError_:
        raise AccountError(
            f"username {username!r} is not usable: it names the person's key in the election "
            "log, so it is non-empty, with no spaces and no '+'"
        ) from None
    if not full_name.strip():
        raise AccountError("the person's full name is empty")
    scope = check_scope(election, role_, scope.strip())
    with accounts.writing() as conn:
        if conn.scalar(select(t.account.c.id).where(t.account.c.username == username)):
            raise AccountError(f"an account named {username!r} exists already")
        return _new_account(conn, username, full_name.strip(), role_, scope, by.username)


def _new_account(
    conn: Connection, username: str, full_name: str, role: Role, scope: str, by: str
) -> str:
    """Insert an account, inactive, and its invitation; the invitation's token."""
    token = secrets.token_urlsafe(32)
    created = conn.execute(
        t.account.insert().values(
            username=username,
            full_name=full_name,
            role=role.value,
            scope=scope,
            active=False,
            created_at=_at(_now()),
            created_by=by,
        )
    ).inserted_primary_key
    assert created is not None
    conn.execute(
        t.invitation.insert().values(
            token_sha256=_sha(token),
            account=created[0],
            expires_at=_at(_now() + timedelta(days=INVITATION_DAYS)),
        )
    )
    return token


def invitation(accounts: Accounts, token: str) -> Account:
    """The account an unused, unexpired invitation is for."""
    with accounts.reading() as conn:
        row = conn.execute(
            select(t.invitation).where(t.invitation.c.token_sha256 == _sha(token))
        ).first()
        if row is None or row.used_at is not None or row.expires_at < _at(_now()):
            raise AccountError(
                "this invitation link is not valid: it was used, it expired, or it was "
                "mistyped; ask your administrator for a new one"
            )
        found = conn.execute(select(t.account).where(t.account.c.id == row.account)).one()
        return _account(found)


def new_totp_secret() -> str:
    return pyotp.random_base32()


def totp_uri(account: Account, secret: str, issuer: str = "Canvass") -> str:
    """The otpauth:// URI an authenticator app reads (by QR code or typed in)."""
    return pyotp.TOTP(secret).provisioning_uri(name=account.username, issuer_name=issuer)


def accept_invitation(
    accounts: Accounts, token: str, password: str, totp_secret: str, code: str
) -> Account:
    """Set the account's password and second factor (the code proves the person's
    authenticator holds the secret) and make it active; the invitation is used up."""
    account = invitation(accounts, token)
    if len(password) < MIN_PASSWORD:
        raise AccountError(f"the password is too short: use at least {MIN_PASSWORD} characters")
    step = _code_step(totp_secret, code)
    if step is None:
        raise AccountError(
            "the code from the authenticator app is not right; check the device's clock "
            "and enter the code it shows now"
        )
    with accounts.writing() as conn:
        conn.execute(
            t.one_time_code.insert().values(account=account.id, step=step, used_at=_at(_now()))
        )
        used = conn.execute(
            t.invitation.update()
            .where((t.invitation.c.token_sha256 == _sha(token)) & t.invitation.c.used_at.is_(None))
            .values(used_at=_at(_now()))
        )
        if used.rowcount != 1:
            raise AccountError("this invitation link was used already")
        conn.execute(
            t.account.update()
            .where(t.account.c.id == account.id)
            .values(
                password_hash=accounts.hasher.hash(password), totp_secret=totp_secret, active=True
            )
        )
    return account


def list_accounts(accounts: Accounts) -> list[Account]:
    with accounts.reading() as conn:
        return [_account(r) for r in conn.execute(select(t.account).order_by(t.account.c.id))]


def account_named(accounts: Accounts, username: str) -> Account | None:
    with accounts.reading() as conn:
        row = conn.execute(select(t.account).where(t.account.c.username == username)).first()
        return _account(row) if row is not None else None


# --- signing in ------------------------------------------------------------------------


def _failures(conn: Connection, column: Any, value: str) -> int:
    since = _at(_now() - SIGN_IN_WINDOW)
    return int(
        conn.scalar(
            select(func.count())
            .select_from(t.access_log)
            .where((column == value) & (t.access_log.c.event == "sign-in failed"))
            .where(t.access_log.c.at >= since)
        )
        or 0
    )


def _refuse_if_throttled(conn: Connection, username: str, address: str) -> None:
    if (
        _failures(conn, t.access_log.c.username, username) >= FAILURES_PER_ACCOUNT
        or _failures(conn, t.access_log.c.address, address) >= FAILURES_PER_ADDRESS
    ):
        minutes = int(SIGN_IN_WINDOW.total_seconds() // 60)
        raise TooManyAttempts(
            f"too many failed sign-in attempts; try again in {minutes} minutes "
            "or ask your administrator"
        )


def _fail(accounts: Accounts, username: str, address: str, path: str, why: str) -> None:
    record(accounts, username, "sign-in failed", "POST", path, address, why)


def sign_in(accounts: Accounts, username: str, password: str, address: str) -> str:
    """Check the password; returns a session token waiting for the second factor."""
    with accounts.reading() as conn:
        _refuse_if_throttled(conn, username, address)
        row = conn.execute(select(t.account).where(t.account.c.username == username)).first()
    wrong = AccountError("the username or the password is not right")
    if row is None or not row.active or row.password_hash is None:
        accounts.hasher.hash(password)  # as long as a real check, so timing tells nothing
        _fail(accounts, username, address, "/sign-in", "no such active account")
        raise wrong
    try:
        accounts.hasher.verify(row.password_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        _fail(accounts, username, address, "/sign-in", "wrong password")
        raise wrong from None
    token = secrets.token_urlsafe(32)
    with accounts.writing() as conn:
        conn.execute(
            t.web_session.insert().values(
                token_sha256=_sha(token),
                account=row.id,
                csrf=secrets.token_urlsafe(32),
                second_factor=False,
                created_at=_at(_now()),
                expires_at=_at(_now() + timedelta(minutes=10)),
            )
        )
    return token


def _code_step(secret: str, code: str) -> int | None:
    """The time step whose code ``code`` is: this one or one either side, for a clock a
    little off (RFC 6238 §5.2); None if none."""
    totp = pyotp.TOTP(secret)
    now = totp.timecode(_now())
    code = code.strip()
    for step in (now - 1, now, now + 1):
        if hmac.compare_digest(totp.generate_otp(step), code):
            return step
    return None


CODE_WRONG = "the one-time code is not right; enter the code your app shows now"
CODE_USED = (
    "this one-time code was used already; wait for your app to show the next one and enter that"
)


def _use_code(conn: Connection, account: int, code: str) -> str | None:
    """Accept ``code`` once, in the write transaction ``conn``: never a code already used,
    nor one older than the last used (RFC 6238 §5.2); None, or why it is refused."""
    secret = conn.scalar(select(t.account.c.totp_secret).where(t.account.c.id == account))
    step = _code_step(secret, code) if secret else None
    if step is None:
        return CODE_WRONG
    last = conn.scalar(
        select(func.max(t.one_time_code.c.step)).where(t.one_time_code.c.account == account)
    )
    if last is not None and step <= last:
        return CODE_USED
    conn.execute(
        t.one_time_code.delete().where(
            (t.one_time_code.c.account == account) & (t.one_time_code.c.step < step)
        )
    )
    conn.execute(t.one_time_code.insert().values(account=account, step=step, used_at=_at(_now())))
    return None


def complete_session(conn: Connection, token: str) -> None:
    """The second factor given: the session is complete, with a CSRF token of its own."""
    conn.execute(
        t.web_session.update()
        .where(t.web_session.c.token_sha256 == _sha(token))
        .values(
            second_factor=True,
            expires_at=_at(_now() + timedelta(hours=SESSION_HOURS)),
            csrf=secrets.token_urlsafe(32),
        )
    )


def second_factor(accounts: Accounts, token: str, code: str, address: str) -> Account:
    """Check the one-time code of a session waiting for it (each code is accepted once);
    the session is complete."""
    found = session(accounts, token, complete=False)
    if found is None or found.complete:
        raise AccountError("sign in with your password first")
    account = found.account
    with accounts.reading() as conn:
        _refuse_if_throttled(conn, account.username, address)
    try:
        with accounts.writing() as conn:
            refused = _use_code(conn, account.id, code)
            if refused is None:
                complete_session(conn, token)
    except IntegrityError:  # the same code accepted a moment ago by another request
        refused = CODE_USED
    if refused is not None:
        why = "wrong one-time code" if refused == CODE_WRONG else "one-time code used again"
        _fail(accounts, account.username, address, "/sign-in/code", why)
        raise AccountError(refused)
    return account


def session(accounts: Accounts, token: str, complete: bool = True) -> Session | None:
    """The live session ``token`` opens (with ``complete``: only one past the second
    factor), or None."""
    with accounts.reading() as conn:
        row = conn.execute(
            select(t.web_session, t.account)
            .join(t.account, t.account.c.id == t.web_session.c.account)
            .where(t.web_session.c.token_sha256 == _sha(token))
        ).first()
    if row is None or row.ended_at is not None or row.expires_at < _at(_now()):
        return None
    if not row.active or (complete and not row.second_factor):
        return None
    return Session(_account(row), row.csrf, bool(row.second_factor))


def sign_out(accounts: Accounts, token: str) -> None:
    with accounts.writing() as conn:
        conn.execute(
            t.web_session.update()
            .where(t.web_session.c.token_sha256 == _sha(token))
            .values(ended_at=_at(_now()))
        )


# --- the access log --------------------------------------------------------------------


def record(
    accounts: Accounts,
    username: str,
    event: str,
    method: str,
    path: str,
    address: str,
    detail: str = "",
) -> None:
    """Append to the access log: sign-ins, sign-outs, failures and refused requests."""
    row = {
        "at": _at(_now()),
        "username": username,
        "event": event,
        "method": method,
        "path": path[:500],
        "address": address,
        "detail": detail[:500],
    }
    with accounts.writing() as conn:
        t.append_access(conn, row)


def access_log(accounts: Accounts) -> list[dict[str, Any]]:
    with accounts.reading() as conn:
        return [
            {f: r[f] for f in t.ACCESS_FIELDS}
            for r in conn.execute(select(t.access_log).order_by(t.access_log.c.id)).mappings()
        ]


ACCESS_HEAD = "access-log.head"
"""The election log's entry that records the access log's head."""


def record_access_head(accounts: Accounts, election: ElectionDirectory, by: Account) -> int:
    """Record the access log's head in the election log, under ``by``'s name: how many
    rows it holds and the SHA-256 of the last. The election log is signed and its
    checkpoints published, so from then on whoever holds the accounts database cannot
    remove, edit or cut short a row up to that head unseen (:func:`check_access_log`)."""
    with accounts.reading() as conn:
        rows, head = t.access_head(conn)
    with election.writing() as w:
        return w.append(new_entry(ACCESS_HEAD, by.username, {"rows": rows, "sha256": head}))


def access_heads(election: ElectionDirectory) -> list[tuple[int, int, str]]:
    """(log entry, rows, SHA-256) of each head of the access log the election log
    recorded, oldest first."""
    return [
        (i, int(e.data["rows"]), str(e.data["sha256"]))
        for i, e in entries(election)
        if e.type == ACCESS_HEAD
    ]


def check_access_log(accounts: Accounts, election: ElectionDirectory) -> list[str]:
    """Where the access log is not as it was: its chain broken (a row removed, edited or
    inserted), or a head the election log recorded not found in it (rows cut off the end,
    or the rows up to it rewritten with a new chain)."""
    heads = access_heads(election)
    with accounts.reading() as conn:
        problems = t.check_access_chain(conn)
        size, _ = t.access_head(conn)
        for entry, rows, head in heads:
            if rows > size:
                problems.append(
                    f"the access log holds {size} rows; election log entry {entry} recorded "
                    f"{rows}: rows were removed from its end"
                )
            elif t.access_head(conn, rows)[1] != head:
                problems.append(
                    f"the access log's first {rows} rows are not those election log entry "
                    f"{entry} recorded"
                )
    return problems


def create_administrator(
    accounts: Accounts, username: str, full_name: str, created_by: str = "installer"
) -> str:
    """The first state administrator (set up at installation); returns the invitation
    token."""
    with accounts.writing() as conn:
        return _new_account(
            conn, check_key_name(username), full_name, Role.STATE_ADMIN, "", created_by
        )


def seat_audit_board(
    accounts: Accounts, election: ElectionDirectory, actor: Actor, audit: str, board: str
) -> int:
    """Seat audit board ``board`` (``<county>/<name>``) for ``audit``: its members are the
    audit-board accounts of that scope whose keys are registered."""
    registered = {k["name"] for k in registered_keys(election)}
    members = [
        a.username
        for a in list_accounts(accounts)
        if a.role == Role.AUDIT_BOARD_MEMBER and a.scope == board and a.username in registered
    ]
    if not members:
        raise AccountError(
            f"audit board {board!r} has no member with a registered key; invite them "
            "(role audit-board-member, scope <county>/<board>) and approve their keys first"
        )
    return seat_board(election, actor, audit, board, members)
