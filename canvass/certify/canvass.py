"""The canvass as the log records it: boards of canvassers, their motions and votes,
certificates and what supersedes them, escalations, recounts and corrections.

:class:`Canvass` is a pure fold over log entries. The election directory folds the log to
decide whether a new entry is allowed (a vote by a seated member, signed by their key; an
import into a county not frozen by its certificate); a verifier folds the same entries
and must reach the same state, checking every signature again. Nothing here reads a
database.

Entries (``data`` fields):

==========================  ==============================================================
``board.constituted``       ``board`` (``state`` or ``county:<id>``), ``profile``,
                            ``members`` [{key, name, party, role}]
``certificate.proposed``    ``board``, ``county`` (``None`` for the state), ``certificate``
                            (SHA-256 of the document artifact), ``status``, ``supersedes``
``board.meeting``           ``board``, ``action`` (opened, adjourned), ``present`` [keys],
                            ``text``
``board.motion``            ``board``, ``kind`` (certify, recess, request_recount, rescind,
                            correct), ``certificate``, ``text``, ``mover``, ``signature``
``board.vote``              ``motion`` (the motion's entry index), ``member``, ``vote``
                            (yes, no, abstain), ``signature``
``board.decided``           ``motion``, ``outcome`` (passed, failed), ``yes``, ``no``,
                            ``abstain``, ``needed``
``certificate.issued``      ``certificate``, ``motion``, ``county``, ``signatures``
``canvass.escalated``       ``county``, ``deadline``, ``to``
``recount.ordered``         ``contest``, ``counties``, ``reason``, ``margin``
``correction.opened``       ``county``, ``reason``
``ascertainment.issued``    ``certificate`` (the document artifact), ``official``,
                            ``signature``
==========================  ==============================================================
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from canvass.certify.profiles import Profile, profile
from canvass.certify.statements import check
from canvass.errors import CanvassError, SignatureError
from canvass.log.entry import Entry
from canvass.log.note import VerifierKey

MOTIONS = ("certify", "recess", "request_recount", "rescind", "correct")
VOTES = ("yes", "no", "abstain")
STATE = "state"


def county_board(county: str) -> str:
    return f"county:{county}"


@dataclass(frozen=True)
class Member:
    key: str
    name: str
    party: str = ""
    role: str = "member"


@dataclass
class Board:
    id: str
    profile: Profile
    members: list[Member]
    entry: int

    @property
    def county(self) -> str | None:
        return None if self.id == STATE else self.id.removeprefix("county:")

    @property
    def needed(self) -> int:
        rule = self.profile.state_board if self.id == STATE else self.profile.county_board
        return rule.needed(len(self.members))

    def member(self, key: str) -> Member | None:
        return next((m for m in self.members if m.key == key), None)


@dataclass
class Vote:
    member: str
    vote: str
    signature: str
    entry: int


@dataclass
class Motion:
    index: int
    board: str
    kind: str
    certificate: str
    mover: str
    text: str
    time: str
    votes: dict[str, Vote] = field(default_factory=dict)
    outcome: str | None = None
    decided: int | None = None

    def count(self, vote: str) -> int:
        return sum(1 for v in self.votes.values() if v.vote == vote)


@dataclass
class Certificate:
    sha256: str
    board: str
    county: str | None
    status: str
    supersedes: str | None
    proposed: int
    issued: int | None = None
    motion: int | None = None
    signatures: list[dict[str, str]] = field(default_factory=list)
    superseded_by: str | None = None


def motion_statement(
    election: str, board: str, kind: str, certificate: str, text: str
) -> dict[str, Any]:
    return {
        "statement": "motion",
        "election": election,
        "board": board,
        "kind": kind,
        "certificate": certificate,
        "text": text,
    }


def vote_statement(election: str, motion: Motion, vote: str) -> dict[str, Any]:
    return {
        "statement": "vote",
        "election": election,
        "board": motion.board,
        "motion": motion.index,
        "kind": motion.kind,
        "certificate": motion.certificate,
        "vote": vote,
    }


def ascertainment_statement(election: str, certificate: str) -> dict[str, Any]:
    return {
        "statement": "certificate-of-ascertainment",
        "election": election,
        "certificate": certificate,
    }


class CanvassRefused(CanvassError):
    """An entry the canvass's rules do not allow."""


