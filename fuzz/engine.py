"""The fuzzing loop: Hypothesis draws cases (a seed and a few mutations), each case is
written to a fresh folder and read by its target, and every outcome is classed.

Why Hypothesis rather than atheris: it is already how the project tests properties, it runs
on any Python the project supports (atheris needs a clang-built libFuzzer and lags behind
new Pythons), and when a case crashes it *shrinks* it — to the fewest, smallest mutations
that still crash — which is the minimal input a regression test wants. What it lacks,
coverage guidance, matters less here than structure: the mutations know JSON, XML, CSV
and zip, so they reach past the first parser without a coverage map.

Outcomes: ``accepted`` (read), ``named`` (refused with a :class:`CanvassError` of one line,
or the list of problems a configuration check gives), ``crash`` (any other exception, a
message that is empty, or a case that ran past the time limit).
"""

from __future__ import annotations

import hashlib
import shutil
import signal
import tempfile
import time
import traceback
import warnings
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType

from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import seed as hypothesis_seed
from hypothesis import strategies as st

from canvass.errors import CanvassError, RulesError
from fuzz.mutate import KINDS, mutate
from fuzz.targets import Files, Target

CASE_CPU_SECONDS = 20
"""A case that uses more processor time is a hang (the slowest real case takes about a
second)."""
CASE_WALL_SECONDS = 200
"""A case that takes longer by the clock is a hang too, whatever its processor time (a read
that waits for ever uses none); ten times the processor limit, so that a machine shared
with other work does not make a slow case look like a hang."""


class Hang(Exception):
    """A case ran past :data:`CASE_CPU_SECONDS` of processor time or
    :data:`CASE_WALL_SECONDS` by the clock."""


@dataclass
class Crash:
    target: str
    kind: str
    """The exception's type and where it was raised: what makes two crashes one class."""
    detail: str
    files: Files


@dataclass
class Tally:
    cases: int = 0
    accepted: int = 0
    named: int = 0
    crashes: list[Crash] = field(default_factory=list)
    errors: Counter[str] = field(default_factory=Counter)
    """How many cases each kind of named error ended (its first words)."""


Case = tuple[int, list[tuple[str, int, int]]]
"""Which seed, and the mutations: (kind, which file, number)."""


def cases(seeds: int) -> st.SearchStrategy[Case]:
    return st.tuples(
        st.integers(0, max(seeds - 1, 0)),
        st.lists(
            st.tuples(st.sampled_from(KINDS), st.integers(0, 63), st.integers(0, 2**32 - 1)),
            min_size=1,
            max_size=3,
        ),
    )


def build(seed: Files, mutations: list[tuple[str, int, int]]) -> Files:
    files = dict(seed)
    names = list(files)
    for kind, which, number in mutations:
        name = names[which % len(names)]
        files[name] = mutate(files[name], kind, number)
    return files


@contextmanager
def _time_limit(cpu_seconds: float, wall_seconds: float) -> Iterator[None]:
    """Raise :class:`Hang` in the case once it has used ``cpu_seconds`` of processor time
    (``ITIMER_PROF``: user and system) or ``wall_seconds`` by the clock."""

    def expire(signum: int, frame: FrameType | None) -> None:
        if signum == signal.SIGPROF:
            raise Hang(f"the case used more than {cpu_seconds:g} s of processor time")
        raise Hang(f"the case ran past {wall_seconds:g} s by the clock")

    previous = {s: signal.signal(s, expire) for s in (signal.SIGALRM, signal.SIGPROF)}
    signal.setitimer(signal.ITIMER_PROF, cpu_seconds)
    signal.setitimer(signal.ITIMER_REAL, wall_seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_PROF, 0)
        signal.setitimer(signal.ITIMER_REAL, 0)
        for signum, handler in previous.items():
            signal.signal(signum, handler)


