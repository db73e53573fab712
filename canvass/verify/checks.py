"""Every check of a published bundle, from the bytes up.

1. **files**: every file the manifest lists, against its SHA-256;
2. **log**: the entries (from the tiles) against the signed checkpoints, the hash tiles
   against the entries, witness cosignatures, the checkpoints this user saw before (a
   split view or a rollback fails), and entry times never going backwards;
3. **artifacts**: every artifact the log names is in the bundle with those bytes (or
   withheld by county policy, as the manifest declares), and every artifact in the bundle
   is named by the log;
4. **ballots**: every published CVR export read again, by the same reader under the same
   definition, gives the ballot table the log holds, card for card;
5. **signatures**: the log folded under the canvass rules: every motion, vote,
   certificate and certificate of ascertainment signed by a registered key, every
   certificate with enough signatures under its board's rule;
6. **certificates**: every county certificate re-counted from the ballot tables it rests
   on, which must be the county's imports at the time; its reconciliation recomputed;
   every state certificate the sum of its counties' and its ranked-choice winners
   re-counted; the published certificate index as the log has it;
7. **results**: the published results re-counted from the ballot tables in force;
8. **audits**: the commitment signed before the seed, every retrieval list drawn again
   from the seed, every risk measurement recomputed from the audit boards' readings;
9. **ascertainment**: every certificate of ascertainment against the state certificate
   in force when it was issued.

A check that cannot be made (an artifact missing or altered) is a failure, with why.
"""

from __future__ import annotations

from canvass.errors import VerificationError
from canvass.log.note import VerifierKey
from canvass.verify.artifacts import Artifacts
from canvass.verify.canvass_checks import check_canvass
from canvass.verify.log_checks import check_artifacts, check_ballots, check_files, check_log
from canvass.verify.report import Check, Report
from canvass.verify.source import Source
from canvass.verify.trust import TrustStore

__all__ = ["Check", "Report", "verify_bundle"]


def verify_bundle(
    source: Source,
    trust: TrustStore | None = None,
    operator: str | None = None,
    reingest: bool = True,
) -> Report:
    """Check everything in the bundle (see the module's description). ``operator`` is the
    log operator's key as the user obtained it; without it, the trust store's, and failing
    that, the bundle's own (trusted on first use, and said so). ``reingest``: read every
    published CVR export again and compare it with its ballot table."""
    report = Report(source.where)
    v = Artifacts(source)
    manifest = source.manifest()
    check_files(source, manifest, report.check("files", "files against the manifest's SHA-256"))

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
        return report
    if manifest.get("operator") != key_text:
        log.problems.append(
            f"the bundle names operator key {manifest.get('operator')!r}, not the trusted "
            f"{key_text!r}"
        )
    report.operator = key_text
    entries = check_log(source, key, trust.checkpoints(origin) if trust else [], log, report)
    if entries is None:
        return report
    check_artifacts(source, manifest, entries, report.check("artifacts", "artifacts the log names"))
    if reingest:
        check_ballots(
            v,
            manifest.get("withheld") or {},
            entries,
            report.check("ballots", "ballot tables read again from the original CVR files"),
        )
    check_canvass(v, entries, report)
    return report
