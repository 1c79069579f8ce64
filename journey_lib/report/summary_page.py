"""``summary.html``: a run's summary as one self-contained page.

Figures are inline PNGs and the style is in the page, so it opens from a mail attachment or
a file share with nothing to fetch; print CSS keeps each figure and card whole on paper.
Every number on it is written by :mod:`journey_lib.report.formatting`.
"""

from __future__ import annotations

import datetime as dt
import html
from collections.abc import Sequence
from typing import Any
from urllib.parse import quote

import numpy as np
import pandas as pd

from .formatting import change_text, figure_text, period_label
from .summary import CHANGES_ALERT, RISK_FIGURES, Summary

__all__ = ["STYLE", "summary_html", "summary_sections"]

esc = html.escape

#: The page's style, shared with ``index.html``.
STYLE = """
:root { --ink: #1f2328; --muted: #59636e; --line: #d1d9e0; --alert: #cf222e;
        --good: #1a7f37; --card: #f6f8fa; }
* { box-sizing: border-box; }
body { font-family: system-ui, -apple-system, "Segoe UI", "DejaVu Sans", sans-serif;
       color: var(--ink); margin: 0 auto; padding: 1.5rem; max-width: 70rem; line-height: 1.4; }
h1 { font-size: 1.6rem; margin: 0 0 0.2rem; }
h2 { font-size: 1.2rem; margin: 1.8rem 0 0.6rem; border-bottom: 1px solid var(--line);
     padding-bottom: 0.2rem; }
.sub, .muted { color: var(--muted); }
a { color: #0969da; }
.cards { display: grid; grid-template-columns: repeat(auto-fill, minmax(15rem, 1fr));
         gap: 0.7rem; }
.card { background: var(--card); border: 1px solid var(--line); border-radius: 6px;
        padding: 0.6rem 0.8rem; break-inside: avoid; }
.card.alert { border: 2px solid var(--alert); }
.card .label { font-weight: 600; }
.card .value { font-size: 1.7rem; font-weight: 700; margin: 0.1rem 0; }
.card .change { font-size: 0.95rem; }
.card .noise { font-size: 0.85rem; color: var(--muted); }
.alerts { border: 2px solid var(--alert); border-radius: 6px; padding: 0.4rem 1rem;
          margin: 1rem 0; }
.alerts h2 { border: none; color: var(--alert); margin: 0.4rem 0; }
.panels { display: grid; grid-template-columns: repeat(auto-fit, minmax(28rem, 1fr));
          gap: 1rem; }
figure { margin: 0; break-inside: avoid; page-break-inside: avoid; }
figure img { width: 100%; height: auto; border: 1px solid var(--line); border-radius: 4px; }
figcaption { margin-top: 0.3rem; }
table { border-collapse: collapse; }
td, th { border: 1px solid var(--line); padding: 0.25rem 0.6rem; text-align: left;
         vertical-align: top; }
td.number, th.number { text-align: right; font-variant-numeric: tabular-nums; }
ol.actions li { margin-bottom: 0.4rem; }
dl.definitions dt { font-weight: 600; }
dl.definitions dd { margin: 0 0 0.4rem 1rem; }
svg.spark { vertical-align: middle; }
@media print {
  body { padding: 0; max-width: none; font-size: 10.5pt; }
  a { color: inherit; text-decoration: none; }
  .panels { grid-template-columns: 1fr 1fr; }
  figure, .card, table, .alerts { break-inside: avoid; page-break-inside: avoid; }
  h2 { break-after: avoid; page-break-after: avoid; }
}
"""


def summary_html(summary: Summary, *, title: str = "Customer journey summary") -> str:
    """The whole ``summary.html`` page."""
    return page(title, summary_sections(summary, title=title))


def page(title: str, body: str) -> str:
    """A self-contained page: the house style and ``body``."""
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{esc(title)}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n"
        f"{body}\n</body>\n</html>\n"
    )


