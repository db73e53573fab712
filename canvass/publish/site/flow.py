"""The flow of a ranked-choice count, round by round, as SVG written at publish time.

Each round is a bar across the chart, one segment per candidate still counted and one
for the ballots no longer counting; between two rounds, bands show where each
candidate's votes went: kept, or transferred to others when the candidate was eliminated
or elected with a surplus. The chart is drawn from the published rounds
(``results/ranked-choice.json``, one pass of :func:`canvass.tabulate.render.rounds_json`),
so it shows exactly what the round table shows.

The bars and bands are drawn in a 1000-unit-wide box stretched to the chart's width, the
words in pixels beside them, so the chart fits a phone without shrinking its text.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

from markupsafe import Markup, escape

from canvass.publish.site.svg import INACTIVE, colour, count, frame, num, percent

WIDE = Decimal(1000)
LABEL = 22
"""Height of a round's label line, in pixels."""
BAR = 22
GAP = 56
"""Height of the bands between two rounds."""
LEGEND_ROW = 22
OUT = "inactive"
"""The segment of ballots no longer counting (exhausted, overvoted, skipped rankings)."""


def _round_values(r: Mapping[str, Any]) -> dict[str, Decimal]:
    values = {c: Decimal(v) for c, v in r["tally"].items()}
    values[OUT] = sum((Decimal(v) for v in r["inactive"].values()), Decimal(0))
    return values


Flow = tuple[str, str, Decimal]


def _flows(r: Mapping[str, Any], now: dict[str, Decimal], then: dict[str, Decimal]) -> list[Flow]:
    """(source, target, votes) from one round to the next, sources in segment order, each
    source's kept votes first."""
    flows: list[Flow] = []
    for source, votes in now.items():
        moved = r["transfers"].get(source, {}) if source != OUT else {}
        out = {(t if t in then and t != OUT else OUT): Decimal(v) for t, v in moved.items()}
        kept = votes - sum(out.values(), Decimal(0))
        if source in then and kept > 0:
            flows.append((source, source, kept))
        flows += [(source, t, v) for t, v in out.items() if v > 0]
    return flows


def flow_chart(
    ident: str, title: str, count_pass: Mapping[str, Any], labels: Mapping[str, str]
) -> Markup:
    """The chart of one pass of a ranked-choice count; ``labels`` names the candidates."""
    rounds: Sequence[Mapping[str, Any]] = count_pass["rounds"]
    values = [_round_values(r) for r in rounds]
    order = list(values[0]) if values else []
    for v in values[1:]:
        order += [c for c in v if c not in order]
    order = [c for c in order if c != OUT] + [OUT]
    colours = {c: colour(i) for i, c in enumerate(c for c in order if c != OUT)} | {OUT: INACTIVE}

    def name(c: str) -> str:
        return "No longer counting" if c == OUT else labels.get(c, c)

    scale = max((sum(v.values(), Decimal(0)) for v in values), default=Decimal(0))
    unit = WIDE / scale if scale else Decimal(0)
    row = LABEL + BAR + GAP
    height = len(rounds) * row - GAP
    shapes: list[str] = []
    words: list[str] = []
    said: list[str] = []
    starts: list[dict[str, Decimal]] = []
    for i, (r, v) in enumerate(zip(rounds, values, strict=True)):
        top = i * row + LABEL
        x = Decimal(0)
        starts.append({})
        counted = sum((v[c] for c in v if c != OUT), Decimal(0))
        for c in order:
            if c not in v:
                continue
            starts[i][c] = x
            w = v[c] * unit
            tip = f"Round {r['round']} — {name(c)}: {count(v[c])}"
            if c != OUT:
                tip += f" ({percent(v[c], counted)})"
            shapes.append(
                f'<rect x="{num(x)}" y="{top}" width="{num(w)}" height="{BAR}" '
                f'fill="{colours[c]}"><title>{escape(tip)}</title></rect>'
            )
            x += w
        events = [f"{name(c)} elected" for c in r["elected"]]
        events += [f"{name(c)} eliminated" for c in r["eliminated"]]
        words.append(
            f'<text x="0" y="{top - 6}" stroke="#ffffff" stroke-width="4" '
            f'paint-order="stroke">Round {r["round"]}'
            f"{escape(': ' + ', '.join(events)) if events else ''}</text>"
        )
        tallies = ", ".join(
            f"{name(c)} {count(v[c])} ({percent(v[c], counted)})"
            for c in order
            if c in v and c != OUT
        )
        said.append(f"Round {r['round']}: {tallies}; {count(v[OUT])} no longer counting.")
        if events:
            said.append(" ".join(e + "." for e in events))
        if i + 1 < len(rounds):
            moved = [
                f"{count(n)} from {name(s)} to {name(t)}"
                for s, t, n in _flows(r, v, values[i + 1])
                if s != t
            ]
            if moved:
                said.append("Transferred: " + "; ".join(moved) + ".")
    for i in range(len(rounds) - 1):
        flows = _flows(rounds[i], values[i], values[i + 1])
        leave = dict(starts[i])
        arrive = dict(starts[i + 1])
        # Arrivals: each target's own kept votes first, then transfers in source order.
        for s, t, n in sorted(flows, key=lambda f: f[0] != f[1]):
            w = n * unit
            x0, x1 = leave[s], arrive[t]
            leave[s] += w
            arrive[t] += w
            y0 = i * row + LABEL + BAR
            y1 = y0 + GAP + LABEL
            mid = Decimal(y0 + y1) / 2
            shapes.append(
                f'<path d="M{num(x0)} {y0}C{num(x0)} {num(mid)} {num(x1)} {num(mid)} {num(x1)} {y1}'
                f"H{num(x1 + w)}C{num(x1 + w)} {num(mid)} {num(x0 + w)} {num(mid)} "
                f'{num(x0 + w)} {y0}Z" fill="{colours[s]}" fill-opacity="0.4"/>'
            )
    legend = []
    for k, c in enumerate(order):
        y = height + 16 + k * LEGEND_ROW
        legend.append(
            f'<rect x="0" y="{y}" width="14" height="14" fill="{colours[c]}"/>'
            f'<text x="22" y="{y + 12}">{escape(name(c))}</text>'
        )
    body = (
        f'<svg x="0" y="0" width="100%" height="{height}" viewBox="0 0 {WIDE} {height}" '
        f'preserveAspectRatio="none">{"".join(shapes)}</svg>{"".join(words)}{"".join(legend)}'
    )
    total = height + 16 + len(order) * LEGEND_ROW
    winners = ", ".join(name(c) for c in count_pass.get("winners", []))
    description = " ".join(said) + (f" Elected: {winners}." if winners else "")
    return frame(ident, title, description, body, width="100%", height=str(total))
