"""The demo's officials: an account for every role in the demo election's officials'
application, each with the same demo password and its own authenticator secret, printed
so that anyone can sign in (the board members' key files are in ``demo-keys/``; read one
into the browser on the "My key" page).

``python -m canvass.demo.officials DIR`` creates them (once) and prints them;
``python -m canvass.demo.officials DIR --code USERNAME`` prints USERNAME's current
one-time code, in place of an authenticator app.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pyotp
from sqlalchemy import select

from canvass.app import accounts as acc
from canvass.app.elections import open_election
from canvass.store import accounts as tables

PASSWORD = "demo password, never in a real election"
PEOPLE = [
    ("admin", "Demo State Administrator", "state-admin", ""),
    ("clerk.c001", "Demo Clerk of County 1", "county-clerk", "c001"),
    ("c001-dem1", "County 1 board member (dem 1)", "board-member", "county:c001"),
    ("c001-dem2", "County 1 board member (dem 2)", "board-member", "county:c001"),
    ("c001-rep1", "County 1 board member (rep 1)", "board-member", "county:c001"),
    ("c001-rep2", "County 1 board member (rep 2)", "board-member", "county:c001"),
    ("secretary-of-state", "Demo Secretary of State", "state-official", ""),
    ("audit.c001", "Audit board 1 of County 1", "audit-board-member", "c001/1"),
    ("audit.c001.b", "Audit board 1 of County 1 (second member)", "audit-board-member", "c001/1"),
    ("lakeland-gazette", "The Lakeland Gazette", "witness", ""),
    ("observer", "Demo Observer", "observer", ""),
]


def demo_officials(directory: Path) -> list[tuple[str, str, str, str]]:
    """Create the demo accounts (if they are not there yet); (username, role, scope,
    authenticator secret) of each."""
    accounts = acc.Accounts.open(acc.default_url(directory))
    election = open_election(directory)
    if acc.account_named(accounts, PEOPLE[0][0]) is None:
        token = acc.create_administrator(accounts, PEOPLE[0][0], PEOPLE[0][1], "demo")
        admin = acc.invitation(accounts, token)
        for username, name, role, scope in PEOPLE:
            if username != admin.username:
                token = acc.invite(accounts, election, admin, username, name, role, scope)
            secret = pyotp.random_base32()
            acc.accept_invitation(accounts, token, PASSWORD, secret, pyotp.TOTP(secret).now())
    with accounts.reading() as conn:
        rows = conn.execute(select(tables.account).order_by(tables.account.c.id))
        return [(r.username, r.role, r.scope, r.totp_secret) for r in rows]


def main(argv: list[str]) -> int:
    if not argv:
        print(__doc__)
        return 2
    found = demo_officials(Path(argv[0]))
    if len(argv) == 3 and argv[1] == "--code":
        secret = next((s for u, _, _, s in found if u == argv[2]), None)
        if secret is None:
            print(f"no demo account {argv[2]!r}", file=sys.stderr)
            return 1
        print(pyotp.TOTP(secret).now())
        return 0
    print(f"Demo accounts of the officials' application (password: {PASSWORD!r}):")
    for username, role, scope, secret in found:
        print(f"  {username:<20} {role:<19} {scope:<13} authenticator secret {secret}")
    print(
        f"A one-time code without an app: .venv/bin/python -m canvass.demo.officials "
        f"{argv[0]} --code USERNAME"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
