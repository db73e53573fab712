"""What every chart and map of the site shares: numbers written one way only, colours, and
the accessible frame of an SVG image (RFC-free, but WAI-ARIA: ``role="img"`` named by its
``<title>`` and described by its ``<desc>``, the full text alternative).

Everything here is a pure function of its arguments with exact arithmetic where a
number is shown, so the same results always give the same bytes and the verifier can
render them again.
"""

from __future__ import annotations

from decimal import ROUND_HALF_EVEN, Decimal

from markupsafe import Markup, escape

PALETTE = (
    "#0072b2",  # blue
    "#d55e00",  # vermilion
    "#009e73",  # bluish green
    "#cc79a7",  # reddish purple
    "#e69f00",  # orange
    "#56b4e9",  # sky blue
    "#7f6a00",  # dark yellow
    "#000000",
)
"""Okabe & Ito's colours, told apart with every common colour-vision deficiency (Okabe
and Ito 2002, "Color Universal Design"); yellow darkened to show on white."""
INACTIVE = "#8c8c8c"
"""Ballots no longer counting in a ranked-choice round."""


def colour(index: int) -> str:
    return PALETTE[index % len(PALETTE)]


def count(n: int | Decimal | str) -> str:
    """A vote count as people read it: ``12,345``; fractional votes (surplus transfers)
    keep their decimals."""
    value = Decimal(n)
    if value == value.to_integral_value():
        return f"{int(value):,}"
    return f"{value:,}"


def percent(part: int | Decimal | str, whole: int | Decimal | str) -> str:
    """``part`` of ``whole`` to one decimal place, rounded half to even, exactly."""
    if Decimal(whole) == 0:
        return "–"
    share = (Decimal(part) * 100 / Decimal(whole)).quantize(Decimal("0.1"), ROUND_HALF_EVEN)
    return f"{share}%"


def fraction(part: int | Decimal | str, whole: int | Decimal | str) -> Decimal:
    """``part / whole`` rounded to four places (a position on a chart)."""
    if Decimal(whole) == 0:
        return Decimal(0)
    return (Decimal(part) / Decimal(whole)).quantize(Decimal("0.0001"), ROUND_HALF_EVEN)


def num(x: Decimal | int | float) -> str:
    """A coordinate: at most two decimals, no trailing zeros, never ``-0``."""
    value = Decimal(str(x)).quantize(Decimal("0.01"), ROUND_HALF_EVEN).normalize()
    if value == 0:
        return "0"
    text = f"{value:f}"
    return text


def frame(
    ident: str,
    title: str,
    description: str,
    body: str,
    *,
    width: str,
    height: str | None,
    view_box: str | None = None,
    css_class: str = "chart",
) -> Markup:
    """An SVG image with its accessible name and description."""
    box = f' viewBox="{view_box}"' if view_box else ""
    tall = f' height="{height}"' if height else ""
    return Markup(
        f'<svg xmlns="http://www.w3.org/2000/svg" class="{css_class}" width="{width}"'
        f'{tall}{box} role="img" aria-labelledby="{ident}-title {ident}-desc">'
        f'<title id="{ident}-title">{escape(title)}</title>'
        f'<desc id="{ident}-desc">{escape(description)}</desc>{body}</svg>'
    )
