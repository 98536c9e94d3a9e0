"""Server-side SVG charts: no JavaScript, no library, nothing fetched from elsewhere.

Each function returns a complete ``<svg>`` element (safe HTML) with a ``<title>`` and
``<desc>`` for screen readers, a ``data-testid`` of ``chart-<name>``, a ``<title>`` tooltip on
every bar, and links where a bar has a page behind it. Colours come from CSS classes in
``static/css/dashboard.css`` (series ``s0``…``s7``, and ``in``/``out``/``seen``/``none`` for
consent), so the charts follow the site's palette.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date

from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe

SERIES = 8  # s0 … s7 in the CSS


@dataclass
class Bar:
    label: str
    value: float
    url: str = ""
    title: str = ""  # tooltip; defaults to "label: value"
    css: str = "s0"
    text: str = ""  # the value as printed next to the bar; defaults to the value


@dataclass
class Group:
    """One row of a grouped horizontal bar chart (e.g. one source: records and parties)."""

    label: str
    bars: list[Bar] = field(default_factory=list)
    url: str = ""


@dataclass
class Series:
    name: str
    values: list[float]
    css: str = "s0"
    kind: str = "column"  # column (stacked) or line


def _html(template: str, *args) -> SafeString:
    """``format_html`` with coordinates: it escapes its arguments into strings before
    formatting, so floats are rounded to one decimal here first."""
    values = [f"{a:.1f}" if isinstance(a, float) else a for a in args]
    return format_html(template.replace("{:.1f}", "{}"), *values)


def _n(value: float) -> str:
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.1f}"


def _svg(name: str, width: int, height: int, title: str, desc: str, body: list[str]) -> SafeString:
    head = _html(
        '<svg class="dq-chart" data-testid="chart-{}" viewBox="0 0 {} {}" width="{}" height="{}" '
        'role="{}" aria-labelledby="chart-{}-title chart-{}-desc" preserveAspectRatio="xMinYMin meet">'
        '<title id="chart-{}-title">{}</title><desc id="chart-{}-desc">{}</desc>',
        # an image's parts are not reachable: a chart whose bars are links is a figure
        name,
        width,
        height,
        width,
        height,
        "figure" if any("<a " in part for part in body) else "img",
        name,
        name,
        name,
        title,
        name,
        desc,
    )
    return mark_safe(head + "".join(body) + "</svg>")  # noqa: S308 (every part is escaped)


def _link(url: str, inner: str, label: str = "") -> str:
    if not url:
        return inner
    # the link's name is its <title> (its tooltip too), not an aria-label that would hide the
    # visible value from speech-input users (axe: label-content-name-mismatch)
    title = _html("<title>{}</title>", label) if label else ""
    return _html('<a href="{}">', url) + title + inner + "</a>"


def _nice_max(value: float) -> float:
    """A round axis maximum at or above ``value`` (1, 2, 2.5, 5 × a power of ten)."""
    if value <= 0:
        return 1
    magnitude = 10 ** (len(str(int(value))) - 1)
    for step in (1, 2, 2.5, 5, 10):
        if step * magnitude >= value:
            return step * magnitude
    return 10 * magnitude


def hbar_chart(
    name: str,
    title: str,
    groups: Sequence[Group],
    *,
    width: int = 560,
    label_width: int = 170,
    bar_height: int = 14,
    max_value: float | None = None,
    percent: bool = False,
    label_above: bool = False,
) -> SafeString:
    """Horizontal bars, one or more per group, each with its value printed at its end. Long
    labels (``label_above``) go on a line of their own above their bars."""
    gap, group_gap, top, above = 3, 12, 6, (16 if label_above else 0)
    if label_above:
        label_width = 0
    rows = sum(max(1, len(g.bars)) for g in groups)
    height = top + rows * (bar_height + gap) + len(groups) * (group_gap + above) + 4
    top_value = max_value or _nice_max(max((b.value for g in groups for b in g.bars), default=0))
    plot = width - label_width - 70
    body, y = [], top
    for group in groups:
        block = len(group.bars) * (bar_height + gap) - gap
        if label_above:
            body.append(
                _link(
                    group.url,
                    _html('<text class="dq-label" x="0" y="{}">{}</text>', y + 11, group.label),
                    group.label,
                )
            )
            y += above
        else:
            label = group.label if len(group.label) <= 30 else group.label[:29] + "…"
            body.append(
                _link(
                    group.url,
                    _html(
                        '<text class="dq-label" x="{}" y="{}" text-anchor="end" dominant-baseline="middle">'
                        "<title>{}</title>{}</text>",
                        label_width - 8,
                        y + block / 2,
                        group.label,
                        label,
                    ),
                    group.label,
                )
            )
        for bar in group.bars:
            w = 0 if top_value <= 0 else max(0.0, min(1.0, bar.value / top_value)) * plot
            text = bar.text or (f"{bar.value:.0f}%" if percent else _n(bar.value))
            tip = bar.title or f"{group.label} · {bar.label}: {text}"
            inner = _html(
                '<g class="dq-bar {}"><title>{}</title>'
                '<rect class="dq-track" x="{}" y="{}" width="{}" height="{}" rx="2"></rect>'
                '<rect x="{}" y="{}" width="{:.1f}" height="{}" rx="2"></rect>'
                '<text class="dq-value" x="{:.1f}" y="{}" dominant-baseline="middle">{}</text></g>',
                bar.css,
                tip,
                label_width,
                y,
                plot,
                bar_height,
                label_width,
                y,
                max(w, 1.5),
                bar_height,
                label_width + w + 5,
                y + bar_height / 2 + 0.5,
                text,
            )
            body.append(_link(bar.url, inner, tip))
            y += bar_height + gap
        if not group.bars:
            y += bar_height + gap
        y += group_gap
    return _svg(
        name,
        width,
        height,
        title,
        "; ".join(
            f"{g.label}: " + ", ".join(f"{b.label} {b.text or _n(b.value)}" for b in g.bars) for g in groups
        ),
        body,
    )


def column_chart(
    name: str,
    title: str,
    days: Sequence[date],
    series: Sequence[Series],
    *,
    width: int = 620,
    height: int = 210,
    urls: Sequence[str] = (),
) -> SafeString:
    """Columns per day (the ``column`` series stacked) and ``line`` series over them, with a
    y axis of round ticks and a date under every few columns."""
    left, right, top, bottom = 40, 10, 10, 34
    plot_w, plot_h = width - left - right, height - top - bottom
    columns = [s for s in series if s.kind == "column"]
    lines = [s for s in series if s.kind == "line"]
    stacks = [sum(s.values[i] for s in columns) for i in range(len(days))]
    peak = max(stacks + [v for s in lines for v in s.values] + [0])
    top_value = _nice_max(peak) if peak > 0 else 4
    slot = plot_w / max(1, len(days))
    bar_w = max(2.0, slot * 0.68)

    def y_of(value: float) -> float:
        return top + plot_h - value / top_value * plot_h

    body = []
    for i in range(5):  # grid lines and y ticks
        value = top_value * i / 4
        y = y_of(value)
        body.append(
            _html(
                '<line class="dq-grid" x1="{}" x2="{}" y1="{:.1f}" y2="{:.1f}"></line>'
                '<text class="dq-tick" x="{}" y="{:.1f}" text-anchor="end" '
                'dominant-baseline="middle">{}</text>',
                left,
                width - right,
                y,
                y,
                left - 6,
                y,
                _n(value),
            )
        )
    every = max(1, round(len(days) / 8))
    for i, day in enumerate(days):
        x = left + i * slot + (slot - bar_w) / 2
        base = top + plot_h
        parts = []
        for s in columns:
            value = s.values[i]
            if value <= 0:
                continue
            h = value / top_value * plot_h
            base -= h
            parts.append(
                _html(
                    '<rect class="{}" x="{:.1f}" y="{:.1f}" width="{:.1f}" height="{:.1f}">'
                    "<title>{}</title></rect>",
                    s.css,
                    x,
                    base,
                    bar_w,
                    h,
                    f"{day:%a %d %b}: {_n(value)} {s.name.lower()}",
                )
            )
        if parts:
            group = _html('<g class="dq-stack">{}</g>', mark_safe("".join(parts)))  # noqa: S308
            body.append(_link(urls[i] if i < len(urls) else "", group, f"{day:%d %b}"))
        if (len(days) - 1 - i) % every == 0:
            body.append(
                _html(
                    '<text class="dq-tick" x="{:.1f}" y="{}" text-anchor="middle">{}</text>',
                    x + bar_w / 2,
                    height - bottom + 14,
                    f"{day:%d %b}",
                )
            )
    for s in lines:
        points = " ".join(f"{left + i * slot + slot / 2:.1f},{y_of(v):.1f}" for i, v in enumerate(s.values))
        body.append(_html('<polyline class="dq-line {}" points="{}"></polyline>', s.css, points))
        for i, v in enumerate(s.values):
            if v > 0:
                tip = f"{days[i]:%a %d %b}: {_n(v)} {s.name.lower()}"
                body.append(
                    _html(
                        '<circle class="dq-dot {}" cx="{:.1f}" cy="{:.1f}" r="2.6">'
                        "<title>{}</title></circle>",
                        s.css,
                        left + i * slot + slot / 2,
                        y_of(v),
                        tip,
                    )
                )
    body.append(
        _html(
            '<line class="dq-axis" x1="{}" x2="{}" y1="{}" y2="{}"></line>',
            left,
            width - right,
            top + plot_h,
            top + plot_h,
        )
    )
    totals = ", ".join(f"{s.name} {_n(sum(s.values))}" for s in series)
    desc = f"{days[0]:%d %b %Y} to {days[-1]:%d %b %Y}: {totals}" if days else "No days"
    return _svg(name, width, height, title, desc, body)


@dataclass
class Cell:
    """One channel × purpose of the consent matrix."""

    opt_in: int
    opt_out: int
    seen: int
    not_seen: int
    url: str = ""

    @property
    def total(self) -> int:
        return self.opt_in + self.opt_out + self.seen + self.not_seen

    def pct(self, value: int) -> float:
        return 100 * value / self.total if self.total else 0


CONSENT_PARTS = (
    ("opt_in", "in", "opted in"),
    ("opt_out", "out", "opted out"),
    ("seen", "seen", "seen, no answer"),
    ("not_seen", "none", "not seen"),
)


def consent_matrix(
    name: str,
    title: str,
    columns: Sequence[str],
    rows: Sequence[tuple[str, list[Cell]]],
    *,
    cell_width: int = 150,
    label_width: int = 170,
) -> SafeString:
    """A matrix of 100 % stacked bars: one row per purpose, one column per channel, each cell
    split into opted in / opted out / seen / not seen, the opt-in rate printed under it."""
    row_h, head_h, bar_h = 40, 22, 14
    width = label_width + cell_width * len(columns)
    height = head_h + row_h * len(rows) + 2
    body = [
        _html(
            '<text class="dq-colhead" x="{}" y="14" text-anchor="middle">{}</text>',
            label_width + i * cell_width + (cell_width - 12) / 2,
            column,
        )
        for i, column in enumerate(columns)
    ]
    desc = []
    for r, (label, cells) in enumerate(rows):
        y = head_h + r * row_h
        body.append(
            _html(
                '<text class="dq-label" x="{}" y="{}" text-anchor="end" dominant-baseline="middle">{}</text>',
                label_width - 10,
                y + bar_h / 2 + 1,
                label,
            )
        )
        for c, cell in enumerate(cells):
            x, inner_w = label_width + c * cell_width, cell_width - 12
            parts, offset = [], 0.0
            for attr, css, _ in CONSENT_PARTS:
                value = getattr(cell, attr)
                w = inner_w * value / cell.total if cell.total else 0
                if w > 0:
                    parts.append(
                        _html(
                            '<rect class="dq-consent {}" x="{:.1f}" y="{}" '
                            'width="{:.1f}" height="{}"></rect>',
                            css,
                            x + offset,
                            y,
                            w,
                            bar_h,
                        )
                    )
                offset += w
            tip = f"{label} by {columns[c]}: " + ", ".join(
                f"{cell.pct(getattr(cell, attr)):.0f}% {words} ({getattr(cell, attr):,})"
                for attr, _, words in CONSENT_PARTS
            )
            desc.append(tip)
            inner = _html(
                '<g class="dq-cell"><title>{}</title><rect class="dq-track" x="{}" y="{}" width="{}" '
                'height="{}" rx="2"></rect>{}<text class="dq-value" x="{}" y="{}">{}</text></g>',
                tip,
                x,
                y,
                inner_w,
                bar_h,
                mark_safe("".join(parts)),  # noqa: S308
                x,
                y + bar_h + 12,
                f"{cell.pct(cell.opt_in):.0f}% in · {cell.pct(cell.opt_out):.0f}% out",
            )
            body.append(_link(cell.url, inner, tip))
    return _svg(name, width, height, title, "; ".join(desc), body)
