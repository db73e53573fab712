"""The workflows people run, between the shells (command line, web) and the store.

One module per workflow: :mod:`~canvass.app.elections` (create, define, keys, the log's
own operations), :mod:`~canvass.app.imports`, :mod:`~canvass.app.results`,
:mod:`~canvass.app.reconcile`, :mod:`~canvass.app.boards` (boards and county
certificates), :mod:`~canvass.app.state` (roll-up, recounts, ascertainment),
:mod:`~canvass.app.audits` and :mod:`~canvass.app.publishing`.

A workflow that changes the election takes the :data:`Election`, an authenticated
:class:`~canvass.app.actor.Actor` and plain values; it runs its checks and its write in
one transaction and returns data, never text. A read takes the election (or a reader
already open on one snapshot) and returns data. See docs/architecture.md.
"""

from canvass.app.actor import Actor
from canvass.store.election import ElectionDirectory as Election

__all__ = ["Actor", "Election"]
