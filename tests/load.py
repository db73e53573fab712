"""Many officials at once, over HTTP: several app servers (uvicorn processes, as on
several machines) on one election, and every kind of state change officials make at the
same time: clerks recording explanations of imbalances and importing the county's poll
book again (a file staged as an artifact, then one write transaction); the county
board's members making motions and voting on each other's; an audit board's two members
each signing the reading of every ballot drawn (recorded once both have signed). Board
and audit board members sign with keys of their own, kept on the client's side: the
client asks for the statement, signs its exact bytes, and posts the signature, as a
member's browser does. Then the check that no acknowledged change was lost, none is in
the log twice, nothing is in it that nobody asked for, the log verifies, every checkpoint
extends the one before, and the projections equal a rebuild.

Used by ``tests/test_pg_load.py`` and ``benchmarks/bench_pg_web.py``.
"""

from __future__ import annotations

import base64
import contextlib
import csv
import io
import itertools
import os
import re
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from fastapi.testclient import TestClient

from canvass.app import accounts as acc
from canvass.app import key_requests as keyreq
from canvass.app.audits import commit, draw, open_audit, record_seed
from canvass.app.boards import constitute
from canvass.audit.workflow import reading_statement
from canvass.certify.canvass import Member
from canvass.certify.statements import check, message
from canvass.keys import new_signer
from canvass.log import merkle
from canvass.log.note import Signer, open_checkpoint
from canvass.store.election import ElectionDirectory
from tests.officials import (
    OFFICIALS,
    PARTIES,
    PASSWORD,
    WAYNE_BOARD,
    Official,
    free_port,
    make_office,
    sign_in,
    wayne_export,
    wayne_pollbook,
)

UNITS = ["wayne-avcb-1", "wayne-avcb-2", "wayne-avcb-3", "wayne-avcb-4"]
"""Counting boards out of balance (tests/officials.py), so each may be explained."""

ROOT = Path(__file__).resolve().parent.parent
AUDIT = "rla"
ELECTION = "mi-2020-general"
CONTEST = "president"


def auditors(board: int) -> list[str]:
    """The two members of Wayne's audit board ``board`` (1, 2, …)."""
    return [f"auditor.{board}a", f"auditor.{board}b"]


@dataclass
class Prepared:
    """An election ready for the load, and what its officials hold on their own side."""

    directory: Path
    officials: dict[str, Official]
    keys: dict[str, Signer] = field(default_factory=dict)
    """Each board and audit board member's signing key (its public half registered)."""
    to_read: dict[str, list[tuple[str, list[str]]]] = field(default_factory=dict)
    """Audit board (``wayne/N``) → the drawn ballots it reads, each with the candidates
    marked on the paper (from the export's own marks, never from Canvass)."""


def prepare(
    where: Path,
    clerks: int,
    readers: int = 0,
    ballots: int = 40,
    database: str | None = None,
    schema: str | None = None,
    audit_boards: int = 0,
    drawn: int = 0,
) -> Prepared:
    """Wayne County's election with its CVRs and poll book imported, and an account for
    each of ``clerks`` clerks (``clerk.N``) and ``readers`` observers (``reader.N``).
    With ``audit_boards``, also: the county board (the four members of
    :data:`WAYNE_BOARD`) seated with keys of their own, and a ballot-comparison audit
    with ``drawn`` draws and that many audit boards of two members (:func:`auditors`),
    each with a key of their own, seated; the ballots drawn shared among the boards."""
    people = list(OFFICIALS)
    people += [(f"reader.{n}", f"Reader {n}", "observer", "") for n in range(readers)]
    people += [(f"clerk.{n}", f"Clerk {n}", "county-clerk", "wayne") for n in range(clerks)]
    for board in range(1, audit_boards + 1):
        people += [(m, m, "audit-board-member", f"wayne/{board}") for m in auditors(board)]
    office = make_office(where, people, database, schema)
    export = wayne_export(where, ballots)
    prepared = Prepared(office.directory, office.officials)
    with TestClient(office.app, base_url="https://testserver") as clerk:
        csrf = sign_in(clerk, office.officials["clerk.wayne"])
        files = [("files", (p.name, p.read_bytes())) for p in export.files]
        done = clerk.post(
            "/counties/wayne/imports",
            data={"csrf": csrf, "format": "dominion"},
            files=files,
            follow_redirects=False,
        )
        assert done.status_code == 303, done.text
        pollbook = wayne_pollbook(export, where).read_bytes()
        done = clerk.post(
            "/counties/wayne/pollbooks",
            data={"csrf": csrf},
            files=[("pollbook", ("pollbook.csv", pollbook))],
            follow_redirects=False,
        )
        assert done.status_code == 303, done.text
    if audit_boards:
        _boards(office.app.state.services, prepared, export.marked, audit_boards, drawn)
    office.app.state.services.election.close()
    office.app.state.services.accounts.engine.dispose()
    return prepared


