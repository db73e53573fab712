"""Progress on standard error while a long step runs: Rich's bar, with how many done, how
many in all where that is known, the rate and the time. Drawn only on a terminal — a pipe,
a log file or a test gets nothing — and Rich is imported only then, so a command that
shows no progress never pays for it at start-up."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

Advance = Callable[[int], None]
"""Adds the number of items just done."""


def _quiet(n: int) -> None:
    pass


@contextmanager
def progress(description: str, unit: str, total: int | None = None) -> Iterator[Advance]:
    """A bar for the block: ``advance(n)`` adds ``n`` items done (``unit``, e.g. ``cards``)."""
    if not sys.stderr.isatty():
        yield _quiet
        return
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        ProgressColumn,
        SpinnerColumn,
        TextColumn,
        TimeElapsedColumn,
    )
    from rich.text import Text

    class Rate(ProgressColumn):
        """Items a second, as the bar has measured them."""

        def render(self, task: Any) -> Text:
            speed = task.finished_speed or task.speed
            return Text(f"{speed:,.0f} {unit}/s" if speed else "")

    counted = (
        [BarColumn(), MofNCompleteColumn()]
        if total is not None
        else [TextColumn(f"{{task.completed:,.0f}} {unit}")]
    )
    bar = Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        *counted,
        Rate(),
        TimeElapsedColumn(),
        console=Console(stderr=True),
        transient=True,
    )
    with bar:
        task = bar.add_task(description, total=total)
        yield lambda n: bar.advance(task, n)
