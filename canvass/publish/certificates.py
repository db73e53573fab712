"""The published certificate index: every certificate (scope, board, status, its
standing — in force, superseded, or superseded by a county change — what it supersedes,
the county certificates a state certificate rests on,
where it was proposed and issued, the units it leaves unexplained, the members'
signatures), the certificates a correction or a recount has reopened (``reopened``: its
board is to certify again) and every certificate of ascertainment with the state
certificate it rests on."""

from __future__ import annotations

from collections.abc import Iterator

from canvass.publish.files import json_bytes
from canvass.publish.view import ElectionView


def render_certificates(view: ElectionView) -> Iterator[tuple[str, bytes]]:
    doc = {
        "certificates": view.certificates,
        "reopened": view.reopened,
        "ascertainments": view.ascertainments,
    }
    yield "certificates/index.json", json_bytes(doc)
