"""Documents people sign and file, as PDF (WeasyPrint, from the same data the pages show):
each names the SHA-256 and the log entry it corresponds to, in its footer on every page."""

from __future__ import annotations

from typing import Any

from canvass.web.render import templates


def pdf(template: str, data: dict[str, Any], identity: str) -> bytes:
    """Render ``template`` (under ``templates/pdf``) to PDF; ``identity`` (the SHA-256 and
    log entry) is printed at the foot of every page."""
    from weasyprint import HTML  # imported here: it takes a second to load

    html = templates.get_template(f"pdf/{template}").render(**data, identity=identity)
    document: bytes = HTML(string=html).write_pdf()
    return document
