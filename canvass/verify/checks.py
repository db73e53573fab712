"""Every check of a published bundle, from the bytes up.

1. **files**: every file of the bundle is part of the election — a file the log gives,
   the log itself, or an artifact the log names — and none the manifest lists is missing;
2. **log**: the entries (from the tiles) against the signed checkpoints, the hash tiles
   against the entries, witness cosignatures (of the witnesses the log registers and of
   those whose keys the user holds), the checkpoints this user saw before (a split view
   or a rollback fails), and entry times never going backwards;
3. **artifacts**: every artifact the log names is in the bundle with those bytes (or
   withheld by county policy, as the publication says), and every artifact in the bundle
   is named by the log;
4. **ballots**: every published CVR export read again, by the same reader under the same
   definition, gives the ballot table the log holds, card for card (the exports are read
   in worker processes, on the cores but one, while this process makes checks 5 to 9);
5. **signatures**: the log folded under the canvass rules: every motion, vote, audit
   reading, certificate and certificate of ascertainment signed by a registered key,
   every certificate with enough signatures under its board's rule as seated then;
6. **certificates**: every county certificate re-counted from the ballot tables it rests
   on, which must be the county's imports at the time; its reconciliation recomputed;
   every state certificate the sum of its counties' and its ranked-choice winners
   re-counted;
7. **published**: every file people read — results in every format, ranked-choice rounds,
   reconciliation, certificate index, audits, pages, the manifest — rendered again from
   the log by the functions that published it, byte for byte, and the log's publication
   entry naming exactly those files;
8. **audits**: the commitment signed before the seed, every retrieval list drawn again
   from the seed, every risk measurement recomputed from the audit boards' readings in
   force;
9. **ascertainment**: every certificate of ascertainment against the state certificate
   in force when it was issued.

A check that cannot be made (an artifact missing or altered) is a failure, with why. The
verifier never crashes: every file of the bundle is decoded through the same guarded
decoding as every reader (:mod:`canvass.guard`), and should a check still fail in a way
nobody foresaw, the report says which check could not run to its end and why, and fails.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Sequence
from typing import Any

from canvass.errors import VerificationError, one_line
from canvass.log.note import VerifierKey
from canvass.verify.artifacts import Artifacts
from canvass.verify.canvass_checks import check_canvass
from canvass.verify.log_checks import (
    check_artifacts,
    check_ballots,
    check_files,
    check_log,
    exports_to_read,
)
from canvass.verify.report import Check, Report
from canvass.verify.source import Source
from canvass.verify.trust import TrustStore

__all__ = ["Check", "Report", "verify_bundle"]


def verify_bundle(
    source: Source,
    trust: TrustStore | None = None,
    operator: str | None = None,
    reingest: bool = True,
    witnesses: Sequence[str] = (),
    started: Callable[[str], None] | None = None,
) -> Report:
    """Check everything in the bundle (see the module's description). ``operator`` is the
    log operator's key as the user obtained it; without it, the trust store's, and failing
    that, the bundle's own (trusted on first use, and said so). ``witnesses``: witness
    keys the user holds (with the trust store's), each of which must have cosigned the
    latest checkpoint. ``reingest``: read every published CVR export again and compare it
    with its ballot table. ``started`` is told the name of each check as it starts."""
    report = Report(source.where, started=started)
    manifest = source.manifest()
    try:
        _checks(source, manifest, trust, operator, reingest, witnesses, report)
    except Exception as e:  # the verifier reports; it never crashes
        report.check("verifier", "every check ran to its end").problems.append(
            f"a check could not run to its end ({type(e).__name__}: "
            f"{one_line(' '.join(str(e).split()))[:300]}); the checks after it did not run"
        )
    return report


def _checks(
    source: Source,
    manifest: dict[str, Any],
    trust: TrustStore | None,
    operator: str | None,
    reingest: bool,
    witnesses: Sequence[str],
    report: Report,
) -> None:
    v = Artifacts(source)
    files = report.check("files", "every file part of the election, none missing")

    log = report.check("log", "entries, tiles, checkpoints, witnesses, times")
    origin = str(manifest.get("origin", ""))
    report.origin = origin
    key_text = operator or (trust.operator(origin) if trust else None)
    if key_text is None:
        key_text = str(manifest.get("operator", ""))
        log.notes.append(
            f"operator key taken from the bundle itself (first use): {key_text}; "
            "compare it with one published elsewhere"
        )
    try:
        key = VerifierKey.decode(key_text)
    except VerificationError as e:
        log.problems.append(f"operator key: {e}")
        return
    if manifest.get("operator") != key_text:
        log.problems.append(
            f"the bundle names operator key {manifest.get('operator')!r}, not the trusted "
            f"{key_text!r}: another log under the origin {origin!r} (a fork, a forgery, or "
            "an election made again under the same origin); compare its key with one "
            "published elsewhere, and check a new election with --trust-store FILE of its "
            "own or --no-trust-store"
        )
    report.operator = key_text
    held = list(dict.fromkeys([*witnesses, *(trust.witnesses(origin) if trust else [])]))
    found = check_log(source, key, trust.checkpoints(origin) if trust else [], held, log, report)
    if found is None:
        return
    report.witnesses = sorted(found.witnesses.values())
    if len(found.entries) < len(found.raw):
        # The checks below rest on every entry (who signed what, which files the log
        # gives): with entry k unreadable they would read a log that is not this one.
        unread = len(found.entries)
        skipped = report.check("canvass", "the checks that rest on every entry")
        skipped.problems.append(
            f"did not run: log entry {unread} cannot be read (see the log check), and the "
            "checks of artifacts, ballots, signatures, results and files rest on every entry"
        )
        files.notes.append("not checked against the log: not every entry could be read")
        return
    exports = exports_to_read(manifest.get("withheld") or {}, found.entries) if reingest else []
    artifacts = report.check("artifacts", "artifacts the log names")
    read_again = {ref.sha256 for export in exports for ref in export.sources}
    hashed_there = check_artifacts(source, manifest, found.entries, artifacts, read_again)
    with contextlib.ExitStack() as reading:
        if reingest:  # read in worker processes while this one makes the checks after it
            reading.enter_context(
                check_ballots(
                    v,
                    exports,
                    report.check("ballots", "ballot tables read again from the original CVR files"),
                    artifacts,
                    hashed_there,
                )
            )
        expected = check_canvass(source, v, found, report)
    check_files(source, manifest, expected, files)