class Canvass:
    """The state of the canvass after a sequence of log entries."""

    def __init__(self, election: str) -> None:
        self.election = election
        self.keys: dict[str, tuple[str, VerifierKey]] = {}
        """Registered keys: name → (role, key)."""
        self.profile: Profile | None = None
        self.boards: dict[str, Board] = {}
        self.motions: dict[int, Motion] = {}
        self.certificates: dict[str, Certificate] = {}
        self.current: dict[str, str] = {}
        """Board's county (or ``state``) → its certificate in force."""
        self.reopened: dict[str, tuple[int, str, str]] = {}
        """County (or ``state``) → (entry, reason, ``recount`` or ``correction``) of what was
        opened since it last certified."""
        self.escalated: dict[str, int] = {}
        self.meetings: dict[str, list[tuple[int, str, str, list[str], str]]] = {}
        """Board → (entry, time, action, members present, text), in log order."""
        self.recounts: list[tuple[int, dict[str, Any]]] = []
        self.ascertainments: list[tuple[int, str]] = []
        self.pollbooks: list[str] = []
        """The SHA-256 of every poll-book file, in log order."""
        self.explanations: dict[tuple[str, str, str], list[tuple[str, str]]] = {}
        """(county, precinct, vote type) → the clerk's (reason, text), in log order."""
        self.size = 0
        self.last_time = ""

    @classmethod
    def replay(cls, election: str, entries: Iterable[tuple[int, Entry]]) -> Canvass:
        state = cls(election)
        for index, entry in entries:
            state.apply(index, entry)
        return state

    # --- questions -------------------------------------------------------------------------

    def frozen(self, county: str) -> Certificate | None:
        """The certificate that freezes a county's results, unless a recount or a correction
        has been opened since it was issued."""
        sha = self.current.get(county)
        if sha is None:
            return None
        if county in self.reopened:
            return None
        return self.certificates[sha]

    def reopened_by_recount(self, scope: str) -> bool:
        return scope in self.reopened and self.reopened[scope][2] == "recount"

    def certificate_of(self, scope: str) -> Certificate | None:
        sha = self.current.get(scope)
        return self.certificates[sha] if sha else None

    def key(self, name: str, roles: tuple[str, ...]) -> VerifierKey:
        found = self.keys.get(name)
        if found is None:
            raise CanvassRefused(f"{name!r} is not a registered key")
        if found[0] not in roles:
            raise CanvassRefused(
                f"{name!r} is registered as {found[0]}; this needs a key registered as "
                f"{' or '.join(roles)}"
            )
        return found[1]

    # --- folding -----------------------------------------------------------------------------

    def apply(self, index: int, entry: Entry) -> None:
        self.size = index + 1
        self.last_time = entry.time
        handler = getattr(self, "_" + entry.type.replace(".", "_"), None)
        if handler is not None:
            handler(index, entry)

    def _log_opened(self, index: int, entry: Entry) -> None:
        key = VerifierKey.decode(entry.data["operator"])
        self.keys[key.name] = ("operator", key)

    def _key_registered(self, index: int, entry: Entry) -> None:
        key = VerifierKey.decode(entry.data["vkey"])
        self.keys[key.name] = (entry.data["role"], key)

    def _board_constituted(self, index: int, entry: Entry) -> None:
        d = entry.data
        chosen = profile(d["profile"])
        if self.profile is not None and chosen.key != self.profile.key:
            raise CanvassRefused(
                f"board {d['board']}: profile {chosen.key} differs from the election's "
                f"({self.profile.key})"
            )
        members = [Member(**m) for m in d["members"]]
        rule = chosen.state_board if d["board"] == STATE else chosen.county_board
        roles = ("state-official", "board-member") if d["board"] == STATE else ("board-member",)
        for m in members:
            self.key(m.key, roles)
        if len({m.key for m in members}) != len(members):
            raise CanvassRefused(f"board {d['board']}: a member is listed twice")
        if rule.members is not None and len(members) != rule.members:
            raise CanvassRefused(
                f"board {d['board']}: {chosen.name} seats {rule.members} members; "
                f"{len(members)} named"
            )
        if rule.per_party is not None:
            seated = {
                p: sum(1 for m in members if m.party == p) for p in {m.party for m in members}
            }
            if any(n != rule.per_party for n in seated.values()):
                found = ", ".join(f"{p or 'no party'} {n}" for p, n in sorted(seated.items()))
                raise CanvassRefused(
                    f"board {d['board']}: {chosen.name} seats {rule.per_party} members of each "
                    f"party; found {found}"
                )
        self.profile = chosen
        self.boards[d["board"]] = Board(d["board"], chosen, members, index)

    def board(self, board: str) -> Board:
        found = self.boards.get(board)
        if found is None:
            raise CanvassRefused(f"no board {board} has been constituted")
        return found

    def _board_meeting(self, index: int, entry: Entry) -> None:
        d = entry.data
        board = self.board(d["board"])
        if d["action"] not in ("opened", "adjourned"):
            raise CanvassRefused(f"a meeting is opened or adjourned; found {d['action']!r}")
        absent = [k for k in d["present"] if board.member(k) is None]
        if absent:
            raise CanvassRefused(f"{', '.join(absent)} do not sit on board {board.id}")
        self.meetings.setdefault(board.id, []).append(
            (index, entry.time, d["action"], list(d["present"]), d.get("text", ""))
        )

    def _certificate_proposed(self, index: int, entry: Entry) -> None:
        d = entry.data
        self.board(d["board"])
        if d["certificate"] in self.certificates:
            raise CanvassRefused(f"certificate {d['certificate'][:12]} was already proposed")
        self.certificates[d["certificate"]] = Certificate(
            d["certificate"], d["board"], d["county"], d["status"], d.get("supersedes"), index
        )

    def _board_motion(self, index: int, entry: Entry) -> None:
        d = entry.data
        board = self.board(d["board"])
        if d["kind"] not in MOTIONS:
            raise CanvassRefused(f"motion kind {d['kind']!r} is not one of {', '.join(MOTIONS)}")
        mover = board.member(d["mover"])
        if mover is None:
            raise CanvassRefused(f"{d['mover']} does not sit on board {board.id}")
        if d["kind"] == "certify" and board.county in self.escalated:
            raise CanvassRefused(
                f"{board.county}'s canvass passed to the state at log entry "
                f"{self.escalated[board.county]}, after its deadline; its board cannot certify"
            )
        if d["kind"] in ("certify", "rescind"):
            cert = self.certificates.get(d["certificate"])
            if cert is None:
                raise CanvassRefused(f"no proposed certificate {d['certificate'][:12]}")
            if d["kind"] == "certify" and cert.issued is not None:
                raise CanvassRefused(f"certificate {cert.sha256[:12]} is already issued")
        statement = motion_statement(
            self.election, board.id, d["kind"], d["certificate"], d["text"]
        )
        check(
            statement,
            d["signature"],
            self.key(d["mover"], ("board-member", "state-official")),
            f"motion by {d['mover']}",
        )
        self.motions[index] = Motion(
            index, board.id, d["kind"], d["certificate"], d["mover"], d["text"], entry.time
        )

    def motion(self, index: int) -> Motion:
        found = self.motions.get(index)
        if found is None:
            raise CanvassRefused(f"log entry {index} is not a motion")
        return found

    def _board_vote(self, index: int, entry: Entry) -> None:
        d = entry.data
        motion = self.motion(d["motion"])
        board = self.boards[motion.board]
        if board.member(d["member"]) is None:
            raise CanvassRefused(f"{d['member']} does not sit on board {board.id}")
        if d["member"] in motion.votes:
            raise CanvassRefused(f"{d['member']} has already voted on motion {motion.index}")
        if d["vote"] not in VOTES:
            raise CanvassRefused(f"a vote is one of {', '.join(VOTES)}; found {d['vote']!r}")
        check(
            vote_statement(self.election, motion, d["vote"]),
            d["signature"],
            self.key(d["member"], ("board-member", "state-official")),
            f"vote by {d['member']} on motion {motion.index}",
        )
        motion.votes[d["member"]] = Vote(d["member"], d["vote"], d["signature"], index)

    def outcome(self, motion: Motion) -> str | None:
        """``passed`` once enough members voted yes, ``failed`` once they no longer can
        (a deadlock), else ``None``. The roll call goes on after the outcome is settled:
        every member's vote is recorded."""
        board = self.boards[motion.board]
        yes = motion.count("yes")
        if yes >= board.needed:
            return "passed"
        if yes + (len(board.members) - len(motion.votes)) < board.needed:
            return "failed"
        return None

    def _board_decided(self, index: int, entry: Entry) -> None:
        motion = self.motion(entry.data["motion"])
        expected = self.outcome(motion)
        if expected != entry.data["outcome"]:
            raise CanvassRefused(
                f"motion {motion.index}: recorded as {entry.data['outcome']}; its votes say "
                f"{expected or 'undecided'}"
            )
        motion.outcome, motion.decided = expected, index

    def _certificate_issued(self, index: int, entry: Entry) -> None:
        d = entry.data
        cert = self.certificates.get(d["certificate"])
        if cert is None:
            raise CanvassRefused(f"no proposed certificate {d['certificate'][:12]}")
        motion = self.motion(d["motion"])
        if (
            motion.kind != "certify"
            or motion.certificate != cert.sha256
            or motion.outcome != "passed"
        ):
            raise CanvassRefused(
                f"certificate {cert.sha256[:12]}: motion {motion.index} is not a passed motion "
                "to certify it"
            )
        for s in d["signatures"]:
            vote = motion.votes.get(s["member"])
            if vote is None or vote.vote != "yes" or vote.signature != s["signature"]:
                raise SignatureError(
                    f"certificate {cert.sha256[:12]}: {s['member']}'s signature is not their "
                    "yes vote on the motion"
                )
        if len(d["signatures"]) < self.boards[motion.board].needed:
            raise CanvassRefused(f"certificate {cert.sha256[:12]}: too few signatures")
        scope = cert.county or STATE
        cert.issued, cert.motion, cert.signatures = index, motion.index, d["signatures"]
        previous = self.current.get(scope)
        if previous is not None and previous != cert.sha256:
            self.certificates[previous].superseded_by = cert.sha256
        self.current[scope] = cert.sha256
        self.reopened.pop(scope, None)

    def _canvass_escalated(self, index: int, entry: Entry) -> None:
        self.escalated[entry.data["county"]] = index

    def _recount_ordered(self, index: int, entry: Entry) -> None:
        self.recounts.append((index, entry.data))
        for county in entry.data["counties"]:
            self.reopened[county] = (index, entry.data["reason"], "recount")
        self.reopened[STATE] = (index, entry.data["reason"], "recount")

    def _correction_opened(self, index: int, entry: Entry) -> None:
        self.reopened[entry.data["county"]] = (index, entry.data["reason"], "correction")
        self.reopened[STATE] = (index, entry.data["reason"], "correction")

    def _pollbook_imported(self, index: int, entry: Entry) -> None:
        self.pollbooks.append(entry.artifacts[0].sha256)

    def _reconciliation_explained(self, index: int, entry: Entry) -> None:
        d = entry.data
        key = (d["county"], d["precinct"], d["vote_type"])
        self.explanations.setdefault(key, []).append((d["reason"], d["text"]))

    def _ascertainment_issued(self, index: int, entry: Entry) -> None:
        d = entry.data
        key = self.key(d["official"], ("state-official",))
        check(
            ascertainment_statement(self.election, d["certificate"]),
            d["signature"],
            key,
            f"certificate of ascertainment by {d['official']}",
        )
        self.ascertainments.append((index, d["certificate"]))
