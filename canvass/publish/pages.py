"""The pages people read: the results, the certificates and their standing, the audits
and how to check it all. Rendered with Jinja from the same view as every other file, so
the verifier derives them again and compares them byte for byte."""

from __future__ import annotations

from collections.abc import Iterator

import jinja2

from canvass.publish.audits import audit_json
from canvass.publish.results import ranked_document, results_document
from canvass.publish.view import ElectionView

_TEMPLATES = jinja2.Environment(
    loader=jinja2.PackageLoader("canvass.publish", "templates"),
    autoescape=True,
    undefined=jinja2.StrictUndefined,
    keep_trailing_newline=True,
)


def render_pages(view: ElectionView) -> Iterator[tuple[str, bytes]]:
    results = results_document(view)
    contests = {c.id: c for c in view.definition.contests}
    page = _TEMPLATES.get_template("index.html.j2").render(
        title=view.definition.election.name,
        results=results,
        contest_names={c: contests[c].name for c in results["contests"] if c in contests},
        ranked=ranked_document(view),
        certificates=view.certificates,
        ascertainments=view.ascertainments,
        audits=[audit_json(a) for a in view.audits],
        names=view.names,
        log_size=view.log_size,
        root=view.root.hex(),
        as_of=view.as_of,
    )
    yield "index.html", page.encode()
