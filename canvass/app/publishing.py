"""Publishing: the static results bundle of an election (see :mod:`canvass.publish.bundle`)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from canvass.publish.bundle import Published
from canvass.publish.bundle import publish as write_bundle
from canvass.store.election import ElectionDirectory


def publish(
    election: ElectionDirectory,
    out: Path,
    withhold_originals: Sequence[str] = (),
    replace: bool = False,
) -> Published:
    """Write the election's results bundle to ``out``. ``withhold_originals`` names the
    counties (or ``all``) whose original CVR files stay out of it; their normalized ballot
    tables are always published."""
    return write_bundle(election, out, withhold_originals, replace)
