"""The check of what people read: every file of the bundle that the log gives — results
in every format, the ranked-choice rounds, the reconciliation, the certificate index, the
audits, the pages, the manifest — rendered again from the bundle's log and artifacts with
the very functions that published it, and compared byte for byte; and the log's
publication entry, which names every rendered file, against what is rendered.

A difference is named where it is: the JSON field, or the line of a CSV, text or HTML
file, with what the bundle says and what the log gives.
"""

from __future__ import annotations

import contextlib
import json
from dataclasses import dataclass
from typing import Any

from canvass.certify.fold import ElectionState
from canvass.errors import VerificationError
from canvass.guard.documents import json_value
from canvass.guard.unique import repeated_key, shown
from canvass.log.entry import Entry
from canvass.publish.render import (
    CHECKPOINT,
    CHECKPOINTS,
    FORMAT,
    MANIFEST,
    PUBLISHED,
    log_files,
    manifest_document,
    publication_document,
    render_content,
    withheld,
)
from canvass.publish.view import ElectionView
from canvass.tabulate.rcv import Tabulation
from canvass.verify.artifacts import Artifacts
from canvass.verify.log_checks import Log
from canvass.verify.report import MALFORMED, Check, describe
from canvass.verify.source import Missing, Source

SHOWN = 5
"""Differences named per file."""

LOG_GIVES = "derived from the log"


def last_publication(entries: list[Entry]) -> int | None:
    """The index of the log's last ``bundle.published`` entry."""
    found = [i for i, e in enumerate(entries) if e.type == PUBLISHED]
    return found[-1] if found else None


@dataclass
class Counted:
    """What rendering counted, for the other checks to use rather than count again."""

    tables: list[str]
    """The ballot tables in force (their SHA-256, sorted)."""
    ranked: dict[str, list[Tabulation]]


class Rendered:
    """What the verifier renders from the log: the content files at the publication (set
    while the log is folded, when the fold reaches it), and the rest when it is done."""

    def __init__(self) -> None:
        self.content: dict[str, bytes] = {}
        self.root = b""
        self.election = ""
        self.failed = ""
        self.counted: Counted | None = None

    def render(self, state: ElectionState, v: Artifacts, log: Log, at: int) -> None:
        self.root, self.election = log.tree.root(at), state.election
        view = ElectionView(state, v, self.root)
        try:
            self.content = render_content(state, v, self.root, view)
            in_force = sorted(i.table for i in state.imports.current("ballots"))
            self.counted = Counted(in_force, view.ranked)
        except MALFORMED as e:
            self.failed = describe(e)


def check_published(
    source: Source, v: Artifacts, log: Log, rendered: Rendered, at: int | None, check: Check
) -> set[str]:
    """Compare every rendered file, the publication and the manifest with the bundle's;
    returns every path the log gives (for the check of files)."""
    entries = log.entries
    withhold: list[str] = []
    if at is None:
        check.problems.append(
            "the log records no publication (bundle.published): nothing in it says these "
            "files were published from it"
        )
    else:
        said = entries[at].data
        withhold = [str(c) for c in said.get("withhold_originals") or []]
        if at != len(entries) - 1:
            check.problems.append(
                f"log entry {at} (bundle.published) is not the log's last: the files were "
                f"rendered before entries {at + 1} to {len(entries) - 1}, which no publication "
                "covers"
            )
        if said.get("format") != FORMAT:
            check.problems.append(
                f"log entry {at}: published as {said.get('format')!r}; this verifier renders "
                f"{FORMAT!r}: check it with the version of Canvass that published it"
            )
    if rendered.failed:
        check.problems.append(
            f"the published files cannot be derived from the log: {rendered.failed}"
        )
    for path, data in rendered.content.items():
        check.checked += 1
        _compare(source, path, data, check)
    if at is not None and not rendered.failed:
        document = publication_document(
            rendered.election, at, rendered.root, withhold, rendered.content
        )
        check.checked += 1
        ref = entries[at].artifacts[0] if entries[at].artifacts else None
        try:
            named = v.get(ref.sha256) if ref is not None else b""
        except MALFORMED as e:
            check.problems.append(f"log entry {at} (bundle.published): {describe(e)}")
        else:
            if named != document:
                check.problems += [
                    f"log entry {at} (bundle.published): its publication {p}"
                    for p in _differences("", named, document, ".json")
                ]
    log_paths = log_files(log.raw)
    checkpoints = {}
    for path in (CHECKPOINT, CHECKPOINTS):
        with contextlib.suppress(Missing):
            checkpoints[path] = source.read(path)
    if at is not None and not rendered.failed and len(checkpoints) == 2:
        derived = manifest_document(
            entries,
            at,
            rendered.content,
            {**log_paths, **checkpoints},
            withheld(entries, withhold),
        )
        check.checked += 1
        _compare(source, MANIFEST, derived, check)
    return set(rendered.content) | set(log_paths) | {CHECKPOINT, CHECKPOINTS, MANIFEST}


