"""The part of every page that checks it in the reader's browser.

A page names the log it was rendered from — its first ``log_size`` entries, their Merkle
root, the entry recording the publication, the operator's key and the witnesses' — in a
``<script type="application/json" id="canvass-log">`` block, and loads ``check.js``
(:data:`SCRIPT`), which checks the signed checkpoint, the cosignatures, the publication's
inclusion in the log and the page's own bytes (see the script's header). Without
JavaScript the block says what the reader can run instead.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from importlib.resources import files
from typing import Any

from markupsafe import Markup, escape

SCRIPT = "check.js"
"""Where the checker lives in the bundle."""


def script_bytes() -> bytes:
    """The checker as shipped with Canvass: the same bytes in every bundle of a release."""
    return (files("canvass.publish") / "static" / SCRIPT).read_bytes()


@dataclass(frozen=True)
class Witness:
    name: str
    vkey: str
    """The verifier key the witness registered (``name+id+base64``)."""
    entry: int | None = None
    """The log entry that registered it, when the page names it (the browser then checks
    the key against that entry)."""


@dataclass(frozen=True)
class LogClaim:
    """What a page says about the log it comes from."""

    log_size: int
    """How many entries the page was rendered from."""
    root: bytes
    """Their Merkle root (RFC 9162)."""
    publication: int
    """The ``bundle.published`` entry that lists the page's bytes."""
    operator: str
    """The log operator's verifier key."""
    witnesses: tuple[Witness, ...] = ()
    refresh_seconds: int = 60
    """How often an open page looks for a new checkpoint (0: never)."""


def check_config(
    claim: LogClaim, page: str, up: str, data_files: Sequence[str] = ()
) -> dict[str, Any]:
    """The checker's configuration for the page at bundle path ``page``; ``up`` leads from
    the page to the bundle's root (``""``, ``"../"``); ``data_files`` are the bundle paths
    of the files behind the page (its JSON twin, its CSV), checked with it."""
    return {
        "bundle": up or "./",
        "page": page,
        "files": list(data_files),
        "log_size": claim.log_size,
        "root": claim.root.hex(),
        "publication": claim.publication,
        "operator": claim.operator,
        "witnesses": [{"name": w.name, "vkey": w.vkey, "entry": w.entry} for w in claim.witnesses],
        "refresh_seconds": claim.refresh_seconds,
    }


def check_block(config: dict[str, Any]) -> Markup:
    """The HTML that checks the page: the configuration, the place the report goes (with
    what to do where scripts do not run) and the script."""
    # In a script element only "</" can end it early; \u003c keeps the JSON the same.
    data = json.dumps(config, ensure_ascii=False, sort_keys=True).replace("<", "\\u003c")
    up = escape(config["bundle"] if config["bundle"] != "./" else "")
    return Markup(
        f'<section id="check" aria-labelledby="check-heading">\n'
        f'<h2 id="check-heading">Check this page</h2>\n'
        f'<div id="check-report" aria-live="polite" data-check="not-run">\n'
        f"<p>Your browser checks this page against the signed election log when scripts "
        f"run. To check everything — every count from the ballots, every signature — run "
        f'<code>canvass verify</code> on this bundle (<a href="{up}how-to-check.html">how</a>).'
        f"</p>\n</div>\n</section>\n"
        f'<script type="application/json" id="canvass-log">{data}</script>\n'
        f'<script src="{up}{SCRIPT}" defer></script>\n'
    )