def summary_sections(summary: Summary, *, title: str = "Customer journey summary") -> str:
    """The summary's sections, for ``summary.html`` and the top of ``index.html``."""
    parts = [
        f"<header><h1>{esc(title)}</h1>",
        f'<p class="sub">{esc(summary.source)} · figures per {esc(summary.period)} · '
        f"run {esc(_run_time(summary.run))}</p></header>",
        _alerts(summary),
        _what_changed(summary),
        '<section id="headline"><h2>Headline figures</h2>',
        f'<div class="cards">{"".join(_card(summary, key) for key in summary.figures.index)}</div>',
        "</section>",
    ]
    if summary.panels:
        parts.append('<section id="figures"><h2>What the figures show</h2><div class="panels">')
        parts += [_panel(panel) for panel in summary.panels]
        parts.append("</div></section>")
    parts.append('<section id="actions"><h2>What to do</h2>')
    if summary.actions:
        items = "".join(f"<li>{esc(text)}{_more(link)}</li>" for text, link in summary.actions)
        parts.append(f'<ol class="actions">{items}</ol>')
    else:
        parts.append("<p>No analysis points to an action this time.</p>")
    parts.append("</section>")
    parts.append(_history(summary))
    parts.append('<section id="about"><h2>About this data</h2><ul>')
    parts += [f"<li>{_inline_code(line)}</li>" for line in summary.about]
    parts.append('</ul><h3>Definitions</h3><dl class="definitions">')
    for label, definition, link in summary.definitions:
        parts.append(f"<dt>{esc(label)}</dt><dd>{esc(definition)}.{_more(link, 'more')}</dd>")
    parts.append("</dl></section>")
    return "\n".join(p for p in parts if p)


def _run_time(name: str, *, seconds: bool = False) -> str:
    """A run's start from its folder's name: ``5 Dec 2026 06:00 UTC`` (with the seconds,
    and a ``-2`` kept, where runs must be told apart)."""
    try:
        moment = dt.datetime.strptime(name[:15], "%Y%m%d-%H%M%S")
    except ValueError:
        return name
    clock = f"{moment:%H:%M:%S}" if seconds else f"{moment:%H:%M}"
    again = f" ({name[16:]})" if seconds and len(name) > 15 else ""
    return f"{moment.day} {moment:%b %Y} {clock} UTC{again}"


def _more(link: str | None, label: str = "why") -> str:
    return f' <a href="{esc(quote(link, safe="/#"))}">{label}</a>' if link else ""


def _at(link: str | None, k: int) -> str | None:
    return f"{link}#change-{k}" if link else None


def _inline_code(text: str) -> str:
    """Escape a line, turning `backticked` names into <code>."""
    pieces = esc(text).split("`")
    return "".join(f"<code>{s}</code>" if i % 2 else s for i, s in enumerate(pieces))


def _what_changed(summary: Summary) -> str:
    """The page's opening: the monitoring notebook's largest changes, in words, linking to
    its page; nothing when it did not run."""
    if not summary.changes:
        if not summary.changes_scanned:
            return ""
        said = "Nothing changed beyond chance in any series scanned."
        more = _more(summary.changes_link, "see")
        return f'<section id="changes"><h2>What changed</h2><p>{said}{more}</p></section>'
    # The k-th sentence is the k-th change the monitoring page draws, under its anchor.
    items = "".join(
        f"<li>{esc(change['sentence'])}{_more(_at(summary.changes_link, k), 'see it')}</li>"
        for k, change in enumerate(summary.changes, start=1)
    )
    return f'<section id="changes"><h2>What changed</h2><ul class="changes">{items}</ul></section>'


def _alerts(summary: Summary) -> str:
    if not summary.alerts:
        return ""
    items = []
    for alert in summary.alerts:
        if alert["figure"] == CHANGES_ALERT:
            items.append(f"<li><strong>A new change</strong>: {esc(alert['sentence'])}</li>")
            continue
        row = summary.figures.loc[alert["figure"]]
        unit = row["unit"]
        money = {"currency": summary.currency}
        against = (
            f"the last run ({_run_time(alert['reference_run'])})"
            if alert["reference_kind"] == "last run"
            else "the previous period"
        )
        limit = (
            f"{alert['threshold']:.0%} of it"
            if alert["relative"]
            else change_text(alert["threshold"], unit, **money).lstrip("+")
            + (" customers" if unit == "count" else "")
        )
        items.append(
            f"<li><strong>{esc(row['label'])}</strong> moved "
            f"{esc(change_text(alert['change'], unit, **money))} against {esc(against)}, "
            f"beyond the alert threshold of {esc(limit)}.</li>"
        )
    return f'<section class="alerts" id="alerts"><h2>Alerts</h2><ul>{"".join(items)}</ul></section>'