def _compare(source: Source, path: str, derived: bytes, check: Check) -> None:
    try:
        found = source.read(path)
    except Missing:
        check.problems.append(f"{path}: missing from the bundle")
        return
    if found != derived:
        suffix = path[path.rfind(".") :] if "." in path.rsplit("/", 1)[-1] else ""
        check.problems += _differences(path, found, derived, suffix)


def _differences(path: str, found: bytes, derived: bytes, suffix: str) -> list[str]:
    """What differs between a file as the bundle holds it and as the log gives it."""
    where = f"{path} " if path else ""
    if suffix == ".json":
        repeated = repeated_key(found)
        if repeated is not None:
            return [f"{where}{repeated}; readers differ on which value they take"]
        try:
            doc = json_value(found, path, VerificationError)
        except VerificationError as e:
            return [f"{where}is not JSON; {LOG_GIVES}, it is ({e})"]
        out: list[str] = []
        _walk(path, doc, json.loads(derived), out)
        if not out:  # the same document written otherwise
            out = [f"{where}holds what the log gives, but not in the bytes it was published as"]
        if len(out) > SHOWN:
            out = [*out[:SHOWN], f"{where}… and {len(out) - SHOWN} more differences"]
        return out
    a = found.decode("utf-8", "replace").splitlines()
    b = derived.decode("utf-8", "replace").splitlines()
    for n, (x, y) in enumerate(zip(a, b, strict=False), start=1):
        if x != y:
            return [f"{where}line {n}: published {_clip(x, y)!r}; {LOG_GIVES} {_clip(y, x)!r}"]
    if len(a) != len(b):
        return [f"{where}published {len(a)} lines; {LOG_GIVES}, {len(b)}"]
    return [f"{where}differs from what the log gives in its line endings or encoding"]


def _clip(text: str, other: str, width: int = 120) -> str:
    """``text`` around where it first differs from ``other``."""
    start = next((i for i, (x, y) in enumerate(zip(text, other, strict=False)) if x != y), 0)
    start = max(0, min(start - width // 3, len(text) - width))
    clipped = text[start : start + width]
    return ("…" if start else "") + clipped + ("…" if start + width < len(text) else "")


def _walk(where: str, a: Any, b: Any, out: list[str]) -> None:
    """Every field that differs between two JSON documents, by its path of keys."""

    def at(key: object) -> str:
        return f"{where} {shown(str(key))}" if where else shown(str(key))

    if isinstance(a, dict) and isinstance(b, dict):
        for key in [*a, *(k for k in b if k not in a)]:
            if key not in b:
                out.append(f"{at(key)}: published {_show(a[key])}; the log gives nothing")
            elif key not in a:
                out.append(f"{at(key)}: published nothing; {LOG_GIVES} {_show(b[key])}")
            else:
                _walk(at(key), a[key], b[key], out)
    elif isinstance(a, list) and isinstance(b, list):
        for n in range(max(len(a), len(b))):
            if n >= len(b):
                out.append(f"{at(n)}: published {_show(a[n])}; the log gives nothing")
            elif n >= len(a):
                out.append(f"{at(n)}: published nothing; {LOG_GIVES} {_show(b[n])}")
            else:
                _walk(at(n), a[n], b[n], out)
    elif a != b or type(a) is not type(b):
        out.append(f"{where}: published {_show(a)}, {LOG_GIVES} {_show(b)}")


def _show(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False)
    return text if len(text) <= 160 else text[:157] + "…"