def _boards(
    services: Any,
    prepared: Prepared,
    marked: dict[str, list[str]],
    audit_boards: int,
    drawn: int,
) -> None:
    """Keys made on the members' side and approved, the county board seated, the audit
    drawn and its boards seated (see :func:`prepare`)."""
    accounts, election = services.accounts, services.election
    admin = acc.account_named(accounts, "admin")
    assert admin is not None
    members = WAYNE_BOARD + [m for b in range(1, audit_boards + 1) for m in auditors(b)]
    for username in members:
        prepared.keys[username] = new_signer(username)
        account = acc.account_named(accounts, username)
        assert account is not None
        keyreq.request_key(accounts, account, prepared.keys[username].verifier().public_key)
    for request in keyreq.key_requests(accounts, election):
        if request.decision is None:
            keyreq.decide_key(accounts, election, admin, request.id, True)
    seats = [Member(u, prepared.officials[u].full_name, PARTIES[u]) for u in WAYNE_BOARD]
    constitute(election, admin.actor, "county:wayne", "michigan", seats)
    open_audit(election, admin.actor, AUDIT, "comparison", 10, [CONTEST])
    commit(election, admin.actor, AUDIT)
    record_seed(election, admin.actor, AUDIT, "31415926535897932384")
    _, listing = draw(election, admin.actor, AUDIT, drawn)
    ballots = sorted(
        {
            "/".join((r["county"], r["tabulator"], r["batch"], r["record"]))
            for r in csv.DictReader(io.StringIO(listing))
        }
    )
    for board in range(1, audit_boards + 1):
        acc.seat_audit_board(accounts, election, admin.actor, AUDIT, f"wayne/{board}")
        prepared.to_read[f"wayne/{board}"] = [
            (b, marked[b]) for b in ballots[board - 1 :: audit_boards]
        ]


def start_server(directory: Path, uploads: Path, port: int) -> subprocess.Popen[bytes]:
    """An app server, its own uvicorn process on ``port``, serving the election."""
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "CANVASS_ELECTION": str(directory),
        "CANVASS_INSECURE_COOKIES": "1",  # plain HTTP on the loopback
        "CANVASS_PASSWORD_HASH": "test-only-cheapest",  # signing in is not what is tested
        "CANVASS_UPLOAD_DIR": str(uploads),
    }
    uploads.mkdir(parents=True, exist_ok=True)
    command = [sys.executable, "-m", "uvicorn", "--factory"]
    command += ["canvass.web.app:from_environment", "--host", "127.0.0.1"]
    command += ["--port", str(port), "--log-level", "warning"]
    return subprocess.Popen(command, env=env)


def wait_ready(server: subprocess.Popen[bytes], base: str) -> None:
    """Until the server at ``base`` answers /healthz (however long a busy machine takes)."""
    while True:
        if server.poll() is not None:
            raise RuntimeError(f"the app server at {base} exited ({server.returncode})")
        try:
            if httpx.get(base + "/healthz").status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)


