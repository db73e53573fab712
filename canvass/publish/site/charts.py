"""Bar charts of a contest's results, as SVG written at publish time.

Bars are laid out in percentages of the chart's width and text in pixels, so one chart
reads as well on a 390 px phone as on a desktop, with no script and no scaling of the
text. The numbers are also in the page's table; the chart's description says them all.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from markupsafe import Markup, escape

from canvass.publish.site.svg import count, fraction, frame, num, percent

ROW = 46
"""Height of one bar's row, in pixels: its label line and its bar."""
BAR = 16
FILL = "#4a77b4"
MARKED = "#1a4480"
BAR_SPAN = Decimal(62)
"""The widest bar, in percent of the chart: the rest holds the count and percentage."""


@dataclass(frozen=True)
class Bar:
    label: str
    votes: int | Decimal
    marked: str = ""
    """What marks this bar out, in words (``elected``, ``leading``), or nothing."""


def bar_chart(ident: str, title: str, bars: Sequence[Bar], total: int | Decimal) -> Markup:
    """Horizontal bars, one per choice, each the share of ``total`` (the votes counted in
    the contest); the largest bar spans :data:`BAR_SPAN` percent."""
    widest = max((Decimal(b.votes) for b in bars), default=Decimal(0))
    rows = []
    said = []
    for i, b in enumerate(bars):
        y = i * ROW
        share = percent(b.votes, total)
        width = fraction(b.votes, widest) * BAR_SPAN if widest else Decimal(0)
        mark = f" — {b.marked}" if b.marked else ""
        weight = ' font-weight="bold"' if b.marked else ""
        rows.append(
            f'<text x="0" y="{y + 15}"{weight}>{escape(b.label)}{escape(mark)}</text>'
            f'<rect x="0" y="{y + 22}" width="{num(width)}%" height="{BAR}" '
            f'fill="{MARKED if b.marked else FILL}"/>'
            f'<text x="100%" y="{y + 35}" text-anchor="end">'
            f"{count(b.votes)} · {share}</text>"
        )
        said.append(f"{b.label}{mark}: {count(b.votes)} votes, {share}")
    description = "; ".join(said) + "." if said else "No votes."
    return frame(
        ident,
        title,
        description,
        "".join(rows),
        width="100%",
        height=str(max(len(bars), 1) * ROW),
    )
