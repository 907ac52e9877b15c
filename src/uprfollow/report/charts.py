"""Vector SVG bar charts drawn from the same `Summary` objects as the digest's tables.

The SVG is written by hand (no plotting library): a few rectangles and text lines,
deterministic to the byte, with a <title> the PDF/UA tagger uses as the figure's
alternative text. Every string is XML-escaped.
"""

from __future__ import annotations

from collections.abc import Callable
from xml.sax.saxutils import escape, quoteattr

from markupsafe import Markup

from ..iri import ALL_LEVELS, Summary

COLOURS = {  # colour-blind safe, and readable in greyscale from dark to light
    "fully": "#1b6e5a",
    "partially": "#6fb7a3",
    "not": "#c2562f",
    "no_data": "#9e9e9e",
    "not_assessed": "#e4e4e4",
}
TEXT_ON = {"fully": "#ffffff", "partially": "#10241f", "not": "#ffffff", "no_data": "#111111", "not_assessed": "#333333"}
FONT = "DejaVu Sans Condensed, DejaVu Sans, sans-serif"


def _fmt(v: float) -> str:
    return f"{v:.1f}".rstrip("0").rstrip(".")


def _svg(width: float, height: float, title: str, body: list[str]) -> Markup:
    head = (
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" viewBox="0 0 {_fmt(width)} {_fmt(height)}" '
        f'width="{_fmt(width)}" height="{_fmt(height)}" role="img" font-family={quoteattr(FONT)} font-size="11">'
        f"<title>{escape(title)}</title>"
    )
    return Markup(head + "".join(body) + "</svg>")


def level_bars(summary: Summary, label: Callable[[str], str], value: Callable[[int, float], str], title: str) -> Markup:
    """One horizontal bar per level (fully ... not assessed), length proportional to the count."""
    width, left, right, row, bar = 640.0, 170.0, 110.0, 30.0, 20.0
    span = width - left - right
    top = 6.0
    most = max([summary.counts[lv] for lv in ALL_LEVELS] + [1])
    body = [f'<line x1="{_fmt(left)}" y1="{_fmt(top - 4)}" x2="{_fmt(left)}" y2="{_fmt(top + row * len(ALL_LEVELS))}" stroke="#555" />']
    for i, lv in enumerate(ALL_LEVELS):
        n = summary.counts[lv]
        y = top + i * row
        w = span * n / most
        body.append(f'<text x="{_fmt(left - 8)}" y="{_fmt(y + bar * 0.72)}" text-anchor="end" fill="#222">{escape(label(lv))}</text>')
        stroke = ' stroke="#999" stroke-width="0.8"' if lv == "not_assessed" else ""
        body.append(f'<rect x="{_fmt(left)}" y="{_fmt(y)}" width="{_fmt(max(w, 0.5 if n else 0))}" height="{_fmt(bar)}" '
                    f'fill="{COLOURS[lv]}"{stroke} />')
        body.append(f'<text x="{_fmt(left + w + 6)}" y="{_fmt(y + bar * 0.72)}" fill="#222">{escape(value(n, summary.share(lv)))}</text>')
    return _svg(width, top + row * len(ALL_LEVELS) + 2, title, body)


def stacked_bars(rows: list[tuple[str, Summary]], label: Callable[[str], str], number: Callable[[int], str], title: str) -> Markup:
    """One 100% bar per row (a response, an action category), split by level, with a legend."""
    width, left, right, row, bar = 640.0, 150.0, 44.0, 26.0, 18.0
    span = width - left - right
    body: list[str] = []
    # legend: a swatch and a word per level, left to right, wrapping to a new line when the words are long
    x, y = left, 2.0
    for lv in ALL_LEVELS:
        text = label(lv)
        w = 14 + 5.4 * len(text) + 12
        if x + w > width and x > left:
            x, y = left, y + 14
        stroke = ' stroke="#999" stroke-width="0.8"' if lv == "not_assessed" else ""
        body.append(f'<rect x="{_fmt(x)}" y="{_fmt(y)}" width="10" height="10" fill="{COLOURS[lv]}"{stroke} />')
        body.append(f'<text x="{_fmt(x + 14)}" y="{_fmt(y + 9)}" font-size="9.5" fill="#222">{escape(text)}</text>')
        x += w
    legend_h = y + 20
    for i, (name, s) in enumerate(rows):
        y = legend_h + i * row
        body.append(f'<text x="{_fmt(left - 8)}" y="{_fmt(y + bar * 0.72)}" text-anchor="end" fill="#222">{escape(name)}</text>')
        x = left
        for lv in ALL_LEVELS:
            n = s.counts[lv]
            if not n:
                continue
            w = span * n / s.total
            stroke = ' stroke="#999" stroke-width="0.8"' if lv == "not_assessed" else ""
            body.append(f'<rect x="{_fmt(x)}" y="{_fmt(y)}" width="{_fmt(w)}" height="{_fmt(bar)}" fill="{COLOURS[lv]}"{stroke} />')
            text = number(n)
            if w >= 7 * len(text) + 4:
                body.append(f'<text x="{_fmt(x + w / 2)}" y="{_fmt(y + bar * 0.72)}" text-anchor="middle" font-size="10" '
                            f'fill="{TEXT_ON[lv]}">{escape(text)}</text>')
            x += w
        body.append(f'<text x="{_fmt(left + span + 6)}" y="{_fmt(y + bar * 0.72)}" fill="#222">{escape(number(s.total))}</text>')
    return _svg(width, legend_h + row * len(rows) + 2, title, body)