@contextmanager
def app_servers(directory: Path, count: int, uploads: Path) -> Iterator[list[str]]:
    """``count`` app servers, each its own uvicorn process on a port of its own, serving
    the election; yields their addresses once each answers /healthz."""
    servers, bases = [], []
    try:
        for _ in range(count):
            port = free_port()
            servers.append(start_server(directory, uploads, port))
            bases.append(f"http://127.0.0.1:{port}")
        for server, base in zip(servers, bases, strict=True):
            wait_ready(server, base)
        yield bases
        exited = [
            base for server, base in zip(servers, bases, strict=True) if server.poll() is not None
        ]
        assert exited == [], f"app servers exited: {exited}"
    finally:
        for server in servers:
            server.terminate()
        for server in servers:
            server.wait(60)


def signed_in(base: str, official: Official) -> tuple[httpx.Client, str]:
    """An HTTP client signed in as ``official`` at ``base``, and its session's CSRF token."""
    client = httpx.Client(base_url=base, timeout=300)
    page = client.get("/sign-in")
    token = re.search(r'name="csrf" value="([^"]*)"', page.text)
    assert token is not None, page.text
    client.post(
        "/sign-in",
        data={"csrf": token.group(1), "username": official.username, "password": PASSWORD},
    )
    done = client.post(
        "/sign-in/code",
        data={"csrf": token.group(1), "code": official.code()},
        follow_redirects=True,
    )
    csrf = re.search(r'name="csrf" value="([^"]*)"', done.text)
    assert csrf is not None and done.url.path == "/", (official.username, done.status_code)
    return client, csrf.group(1)


def signed(signer: Signer, signable: dict[str, object], **expected: object) -> str:
    """The member's signature of the statement the server gave to sign (``GET …/statement``:
    the statement, its exact bytes in base64): refused unless the bytes are the statement's
    and it says what the member asked for (``expected``), as a browser shows it in words
    before signing."""
    statement = signable["statement"]
    assert isinstance(statement, dict), signable
    for key, value in expected.items():
        assert statement.get(key) == value, (key, statement.get(key), value)
    raw = base64.b64decode(str(signable["message"]))
    assert raw == message(statement), "the bytes to sign are not the statement's"
    return base64.b64encode(signer.private_key.sign(raw)).decode()