def run_case(target: Target, files: Files) -> tuple[str, str]:
    """Read one case: ``("accepted", "")``, ``("named", message)`` or
    ``("crash", traceback)``."""
    folder = Path(tempfile.mkdtemp(prefix=f"fuzz-{target.name}-"))
    try:
        paths = []
        for name, data in files.items():
            path = folder / name
            path.write_bytes(data)
            paths.append(path)
        try:
            with _time_limit(CASE_CPU_SECONDS, CASE_WALL_SECONDS), warnings.catch_warnings():
                warnings.simplefilter("ignore")  # e.g. zipfile's "Duplicate name"
                target.run(folder, paths)
        except CanvassError as e:
            message = str(e)
            one_line = "\n" not in message or isinstance(e, RulesError)
            if message.strip() and one_line:
                return "named", message.replace(str(folder) + "/", "")
            return (
                "crash",
                f"{type(e).__name__} with a message of {len(message.splitlines())} lines: "
                f"{message!r}",
            )
        except Hang as e:
            return "crash", f"Hang: {e}"
        except (KeyboardInterrupt, SystemExit):
            raise
        except BaseException:
            return "crash", traceback.format_exc()
        return "accepted", ""
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def crash_kind(detail: str) -> str:
    """The exception type and the innermost project frame that raised it."""
    lines = detail.strip().splitlines()
    last = lines[-1] if lines else detail
    where = next(
        (line.strip() for line in reversed(lines) if 'File "' in line and "canvass" in line), ""
    )
    return f"{last.split(':')[0]} at {where}"


def fuzz(
    target: Target, examples: int, seed: int, deadline: float | None = None, shrink: bool = True
) -> Tally:
    """Run ``examples`` cases (fewer if ``deadline``, a ``time.monotonic()`` value, passes);
    a crash is shrunk to its smallest form and recorded, and the run goes on."""
    tally = Tally()
    seeds = target.seeds()
    if not seeds:
        return tally

    def one(case: Case) -> None:
        if deadline is not None and time.monotonic() > deadline:
            return
        which, mutations = case
        files = build(seeds[which % len(seeds)], mutations)
        outcome, detail = run_case(target, files)
        tally.cases += 1
        if outcome == "accepted":
            tally.accepted += 1
        elif outcome == "named":
            tally.named += 1
            tally.errors[_words(detail)] += 1
        else:
            raise _Found(Crash(target.name, crash_kind(detail), detail, files))

    phases = [Phase.generate, Phase.shrink] if shrink else [Phase.generate]
    runner = settings(
        max_examples=examples,
        deadline=None,
        database=None,
        phases=phases,
        suppress_health_check=list(HealthCheck),
        derandomize=False,
    )(given(cases(len(seeds)))(one))
    try:
        hypothesis_seed(seed)(runner)()
    except _Found as found:
        tally.crashes.append(found.crash)
    except Exception as e:  # Hypothesis re-raises the shrunk failure, sometimes wrapped
        crash = _crash_in(e)
        if crash is None:
            raise
        tally.crashes.append(crash)
    return tally


class _Found(Exception):
    def __init__(self, crash: Crash) -> None:
        super().__init__(crash.kind)
        self.crash = crash


def _crash_in(e: BaseException) -> Crash | None:
    if isinstance(e, _Found):
        return e.crash
    for inner in getattr(e, "exceptions", ()):
        found = _crash_in(inner)
        if found is not None:
            return found
    return None


def _words(message: str) -> str:
    """A named error's kind, for the tally: its text after the file name, numbers dropped."""
    rest = message.split(": ", 1)[-1]
    return " ".join(w for w in rest.split()[:6] if not any(c.isdigit() for c in w))


def save(crash: Crash, folder: Path) -> Path:
    """Write a crash's files and traceback under ``folder``; returns where."""
    digest = hashlib.sha256(
        b"".join(n.encode() + d for n, d in sorted(crash.files.items()))
    ).hexdigest()[:12]
    out = folder / f"{crash.target}-{digest}"
    out.mkdir(parents=True, exist_ok=True)
    for name, data in crash.files.items():
        (out / name).write_bytes(data)
    (out / "TRACEBACK.txt").write_text(crash.detail)
    return out
