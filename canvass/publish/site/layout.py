"""The frame every page of the results site shares: the election's name, its status
(unofficial, certified, recount, corrected) and when it was last updated, the site's
navigation, the page's content, the data behind it and the block that checks it in the
reader's browser."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import jinja2
from markupsafe import Markup

TEMPLATES = jinja2.Environment(
    loader=jinja2.PackageLoader("canvass.publish.site", "templates"),
    autoescape=True,
    undefined=jinja2.StrictUndefined,
    keep_trailing_newline=True,
    trim_blocks=True,
)

NAV = (
    ("index.html", "Results"),
    ("counties.html", "Counties"),
    ("certificates.html", "Certificates"),
    ("audits.html", "Audits"),
    ("how-to-check.html", "How to check"),
)


@dataclass(frozen=True)
class Status:
    key: str
    """``unofficial``, ``certified``, ``correction`` or ``recount`` (under way), or
    ``corrected``: the banner's style."""
    label: str
    """What the banner says."""


def when(rfc3339: str) -> str:
    """A log time in words, in UTC: ``4 November 2026, 02:00 UTC``."""
    at = datetime.fromisoformat(rfc3339.replace("Z", "+00:00"))
    return f"{at.day} {at:%B %Y, %H:%M} UTC"


def render_page(
    *,
    path: str,
    title: str,
    election: str,
    status: Status,
    as_of: str,
    body: Markup,
    check: Markup,
    downloads: Sequence[tuple[str, str]] = (),
    notices: Sequence[str] = (),
    sources: Sequence[str] = (),
) -> bytes:
    """The page at bundle path ``path``; links in ``body`` and ``downloads`` are relative
    to the page, ``sources`` (bundle paths) to the bundle. ``notices`` are said in a banner
    above the content: what may still change (a correction or a recount under way)."""
    up = "../" * path.count("/")
    alternates = [
        (rel, href, "application/json" if href.endswith(".json") else "text/csv")
        for rel, href in (("alternate", h) for h, _ in downloads)
    ]
    return (
        TEMPLATES.get_template("layout.html.j2")
        .render(
            title=title,
            election=election,
            status=status,
            as_of=as_of,
            as_of_words=when(as_of),
            nav=NAV,
            here=path,
            up=up,
            body=body,
            check=check,
            downloads=downloads,
            alternates=alternates,
            notices=notices,
            sources=sources,
        )
        .encode()
    )