@dataclass
class Writes:
    """What the clients asked for and what the servers acknowledged."""

    acknowledged: dict[str, int] = field(default_factory=dict)
    """An explanation's text → the log entry the server said recorded it."""
    failed: dict[str, str] = field(default_factory=dict)
    """An explanation's text → the answer that refused it (the change may or may not have
    been recorded: a commit whose answer was lost)."""
    imports: dict[int, str] = field(default_factory=dict)
    """A poll-book import's log entry, as its answer named it → the clerk who made it."""
    imports_failed: int = 0
    motions: dict[str, int] = field(default_factory=dict)
    """A motion's text → the log entry its answer named."""
    motions_failed: dict[str, str] = field(default_factory=dict)
    votes: dict[tuple[int, str], list[int]] = field(default_factory=dict)
    """(motion, member) → the entries the vote's answer named (the vote's, then the
    decision's when it decided the motion)."""
    votes_failed: dict[tuple[int, str], str] = field(default_factory=dict)
    readings: dict[str, int] = field(default_factory=dict)
    """A drawn ballot → the entry of its reading, named by the answer to the member whose
    signature completed it."""
    reading_signatures: dict[tuple[str, str], str] = field(default_factory=dict)
    """(ballot, member) → ``recorded``, ``waiting``, or the answer that refused it."""
    times: dict[str, list[float]] = field(default_factory=dict)
    """A kind of request → how long each took (seconds)."""
    statuses: list[tuple[str, int]] = field(default_factory=list)
    """Every answer: (kind of request, status)."""
    errors: list[str] = field(default_factory=list)
    """Requests that failed without an answer (the connection lost)."""
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def _request(
        self, kind: str, client: httpx.Client, method: str, url: str, **kwargs: object
    ) -> httpx.Response:
        started = time.perf_counter()
        try:
            answer = client.request(method, url, **kwargs)  # type: ignore[arg-type]
        except httpx.HTTPError as e:
            with self.lock:
                self.errors.append(f"{kind}: {type(e).__name__}: {e}")
            raise
        finally:
            with self.lock:
                self.times.setdefault(kind, []).append(time.perf_counter() - started)
        with self.lock:
            self.statuses.append((kind, answer.status_code))
        return answer

    def read(self, client: httpx.Client, url: str, kind: str = "read") -> httpx.Response:
        return self._request(kind, client, "GET", url)

    def import_pollbook(
        self, client: httpx.Client, csrf: str, pollbook: bytes, clerk: str
    ) -> httpx.Response:
        """Import the county's poll book again (the same rows: the imbalances stay)."""
        try:
            answer = self._request(
                "import",
                client,
                "POST",
                "/api/counties/wayne/pollbooks",
                files=[("pollbook", ("pollbook.csv", pollbook, "text/csv"))],
                headers={"X-CSRF-Token": csrf},
            )
        except httpx.HTTPError:
            with self.lock:
                self.imports_failed += 1
            raise
        with self.lock:
            if answer.status_code == 200:
                self.imports[int(answer.json()["entry"])] = clerk
            else:
                self.imports_failed += 1
        return answer

    def explain(self, client: httpx.Client, csrf: str, text: str, unit: str) -> httpx.Response:
        """Ask for an explanation of ``unit``'s imbalance in words ``text`` (unique)."""
        form = {"precinct": unit, "vote_type": "absentee", "reason": "other", "text": text}
        try:
            answer = self._request(
                "explanation",
                client,
                "POST",
                "/api/counties/wayne/explanations",
                json=form,
                headers={"X-CSRF-Token": csrf},
            )
        except httpx.HTTPError as e:
            self.failed[text] = f"{type(e).__name__}: {e}"
            raise
        if answer.status_code == 200:
            self.acknowledged[text] = int(answer.json()["entry"])
        else:
            self.failed[text] = f"{answer.status_code} {answer.text[:300]}"
        return answer

    def move(self, client: httpx.Client, csrf: str, member: Signer, text: str) -> httpx.Response:
        """A motion to recess in words ``text`` (unique), signed with the member's key."""
        signable = self._request(
            "statement",
            client,
            "GET",
            "/api/boards/wayne/statement",
            params={"kind": "recess", "text": text},
        )
        if signable.status_code != 200:
            self.motions_failed[text] = f"{signable.status_code} {signable.text[:300]}"
            return signable
        signature = signed(member, signable.json(), board="county:wayne", kind="recess", text=text)
        form = {"kind": "recess", "text": text, "signature": signature}
        try:
            answer = self._request(
                "motion",
                client,
                "POST",
                "/api/boards/wayne/motions",
                json=form,
                headers={"X-CSRF-Token": csrf},
            )
        except httpx.HTTPError as e:
            self.motions_failed[text] = f"{type(e).__name__}: {e}"
            raise
        if answer.status_code == 200:
            self.motions[text] = int(answer.json()["motion"])
        else:
            self.motions_failed[text] = f"{answer.status_code} {answer.text[:300]}"
        return answer

    def vote(
        self, client: httpx.Client, csrf: str, member: Signer, motion: int, choice: str
    ) -> httpx.Response:
        """The member's vote on ``motion``, signed with their key."""
        key = (motion, member.name)
        signable = self._request(
            "statement",
            client,
            "GET",
            f"/api/boards/wayne/motions/{motion}/statement",
            params={"choice": choice},
        )
        if signable.status_code != 200:
            self.votes_failed[key] = f"{signable.status_code} {signable.text[:300]}"
            return signable
        signature = signed(member, signable.json(), motion=motion, vote=choice)
        try:
            answer = self._request(
                "vote",
                client,
                "POST",
                f"/api/boards/wayne/motions/{motion}/votes",
                json={"choice": choice, "signature": signature},
                headers={"X-CSRF-Token": csrf},
            )
        except httpx.HTTPError as e:
            self.votes_failed[key] = f"{type(e).__name__}: {e}"
            raise
        if answer.status_code == 200:
            self.votes[key] = [int(e) for e in answer.json()["entries"]]
        else:
            self.votes_failed[key] = f"{answer.status_code} {answer.text[:300]}"
        return answer

    def reading(
        self, client: httpx.Client, csrf: str, member: Signer, ballot: str, votes: list[str]
    ) -> httpx.Response:
        """The member's signature of the reading of ``ballot`` (the candidates marked)."""
        key = (ballot, member.name)
        params = {"ballot": ballot, "contest": CONTEST, "votes": votes}
        signable = self._request(
            "statement", client, "GET", f"/api/audits/{AUDIT}/readings/statement", params=params
        )
        if signable.status_code != 200:
            self.reading_signatures[key] = f"{signable.status_code} {signable.text[:300]}"
            return signable
        signature = signed(member, signable.json(), ballot=ballot, votes=votes)
        try:
            answer = self._request(
                "reading",
                client,
                "POST",
                f"/api/audits/{AUDIT}/readings",
                json={**params, "signature": signature},
                headers={"X-CSRF-Token": csrf},
            )
        except httpx.HTTPError as e:
            self.reading_signatures[key] = f"{type(e).__name__}: {e}"
            raise
        if answer.status_code != 200:
            self.reading_signatures[key] = f"{answer.status_code} {answer.text[:300]}"
        elif answer.json()["entries"]:
            self.reading_signatures[key] = "recorded"
            self.readings[ballot] = int(answer.json()["entries"][0])
        else:
            self.reading_signatures[key] = "waiting"
        return answer


