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
                            ``members`` [{key, name, party, role}], ``reason`` (why it is
                            seated again; a board's first seating may leave it empty)
``certificate.proposed``    ``board``, ``county`` (``None`` for the state), ``certificate``
                            (SHA-256 of the document artifact), ``status``, ``supersedes``,
                            ``unexplained`` (units out of balance it leaves unexplained)
``board.meeting``           ``board``, ``action`` (opened, adjourned), ``present`` [keys],
                            ``text``
``board.motion``            ``board``, ``kind`` (certify, recess, request_recount, rescind,
                            correct), ``certificate``, ``text``, ``mover``, ``signature``
``board.vote``              ``motion`` (the motion's entry index), ``member``, ``vote``
                            (yes, no, abstain), ``shown`` (on a motion to certify: what
                            the member was shown, ``{"unexplained": n}``), ``signature``
``board.decided``           ``motion``, ``outcome`` (passed, failed), ``yes``, ``no``,
                            ``abstain``, ``needed``
``certificate.issued``      ``certificate``, ``motion``, ``county``, ``signatures``
``canvass.escalated``       ``county``, ``deadline``, ``to``
``recount.ordered``         ``contest``, ``counties``, ``reason``, ``margin``
``correction.opened``       ``county``, ``reason``
``ascertainment.issued``    ``certificate`` (the document artifact), ``official``,
                            ``signature``
``rcv.tie_resolved``        ``contest``, ``round``, ``tied`` [candidate ids], ``elected``
                            (a tie to be elected, else eliminated), ``chosen``, ``reason``
==========================  ==============================================================

A board's membership has a history: seating it again (with a reason) takes effect from
that entry on; a motion is judged under the members seated when it was made, and one still
open when the board is seated again lapses. A board cannot be seated again while its
certificate is in force, unless a correction or a recount has reopened it.

A certificate stops being in force when another of its scope supersedes it, and a state
certificate also when a county certificate it rests on is superseded (a correction, a
recount): it stays "superseded by a county change" until the state board certifies again.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from canvass.certify.profiles import Profile, profile
from canvass.certify.statements import KeyRing, check
from canvass.errors import CanvassError, SignatureError
from canvass.log.entry import Entry
from canvass.log.note import VerifierKey
from canvass.tabulate.election import TieDecision

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


@dataclass(frozen=True)
class Seating:
    """A board's members from one ``board.constituted`` entry on."""

    entry: int
    time: str
    members: tuple[Member, ...]
    needed: int
    """Yes votes that carry a motion under these members."""
    reason: str = ""

    def member(self, key: str) -> Member | None:
        return next((m for m in self.members if m.key == key), None)


@dataclass
class Board:
    id: str
    profile: Profile
    seatings: list[Seating]
    """Every seating, in log order; the last is the board as it sits now."""

    @property
    def seated(self) -> Seating:
        return self.seatings[-1]

    @property
    def members(self) -> tuple[Member, ...]:
        return self.seated.members

    @property
    def entry(self) -> int:
        return self.seated.entry

    @property
    def county(self) -> str | None:
        return None if self.id == STATE else self.id.removeprefix("county:")

    @property
    def needed(self) -> int:
        return self.seated.needed

    def member(self, key: str) -> Member | None:
        return self.seated.member(key)


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
    seating: Seating
    """The board's members when the motion was made: it is judged under them."""
    votes: dict[str, Vote] = field(default_factory=dict)
    outcome: str | None = None
    decided: int | None = None
    lapsed: int | None = None
    """The entry that seated the board again while this motion was open."""

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
    issued_at: str | None = None
    """The time of the entry that issued it."""
    motion: int | None = None
    signatures: list[dict[str, str]] = field(default_factory=list)
    superseded_by: str | None = None
    unexplained: int = 0
    """Units out of balance the certificate leaves unexplained (its proposal says)."""
    rests_on: dict[str, str] = field(default_factory=dict)
    """A state certificate's county certificates: those in force when it was proposed."""
    county_change: dict[str, Any] | None = None
    """For a state certificate: the county certificate that superseded one it rests on
    (``county``, ``certificate``, ``entry``); it is then no longer in force."""

    @property
    def standing(self) -> str:
        """``in force``, ``superseded``, ``superseded-by-county-change`` or ``proposed``."""
        if self.issued is None:
            return "proposed"
        if self.superseded_by is not None:
            return "superseded"
        if self.county_change is not None:
            return "superseded-by-county-change"
        return "in force"


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


def vote_statement(
    election: str, motion: Motion, vote: str, shown: dict[str, Any] | None = None
) -> dict[str, Any]:
    """What a member signs when voting. On a motion to certify, ``shown`` records what the
    certificate put before them (``{"unexplained": n}``: the units out of balance it
    leaves unexplained)."""
    statement = {
        "statement": "vote",
        "election": election,
        "board": motion.board,
        "motion": motion.index,
        "kind": motion.kind,
        "certificate": motion.certificate,
        "vote": vote,
    }
    if shown is not None:
        statement["shown"] = shown
    return statement


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
        self.keys = KeyRing()
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
        self.tie_decisions: list[TieDecision] = []
        """The officials' decisions of ranked-choice ties their rules leave to them."""
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
        """The certificate that freezes a county's (or the state's) results, unless a
        recount or a correction has been opened since it was issued, or it is no longer in
        force."""
        if county in self.reopened:
            return None
        return self.in_force(county)

    def in_force(self, scope: str) -> Certificate | None:
        """The certificate of a county (or ``state``) in force: the latest issued, unless
        a county change has superseded the state's."""
        cert = self.certificate_of(scope)
        return cert if cert is not None and cert.standing == "in force" else None

    def reopened_by_recount(self, scope: str) -> bool:
        return scope in self.reopened and self.reopened[scope][2] == "recount"

    def certificate_of(self, scope: str) -> Certificate | None:
        """The latest certificate issued for a county (or ``state``), in force or not: what
        the next one supersedes."""
        sha = self.current.get(scope)
        return self.certificates[sha] if sha else None

    def key(self, name: str, roles: tuple[str, ...]) -> VerifierKey:
        return self.keys.key(name, roles, CanvassRefused)

    # --- folding -----------------------------------------------------------------------------

    def apply(self, index: int, entry: Entry) -> None:
        self.size = index + 1
        self.last_time = entry.time
        handler = getattr(self, "_" + entry.type.replace(".", "_"), None)
        if handler is not None:
            handler(index, entry)

    def _log_opened(self, index: int, entry: Entry) -> None:
        self.keys.register(entry)

    def _key_registered(self, index: int, entry: Entry) -> None:
        self.keys.register(entry)

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
        reason = str(d.get("reason") or "")
        seating = Seating(index, entry.time, tuple(members), rule.needed(len(members)), reason)
        board = self.boards.get(d["board"])
        if board is None:
            self.profile = chosen
            self.boards[d["board"]] = Board(d["board"], chosen, [seating])
            return
        self._may_reseat(board, reason)
        for motion in self.motions.values():
            if motion.board == board.id and motion.outcome is None and motion.lapsed is None:
                motion.lapsed = index
        board.seatings.append(seating)

    def _may_reseat(self, board: Board, reason: str) -> None:
        """Refuse to change a board while its certificate is in force (unless a correction
        or a recount has reopened it), or without saying why."""
        scope = board.county or STATE
        frozen = self.frozen(scope)
        if frozen is not None:
            raise CanvassRefused(
                f"board {board.id} certified {'the state' if scope == STATE else scope} "
                f"(certificate {frozen.sha256[:12]}, log entry {frozen.issued}); its members "
                "cannot change while that certificate is in force unless a correction is "
                "open (canvass certify correct)"
            )
        if not reason.strip():
            raise CanvassRefused(
                f"board {board.id} is seated (log entry {board.entry}); seating it again "
                "needs a reason"
            )

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
        unexplained = d.get("unexplained", 0)
        if not isinstance(unexplained, int) or unexplained < 0:
            raise CanvassRefused(f"unexplained is a count of units; found {unexplained!r}")
        cert = Certificate(
            d["certificate"], d["board"], d["county"], d["status"], d.get("supersedes"), index
        )
        cert.unexplained = unexplained
        if d["county"] is None:
            cert.rests_on = {c: s for c, s in self.current.items() if c != STATE}
        self.certificates[d["certificate"]] = cert

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
            index,
            board.id,
            d["kind"],
            d["certificate"],
            d["mover"],
            d["text"],
            entry.time,
            board.seated,
        )

    def motion(self, index: int) -> Motion:
        found = self.motions.get(index)
        if found is None:
            raise CanvassRefused(f"log entry {index} is not a motion")
        return found

    def shown(self, motion: Motion) -> dict[str, Any] | None:
        """What a vote on ``motion`` must record the member was shown: on a motion to
        certify, the units out of balance the certificate leaves unexplained."""
        if motion.kind != "certify":
            return None
        return {"unexplained": self.certificates[motion.certificate].unexplained}

    def _board_vote(self, index: int, entry: Entry) -> None:
        d = entry.data
        motion = self.motion(d["motion"])
        if motion.lapsed is not None:
            raise CanvassRefused(
                f"motion {motion.index} lapsed when board {motion.board} was seated again "
                f"(log entry {motion.lapsed})"
            )
        if motion.seating.member(d["member"]) is None:
            raise CanvassRefused(
                f"{d['member']} did not sit on board {motion.board} when motion "
                f"{motion.index} was made"
            )
        if d["member"] in motion.votes:
            raise CanvassRefused(f"{d['member']} has already voted on motion {motion.index}")
        if d["vote"] not in VOTES:
            raise CanvassRefused(f"a vote is one of {', '.join(VOTES)}; found {d['vote']!r}")
        shown = self.shown(motion)
        if d.get("shown") != shown:
            raise CanvassRefused(
                f"vote by {d['member']} on motion {motion.index}: records {d.get('shown')!r} "
                f"shown; the certificate puts {shown!r} before the board"
            )
        check(
            vote_statement(self.election, motion, d["vote"], shown),
            d["signature"],
            self.key(d["member"], ("board-member", "state-official")),
            f"vote by {d['member']} on motion {motion.index}",
        )
        motion.votes[d["member"]] = Vote(d["member"], d["vote"], d["signature"], index)

    def outcome(self, motion: Motion) -> str | None:
        """``passed`` once enough members voted yes, ``failed`` once they no longer can
        (a deadlock), else ``None``. The roll call goes on after the outcome is settled:
        every member's vote is recorded. It is judged under the members seated when the
        motion was made."""
        seating = motion.seating
        yes = motion.count("yes")
        if yes >= seating.needed:
            return "passed"
        if yes + (len(seating.members) - len(motion.votes)) < seating.needed:
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
        if len(d["signatures"]) < motion.seating.needed:
            raise CanvassRefused(f"certificate {cert.sha256[:12]}: too few signatures")
        scope = cert.county or STATE
        cert.issued, cert.motion, cert.signatures = index, motion.index, d["signatures"]
        cert.issued_at = entry.time
        previous = self.current.get(scope)
        if previous is not None and previous != cert.sha256:
            self.certificates[previous].superseded_by = cert.sha256
            state = self.certificate_of(STATE)
            if (
                scope != STATE
                and state is not None
                and state.county_change is None
                and state.rests_on.get(scope) == previous
            ):
                # The state certificate rests on the county certificate just superseded.
                state.county_change = {"county": scope, "certificate": cert.sha256, "entry": index}
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

    def _rcv_tie_resolved(self, index: int, entry: Entry) -> None:
        d = entry.data
        self.tie_decisions.append(
            TieDecision(
                d["contest"], int(d["round"]), tuple(d["tied"]), bool(d["elected"]), d["chosen"]
            )
        )

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
