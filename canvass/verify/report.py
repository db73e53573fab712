"""The verifier's report: each check, what and how much it checked, and every problem
with where it is."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa

from canvass.certify.fold import MALFORMED as MALFORMED_ENTRY
from canvass.guard.unique import printable

SHOWN = 20
"""Problems shown per check in the text report (the JSON report has every one)."""


@dataclass
class Check:
    name: str
    what: str
    checked: int = 0
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


@dataclass
class Report:
    where: str
    checks: list[Check] = field(default_factory=list)
    checkpoint: str = ""
    origin: str = ""
    operator: str = ""
    log_size: int = 0
    signed_sizes: list[int] = field(default_factory=list)
    """The sizes of the log's checkpoints whose signatures verified."""
    witnesses: list[str] = field(default_factory=list)
    """The keys of the witnesses whose cosignatures verified on the latest checkpoint."""
    started: Callable[[str], None] | None = field(default=None, repr=False, compare=False)
    """Told the name of each check as it starts (for a progress display)."""

    @property
    def ok(self) -> bool:
        return bool(self.checks) and all(c.ok for c in self.checks)

    def check(self, name: str, what: str) -> Check:
        c = Check(name, what)
        self.checks.append(c)
        if self.started is not None:
            self.started(name)
        return c

    def to_json(self) -> dict[str, Any]:
        return {
            "bundle": self.where,
            "ok": self.ok,
            "origin": self.origin,
            "log_size": self.log_size,
            "checks": [
                {
                    "check": c.name,
                    "what": c.what,
                    "checked": c.checked,
                    "ok": c.ok,
                    "problems": c.problems,
                    "notes": c.notes,
                }
                for c in self.checks
            ],
        }

    def text(self) -> str:
        """The report for a person: one line per check, note and problem, each with every
        control or format character escaped, so that nothing the bundle says (a name in
        its log, a file's name) can end a line or forge one."""
        lines = [f"Bundle {self.where}: log {self.origin}, {self.log_size:,} entries"]
        for c in self.checks:
            mark = "ok  " if c.ok else "FAIL"
            lines.append(f"{mark} {c.name:<14} {c.checked:>9,} checked: {c.what}")
            lines += [f"       note: {n}" for n in c.notes]
            lines += [f"       {p}" for p in c.problems[:SHOWN]]
            if len(c.problems) > SHOWN:
                lines.append(f"       … and {len(c.problems) - SHOWN:,} more (all of them: --json)")
        failed = sum(len(c.problems) for c in self.checks)
        lines.append(
            "Everything holds."
            if self.ok
            else f"{failed} problem{'s' if failed != 1 else ''} found: do not rely on this bundle."
        )
        return "\n".join(printable(line) for line in lines) + "\n"


MALFORMED = (*MALFORMED_ENTRY, pa.ArrowException)
"""What a bundle's contents can raise when they are not what they should be: the verifier
reads hostile input, and reports each of these as a problem rather than stopping."""


def describe(e: BaseException) -> str:
    if isinstance(e, KeyError):
        return f"no field {e.args[0]!r} where one is required"
    return str(e) or type(e).__name__


def attempt(check: Check, where: str, step: Callable[[], list[str]]) -> None:
    """Run one step of a check; what stops it is a problem too."""
    try:
        check.problems += step()
    except MALFORMED as e:
        check.problems.append(f"{where}: cannot be checked: {describe(e)}")