@dataclass(frozen=True)
class Work:
    """How much each kind of official does."""

    explanations: int = 10
    """Per clerk, each followed by a read of the county's dashboard."""
    import_every: int = 5
    """A clerk imports the poll book again after every this many explanations."""
    motions: int = 3
    """Per board member; each then votes on every motion made so far it has not."""
    readings: int = 10
    """Per audit board: ballots read (both members sign each)."""


def choice(motion: int, member: str) -> str:
    """How ``member`` votes on ``motion``: mostly yes, some no (so that some motions
    pass, some fail, and a few are left to the last votes to decide)."""
    return "no" if (motion + WAYNE_BOARD.index(member)) % 3 == 0 else "yes"


def officials_at_work(
    prepared: Prepared, bases: list[str], writes: Writes, clerks: int, work: Work
) -> float:
    """Every official at once, spread over the servers at ``bases``: ``clerks`` clerks,
    the four board members, and each audit board's members, each a client signed in
    with a session of their own, started together. A request that fails without an
    answer is counted in ``writes.errors`` and the official goes on. Returns the seconds
    from the start to the last official's last answer."""
    people = [f"clerk.{n}" for n in range(clerks)] + list(WAYNE_BOARD)
    for board in prepared.to_read:
        people += auditors(int(board.split("/")[1]))
    sessions = {
        person: signed_in(bases[n % len(bases)], prepared.officials[person])
        for n, person in enumerate(people)
    }
    pollbook = (prepared.directory.parent / "wayne-pollbook.csv").read_bytes()
    began: list[float] = []
    start = threading.Barrier(len(people), action=lambda: began.append(time.perf_counter()))
    board_done = threading.Barrier(len(WAYNE_BOARD))

    def attempt(request: Callable[..., object], *args: object) -> None:
        with contextlib.suppress(httpx.HTTPError):  # counted in writes.errors
            request(*args)

    def clerk(name: str) -> None:
        client, csrf = sessions[name]
        start.wait()
        for i in range(work.explanations):
            attempt(writes.explain, client, csrf, f"{name} note {i}", UNITS[i % 4])
            attempt(writes.read, client, "/api/counties/wayne")
            if i % work.import_every == work.import_every - 1:
                attempt(writes.import_pollbook, client, csrf, pollbook, name)

    def member(name: str) -> None:
        client, csrf = sessions[name]
        key = prepared.keys[name]
        voted: set[int] = set()

        def vote_on_all() -> None:
            for motion in sorted(set(writes.motions.values()) - voted):
                voted.add(motion)
                attempt(writes.vote, client, csrf, key, motion, choice(motion, name))

        start.wait()
        for i in range(work.motions):
            attempt(writes.move, client, csrf, key, f"{name} moves to recess ({i})")
            vote_on_all()
        board_done.wait()  # every motion made: the last votes on each
        vote_on_all()

    def auditor(name: str, board: str) -> None:
        client, csrf = sessions[name]
        start.wait()
        for ballot, marked in prepared.to_read[board][: work.readings]:
            attempt(writes.reading, client, csrf, prepared.keys[name], ballot, marked)

    threads = [threading.Thread(target=clerk, args=(f"clerk.{n}",)) for n in range(clerks)]
    threads += [threading.Thread(target=member, args=(m,)) for m in WAYNE_BOARD]
    for board in prepared.to_read:
        for name in auditors(int(board.split("/")[1])):
            threads.append(threading.Thread(target=auditor, args=(name, board)))
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - began[0]
    for client, _ in sessions.values():
        client.close()
    return elapsed