def _card(summary: Summary, key: str) -> str:
    row = summary.figures.loc[key]
    unit, money = row["unit"], {"currency": summary.currency}
    flagged = any(alert["figure"] == key for alert in summary.alerts)
    value = summary.text(key)
    if key in RISK_FIGURES:
        # Scored at the log's end (midnight after its last day): the customers active then.
        last_day = pd.Timestamp(row["period"]) - pd.Timedelta(days=1)
        when = f"active on {period_label(last_day, 'day')}" if pd.notna(row["period"]) else ""
    else:
        when = period_label(row["period"], summary.period)
    lines = [
        f'<div class="card{" alert" if flagged else ""}" id="figure-{esc(key)}">',
        f'<div class="label">{esc(row["label"])}</div>',
        f'<div class="value">{esc(value)}</div>',
        f'<div class="period muted">{esc(when)}</div>',
    ]
    if pd.isna(row["previous"]) or pd.isna(row["value"]):
        first = "the first run to record it" if key in RISK_FIGURES else "no earlier period"
        lines.append(f'<div class="change muted">{first}</div>')
    elif summary.hidden(key) or summary.hidden(key, "previous"):
        lines.append(
            f'<div class="change muted">hidden: fewer than {summary.min_cell} customers '
            "behind it</div>"
        )
    else:
        before = summary.text(key, "previous")
        against = (
            "the last run"
            if key in RISK_FIGURES
            else period_label(row["previous_period"], summary.period)
        )
        lines.append(
            f'<div class="change">{esc(change_text(row["change"], unit, **money))} '
            f"from {esc(before)} in {esc(against)}</div>"
        )
        if pd.notna(row["low"]):
            chance = "could be chance" if row["noise"] else "beyond chance"
            interval = (
                f"{change_text(row['low'], unit, **money)} to "
                f"{change_text(row['high'], unit, **money)}"
            )
            lines.append(f'<div class="noise">{chance} (95% interval {esc(interval)})</div>')
    lines.append("</div>")
    return "".join(lines)


def _panel(panel: Any) -> str:
    return (
        f'<figure><img src="data:image/png;base64,{panel.png}" alt="{esc(panel.title)}">'
        f"<figcaption><strong>{esc(panel.title)}.</strong> {esc(panel.reading)}"
        f"{_more(panel.link, 'details')}</figcaption></figure>"
    )


def _history(summary: Summary) -> str:
    runs = sorted(summary.history["run"].unique())[-_RUNS_SHOWN:]
    head = '<section id="history"><h2>Since the last run</h2>'
    if not runs:
        return (
            head + "<p>This is the first run of this data in this reports folder with a "
            "summary.</p></section>"
        )
    # What each run wrote: its number, or its "<k" where it hid the figure.
    written = {
        (entry.figure, entry.run): entry.text if isinstance(entry.text, str) else entry.value
        for entry in summary.history.itertuples()
    }
    header = "".join(f'<th class="number">{esc(_run_time(r, seconds=True))}</th>' for r in runs)
    rows = []
    for key, row in summary.figures.iterrows():
        unit = row["unit"]
        shown = [written.get((key, r), np.nan) for r in runs]
        past = [np.nan if isinstance(v, str) else v for v in shown]
        cells = "".join(
            f'<td class="number">{esc(v if isinstance(v, str) else _cell(v, unit, summary))}</td>'
            for v in shown
        )
        now = summary.text(key)
        series = [v for v in [*past, row["value"]] if pd.notna(v)]
        spark = "" if summary.min_cell and now.startswith("<") else _sparkline(series)
        rows.append(
            f'<tr><td>{esc(row["label"])}</td>{cells}<td class="number"><strong>'
            f"{esc(now)}</strong></td><td>{spark}</td></tr>"
        )
    return (
        f'{head}<table><tr><th>figure</th>{header}<th class="number">this run</th>'
        f"<th>trend</th></tr>{''.join(rows)}</table></section>"
    )


# Earlier runs shown as columns; the page stays one screen wide.
_RUNS_SHOWN = 6


def _cell(value: Any, unit: str, summary: Summary) -> str:
    return figure_text(value, unit, currency=summary.currency, min_cell=summary.min_cell)


def _sparkline(values: Sequence[float], width: int = 90, height: int = 22) -> str:
    """A small inline SVG line of ``values`` (nothing for fewer than two)."""
    if len(values) < 2:
        return ""
    v = np.asarray(values, dtype=float)
    span = v.max() - v.min() or 1.0
    xs = np.linspace(2, width - 2, len(v))
    ys = height - 2 - (v - v.min()) / span * (height - 4)
    points = " ".join(f"{x:.1f},{y:.1f}" for x, y in zip(xs, ys, strict=True))
    return (
        f'<svg class="spark" width="{width}" height="{height}" role="img" '
        f'aria-label="trend over the runs"><polyline fill="none" stroke="#0072B2" '
        f'stroke-width="1.5" points="{points}"/></svg>'
    )
