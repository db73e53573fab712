"""The workflows people run, between the shells (command line, web) and the store.

One module per workflow: :mod:`~canvass.app.elections` (create, define, keys, the log's
own operations), :mod:`~canvass.app.imports`, :mod:`~canvass.app.results`,
:mod:`~canvass.app.reconcile`, :mod:`~canvass.app.boards` (boards and county
certificates), :mod:`~canvass.app.state` (roll-up, recounts, ascertainment),
:mod:`~canvass.app.audits` and :mod:`~canvass.app.publishing`.

A workflow that changes the election takes the election
(:data:`Election`), an authenticated
:class:`~canvass.app.actor.Actor` and plain values; it runs its checks and its write in
one transaction and returns data, never text. A read takes the election (or a reader
already open on one snapshot) and returns data. See docs/architecture.md.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from canvass.app.actor import Actor

if TYPE_CHECKING:
    from canvass.app.snapshot import Election

__all__ = ["Actor", "Election"]


def __getattr__(name: str) -> Any:
    # The store (and SQLAlchemy) load when a workflow first needs them, not on import:
    # the command line starts without them.
    if name == "Election":
        from canvass.app.snapshot import Election

        return Election
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
