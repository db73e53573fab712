"""Check a whole election log: its entries against the checkpoints signed over them, and
the checkpoints against each other and against any an observer saw before.

What it catches, and how it names it:

- **truncated**: a signed checkpoint covers more entries than the log now holds;
- **rewritten / reordered**: the entries no longer hash to a signed root;
- **forked**: two signed checkpoints of the same size with different roots, or a later
  checkpoint that is not an extension of an earlier one;
- **rolled back**: a checkpoint an observer saw earlier is larger than the log, or the
  log's latest checkpoint is older than one the observer saw.

Every checkpoint that passes has the root of a prefix of the same recomputed tree, so
the passing checkpoints are consistent with each other by construction. The check is
pure: bytes in, a list of problems out.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from canvass.errors import LogIntegrityError, VerificationError
from canvass.log.entry import Entry, parse_entry
from canvass.log.merkle import MerkleTree
from canvass.log.note import Checkpoint, VerifierKey, open_checkpoint


@dataclass
class LogReport:
    tree: MerkleTree
    entries: list[Entry]
    checkpoints: list[Checkpoint]
    problems: list[str] = field(default_factory=list)


def verify_log(
    entries: Sequence[bytes],
    checkpoints: Sequence[str],
    operator: VerifierKey,
    trusted: Sequence[str] = (),
) -> LogReport:
    """Recompute the tree over ``entries`` and check every checkpoint against it.

    ``checkpoints`` are those the log publishes; ``trusted`` are checkpoints the observer
    obtained earlier, on their own (e.g. from a newspaper or a witness)."""
    tree = MerkleTree()
    parsed: list[Entry] = []
    problems: list[str] = []
    for i, raw in enumerate(entries):
        tree.append(raw)
        try:
            entry = parse_entry(raw, f"entry {i}")
        except VerificationError as e:
            problems.append(str(e))
            continue
        # The entries read are those before the first that cannot be: entry i stays at
        # index i, so nothing that reads them takes one entry for another.
        if len(parsed) == i:
            parsed.append(entry)
    report = LogReport(tree, parsed, [], problems)
    if parsed and parsed[0].type != "log.opened":
        problems.append(f"entry 0 is a {parsed[0].type!r}; a log opens with 'log.opened'")
    elif parsed and parsed[0].data.get("operator") != operator.encode():
        problems.append("entry 0 names a different log operator key than the one checked against")

    by_size: dict[int, Checkpoint] = {}
    latest_published = 0
    for source, notes in (("checkpoint", checkpoints), ("trusted checkpoint", trusted)):
        observer = source.startswith("trusted")
        for note in notes:
            try:
                cp = open_checkpoint(note, operator, source)
            except VerificationError as e:
                problems.append(str(e))
                continue
            where = f"{source} of size {cp.size}"
            if cp.size in by_size and by_size[cp.size].root != cp.root:
                problems.append(
                    f"{where}: forked: another checkpoint of that size has a different root"
                )
                continue
            by_size[cp.size] = cp
            if cp.size > tree.size:
                kind = "rolled back" if observer else "truncated"
                problems.append(f"{where}: {kind}: the log holds only {tree.size} entries")
            elif cp.size == 0 or tree.root(cp.size) != cp.root:
                problems.append(
                    f"{where}: the entries no longer hash to its root: "
                    "the log was rewritten, reordered or forked after it was signed"
                )
            elif observer and cp.size > latest_published:
                problems.append(
                    f"{where}: the log's latest checkpoint ({latest_published}) is older: "
                    "it was rolled back"
                )
            else:
                report.checkpoints.append(cp)
                if not observer:
                    latest_published = max(latest_published, cp.size)
    return report


def require_valid(report: LogReport) -> LogReport:
    if report.problems:
        raise LogIntegrityError(report.problems)
    return report