def check_log(directory: Path, writes: Writes, prepared: Prepared | None = None) -> dict[str, int]:
    """Nothing acknowledged lost, nothing twice, nothing from nowhere; the log verifies
    (the projections equal a rebuild), and every checkpoint extends the one before it.
    With ``prepared``, also the board's motions, votes and decisions and the audit
    boards' readings (each signature checked with the member's own key). Returns how
    many of each kind of change the log holds."""
    store = ElectionDirectory.open(directory)
    try:
        log = list(store.entries(1))
        explained = {
            e.data["text"]: index for index, e in log if e.type == "reconciliation.explained"
        }
        texts = Counter(e.data["text"] for _, e in log if e.type == "reconciliation.explained")
        twice = [t for t, n in texts.items() if n > 1]
        assert twice == [], f"in the log more than once: {twice[:5]}"
        for text, index in writes.acknowledged.items():
            assert explained.get(text) == index, (text, index, explained.get(text))
        unasked = set(explained) - set(writes.acknowledged) - set(writes.failed)
        assert unasked == set(), f"in the log but never asked for: {sorted(unasked)[:5]}"
        imported = {i: e.actor for i, e in log if e.type == "pollbook.imported"}
        for index, clerk in writes.imports.items():
            assert imported.get(index) == clerk, (index, clerk, imported.get(index))
        # The one made in preparing the election, each acknowledged, and at most each
        # refused one whose commit's answer was lost.
        assert 1 + len(writes.imports) <= len(imported)
        assert len(imported) <= 1 + len(writes.imports) + writes.imports_failed
        found = {"explanations": len(explained), "imports": len(imported) - 1}
        if prepared is not None:
            found |= _check_boards(log, writes, prepared)
        answered = [*writes.acknowledged.values(), *writes.imports, *writes.motions.values()]
        answered += [*writes.readings.values()]
        answered += [e for entries in writes.votes.values() for e in entries]
        assert len(answered) == len(set(answered)), "two changes acknowledged as one entry"
        assert store.verify() == []
        key = store.operator_key()
        tree = merkle.MerkleTree(store.entry_bytes())
        checkpoints = [open_checkpoint(note, key) for note in store.checkpoints()]
        sizes = [c.size for c in checkpoints]
        assert sizes == sorted(set(sizes)) and sizes[-1] == store.size()
        for before, after in itertools.pairwise(checkpoints):
            assert after.root == tree.root(after.size)
            proof = store.consistency_proof(before.size, after.size)
            merkle.verify_consistency(before.size, after.size, proof, before.root, after.root)
        return found
    finally:
        store.close()


NEEDED = 3
"""Votes that carry a motion of Wayne's board of four (Michigan: a majority)."""


