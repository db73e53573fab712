"""A change made under an ``Idempotency-Key`` is made once: the same request made again
(its answer lost, or sent twice at once) gets the first answer, marked
``Idempotent-Replayed: true``, and the log holds the change once; the key with another
request is refused (422) and changes nothing; a change refused is not kept under its key.

A vote is the change that shows it best: made again without a key, it is refused ("has
already voted"), so a client that lost the answer cannot tell whether it counted."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import httpx
import psycopg
from sqlalchemy import update

from canvass.store import schema as s
from canvass.store.db import LOCK_CLASS
from canvass.store.election import ElectionDirectory
from tests.load import (
    UNITS,
    Prepared,
    Writes,
    app_servers,
    check_log,
    prepare,
    signed,
    signed_in,
)
from tests.officials import WAYNE_BOARD
from tests.postgres import Database
from tests.test_contention import lock_held

KEY = "Idempotency-Key"


def vote_form(client: httpx.Client, prepared: Prepared, member: str, motion: int) -> dict[str, str]:
    signable = client.get(
        f"/api/boards/wayne/motions/{motion}/statement", params={"choice": "yes"}
    ).json()
    return {"choice": "yes", "signature": signed(prepared.keys[member], signable, vote="yes")}


def entries_of(directory: Path, kind: str) -> list[int]:
    store = ElectionDirectory.open(directory)
    try:
        return [i for i, e in store.entries(1) if e.type == kind]
    finally:
        store.close()


def test_a_change_made_again_under_its_key_is_answered_not_made_twice(
    database: Database, tmp_path: Path
) -> None:
    prepared = prepare(
        tmp_path, 1, database=database.url, schema=database.schema, audit_boards=1, drawn=2
    )
    writes = Writes()
    with app_servers(prepared.directory, 1, tmp_path / "uploads") as [base]:
        member, mover = WAYNE_BOARD[0], WAYNE_BOARD[1]
        client, csrf = signed_in(base, prepared.officials[member])
        other, other_csrf = signed_in(base, prepared.officials[mover])
        assert writes.move(other, other_csrf, prepared.keys[mover], "to recess").status_code == 200
        motion = writes.motions["to recess"]
        headers = {"X-CSRF-Token": csrf, KEY: "vote-1"}
        url = f"/api/boards/wayne/motions/{motion}/votes"
        form = vote_form(client, prepared, member, motion)

        first = client.post(url, json=form, headers=headers)
        assert first.status_code == 200, first.text
        assert REPLAYED not in first.headers
        again = client.post(url, json=form, headers=headers)
        assert again.status_code == 200, again.text
        assert again.headers[REPLAYED] == "true"
        assert again.json() == first.json()
        # Without the key, the same vote is refused: it counted once.
        refused = client.post(url, json=form, headers={"X-CSRF-Token": csrf})
        assert refused.status_code == 400
        assert f"{member} has already voted on motion {motion}" in refused.json()["error"]

        # The key with another request: refused, nothing changed.
        reused = client.post(url, json={**form, "choice": "no"}, headers=headers)
        assert reused.status_code == 422
        assert reused.json() == {
            "error": "the key 'vote-1' was used already for another request; "
            "a new change needs a new key"
        }

        # A change refused is not kept under its key: made right, it is made.
        explanation = {"precinct": UNITS[0], "vote_type": "absentee", "reason": "other"}
        clerk, clerk_csrf = signed_in(base, prepared.officials["clerk.0"])
        keyed = {"X-CSRF-Token": clerk_csrf, KEY: "note-1"}
        wrong = clerk.post(
            "/api/counties/wayne/explanations",
            json={**explanation, "precinct": "nowhere", "text": "a note"},
            headers=keyed,
        )
        assert wrong.status_code == 400
        right = {**explanation, "text": "a note"}
        made = clerk.post("/api/counties/wayne/explanations", json=right, headers=keyed)
        assert made.status_code == 200 and REPLAYED not in made.headers
        # Its answer lost with the process that made it (stored after the commit): the
        # request made again is told the change's entries, and it is not made again.
        store = ElectionDirectory.open(prepared.directory)
        with store.engine.begin() as conn:
            conn.execute(
                update(s.change_key).where(s.change_key.c.key == "note-1").values(answer=None)
            )
        store.close()
        lost = clerk.post("/api/counties/wayne/explanations", json=right, headers=keyed)
        assert lost.status_code == 200 and lost.headers[REPLAYED] == "true"
        assert lost.json()["entries"] == [made.json()["entry"]]
        for c in (client, other, clerk):
            c.close()
    assert entries_of(prepared.directory, "reconciliation.explained") == [made.json()["entry"]]
    votes = entries_of(prepared.directory, "board.vote")
    assert votes == [first.json()["entries"][0]]


def test_the_same_change_sent_twice_at_once_is_made_once(
    database: Database, tmp_path: Path
) -> None:
    """Both requests wait for the log's lock (held meanwhile by another connection); the
    first to have it makes the change, the second finds its key there and is answered."""
    prepared = prepare(tmp_path, 1, database=database.url, schema=database.schema)
    writes = Writes()
    form = {"precinct": UNITS[0], "vote_type": "absentee", "reason": "other", "text": "twice"}
    answers: list[httpx.Response] = []
    with app_servers(prepared.directory, 2, tmp_path / "uploads") as bases:
        sessions = [signed_in(base, prepared.officials["clerk.0"]) for base in bases]

        def send(n: int) -> None:
            client, csrf = sessions[n]
            answers.append(
                client.post(
                    "/api/counties/wayne/explanations",
                    json=form,
                    headers={"X-CSRF-Token": csrf, KEY: "twice-1"},
                )
            )

        threads = [threading.Thread(target=send, args=(n,)) for n in range(2)]
        with lock_held(prepared.directory, database):
            for thread in threads:
                thread.start()
            waiting(database, 2)
        for thread in threads:
            thread.join()
        for client, _ in sessions:
            client.close()
    assert [a.status_code for a in answers] == [200, 200], [a.text for a in answers]
    assert sorted(REPLAYED in a.headers for a in answers) == [False, True]
    made = next(a for a in answers if REPLAYED not in a.headers).json()["entry"]
    assert [a.json().get("entry", a.json().get("entries", [None])[0]) for a in answers] == [
        made,
        made,
    ]
    writes.acknowledged["twice"] = made
    assert check_log(prepared.directory, writes)["explanations"] == 1


def waiting(database: Database, count: int) -> None:
    """Until ``count`` transactions wait for the election's lock (on PostgreSQL; SQLite
    cannot say: a moment's pause, and if the requests come later, the second finds the
    key before it writes, which the test accepts as well)."""
    if database.url is None:
        time.sleep(2)
        return
    with psycopg.connect(database.url, autocommit=True) as pg:
        while True:
            row = pg.execute(
                "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted "
                "AND classid::bigint = %s AND objid::bigint = (hashtext(%s)::bigint & 4294967295)",
                (LOCK_CLASS, database.schema),
            ).fetchone()
            if row is not None and row[0] >= count:
                return
            time.sleep(0.1)


REPLAYED = "Idempotent-Replayed"