def _check_boards(log: list[tuple[int, Any]], writes: Writes, prepared: Prepared) -> dict[str, int]:
    by_index = dict(log)
    # Motions: each acknowledged one at the entry its answer named, none twice, none
    # that nobody asked for.
    motions = {e.data["text"]: i for i, e in log if e.type == "board.motion"}
    texts = Counter(e.data["text"] for _, e in log if e.type == "board.motion")
    assert [t for t, n in texts.items() if n > 1] == [], "a motion in the log twice"
    for text, index in writes.motions.items():
        assert motions.get(text) == index, (text, index, motions.get(text))
    unasked = set(motions) - set(writes.motions) - set(writes.motions_failed)
    assert unasked == set(), f"motions nobody made: {sorted(unasked)[:5]}"
    # Votes: one per member and motion at most, each acknowledged one where it was said
    # to be, none from nowhere.
    votes = Counter((e.data["motion"], e.data["member"]) for _, e in log if e.type == "board.vote")
    assert [k for k, n in votes.items() if n > 1] == [], "a member voted twice on a motion"
    cast = {(e.data["motion"], e.data["member"]): i for i, e in log if e.type == "board.vote"}
    for key, entries in writes.votes.items():
        assert cast.get(key) == entries[0], (key, entries, cast.get(key))
        assert by_index[entries[0]].data["vote"] == choice(*key)
    unasked_votes = set(cast) - set(writes.votes) - set(writes.votes_failed)
    assert unasked_votes == set(), f"votes nobody cast: {sorted(unasked_votes)[:5]}"
    # Decisions: each motion decided once, by the vote that settled it (worked out here
    # from the votes in the log's order: passed at the third yes; failed once yes can no
    # longer reach three), recorded right after that vote.
    decided = {
        e.data["motion"]: (i, e.data["outcome"]) for i, e in log if e.type == "board.decided"
    }
    assert len(decided) == sum(1 for _, e in log if e.type == "board.decided")
    expected: dict[int, tuple[int, str]] = {}
    tally: dict[int, list[str]] = {}
    for i, e in log:
        if e.type != "board.vote" or e.data["motion"] in expected:
            continue
        said = tally.setdefault(e.data["motion"], [])
        said.append(e.data["vote"])
        yes = said.count("yes")
        if yes >= NEEDED:
            expected[e.data["motion"]] = (i + 1, "passed")
        elif yes + (len(WAYNE_BOARD) - len(said)) < NEEDED:
            expected[e.data["motion"]] = (i + 1, "failed")
    assert decided == expected, (decided, expected)
    for key, entries in writes.votes.items():
        if len(entries) > 1:
            assert entries[1:] == [decided[key[0]][0]], (key, entries)
    # Readings: each ballot read once, at the entry the completing answer named, as the
    # paper reads, signed by both members of its board with their own keys.
    marked = {
        b: (board, votes) for board, ballots in prepared.to_read.items() for b, votes in ballots
    }
    read = {e.data["ballot"]: (i, e) for i, e in log if e.type == "audit.interpreted"}
    assert sum(1 for _, e in log if e.type == "audit.interpreted") == len(read), "read twice"
    for ballot, index in writes.readings.items():
        assert read[ballot][0] == index, (ballot, index, read[ballot][0])
    signed_for = {b for b, _ in writes.reading_signatures}
    assert set(read) <= signed_for, f"readings nobody signed: {sorted(set(read) - signed_for)[:5]}"
    for ballot, (_, entry) in read.items():
        board, votes = marked[ballot]
        assert (entry.data["board"], entry.data["votes"]) == (board, votes)
        members = auditors(int(board.split("/")[1]))
        assert [s["member"] for s in entry.data["signatures"]] == members
        statement = reading_statement(ELECTION, "audit.interpreted", entry.data)
        for s in entry.data["signatures"]:
            check(statement, s["signature"], prepared.keys[s["member"]].verifier(), s["member"])
    return {
        "motions": len(motions),
        "votes": len(cast),
        "decisions": len(decided),
        "readings": len(read),
    }
