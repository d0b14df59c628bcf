"""The report page: one self-contained HTML file that assembles figures and tables.

Nothing is loaded from elsewhere (no scripts, fonts, stylesheets or images outside the file):
figures are inlined SVG, the style sheet is inline, so the page renders offline and can be
mailed as one file. Every table cell with a number carries it unformatted in ``data-value``
(money in integer cents, as the store keeps it) beside the formatted text, so tools and tests
can read the page's numbers exactly. Figures are ``<figure data-figure="NAME">`` elements.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

from paysim.report.style import money

Kind = Literal["text", "int", "money", "rate", "float", "code"]


@dataclass(frozen=True)
class Column:
    key: str
    label: str
    kind: Kind = "text"


@dataclass
class Table:
    """A table of the page; ``rows`` are ``(row key, {column key: value})``."""

    name: str
    title: str
    columns: list[Column]
    rows: list[tuple[str, dict[str, object]]] = field(default_factory=list)
    note: str = ""


@dataclass(frozen=True)
class FigureBlock:
    name: str
    title: str
    caption: str
    svg: str
    """The SVG markup (no XML declaration), inlined in the page."""


@dataclass(frozen=True)
class Text:
    """A section of preformatted text (the scenario file, a spec), folded by default."""

    name: str
    title: str
    text: str


Block = Table | FigureBlock | Text

_STYLE = """
:root { color-scheme: light; }
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; margin: 0;
       color: #1d1d1f; background: #fafafa; }
main { max-width: 1140px; margin: 0 auto; padding: 16px 20px 48px; }
h1 { font-size: 22px; margin: 8px 0 4px; }
h2 { font-size: 17px; margin: 28px 0 8px; border-bottom: 1px solid #ddd; padding-bottom: 4px; }
.sub { color: #555; margin: 0 0 12px; }
nav { font-size: 13px; margin: 8px 0 16px; }
nav b { margin-right: 6px; color: #555; font-weight: 600; }
nav a { margin-right: 12px; color: #1f5fa8; text-decoration: none; }
dl.meta { display: grid; grid-template-columns: max-content 1fr; gap: 2px 16px; margin: 0; }
dl.meta dt { color: #555; }
dl.meta dd { margin: 0; font-variant-numeric: tabular-nums; word-break: break-all; }
figure { margin: 12px 0 24px; background: #fff; border: 1px solid #e3e3e3; padding: 8px; }
figure svg { display: block; width: 100%; height: auto; }
figcaption { color: #444; font-size: 13px; margin-top: 6px; }
.tablewrap { overflow-x: auto; max-height: 640px; overflow-y: auto; background: #fff;
             border: 1px solid #e3e3e3; }
table { border-collapse: collapse; font-size: 13px; width: 100%; }
th, td { padding: 3px 7px; border-bottom: 1px solid #eee; white-space: nowrap; }
th { background: #f3f3f3; position: sticky; top: 0; text-align: left; white-space: normal;
     vertical-align: bottom; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
td.code { font-family: ui-monospace, monospace; font-size: 12px; white-space: pre-wrap; }
p.note { color: #555; font-size: 13px; margin: 4px 0 8px; }
pre { background: #fff; border: 1px solid #e3e3e3; padding: 8px; overflow-x: auto;
      font-size: 12px; }
footer { color: #777; font-size: 12px; margin-top: 32px; }
"""


def _cell(kind: Kind, value: object) -> str:
    if value is None:
        return '<td class="num" data-value="">–</td>' if kind != "text" else "<td>–</td>"
    if kind == "money" and isinstance(value, int):
        return f'<td class="num" data-value="{value}">{money(value)}</td>'
    if kind == "int" and isinstance(value, int):
        return f'<td class="num" data-value="{value}">{value:,}</td>'
    if kind == "rate" and isinstance(value, int | float):
        return f'<td class="num" data-value="{value!r}">{100.0 * value:.2f}%</td>'
    if kind == "float" and isinstance(value, int | float):
        return f'<td class="num" data-value="{value!r}">{value:.6g}</td>'
    if kind == "code":
        return f'<td class="code">{html.escape(str(value))}</td>'
    return f"<td>{html.escape(str(value))}</td>"


def render_table(table: Table) -> str:
    head = "".join(
        f'<th{" class=num" if c.kind not in ("text", "code") else ""} data-col="{c.key}">'
        f"{html.escape(c.label)}</th>"
        for c in table.columns
    )
    body = []
    for key, values in table.rows:
        cells = "".join(
            _cell(c.kind, values.get(c.key)).replace("<td", f'<td data-col="{c.key}"', 1)
            for c in table.columns
        )
        body.append(f'<tr data-key="{html.escape(key)}">{cells}</tr>')
    note = f'<p class="note">{html.escape(table.note)}</p>' if table.note else ""
    return (
        f'<section id="table-{table.name}"><h2>{html.escape(table.title)}</h2>{note}'
        f'<div class="tablewrap"><table data-table="{table.name}"><thead><tr>{head}</tr></thead>'
        f"<tbody>{''.join(body)}</tbody></table></div></section>"
    )


def render_figure(block: FigureBlock) -> str:
    return (
        f'<section id="figure-{block.name}"><h2>{html.escape(block.title)}</h2>'
        f'<figure data-figure="{block.name}">{block.svg}'
        f"<figcaption>{html.escape(block.caption)}</figcaption></figure></section>"
    )


def render_text(block: Text) -> str:
    return (
        f'<section id="text-{block.name}"><h2>{html.escape(block.title)}</h2>'
        f"<details><summary>show</summary><pre>{html.escape(block.text)}</pre></details>"
        "</section>"
    )


def _anchor(block: Block) -> tuple[str, str]:
    if isinstance(block, Table):
        return f"table-{block.name}", block.title
    if isinstance(block, FigureBlock):
        return f"figure-{block.name}", block.title
    return f"text-{block.name}", block.title


def page(
    title: str,
    subtitle: str,
    meta: Sequence[tuple[str, str]],
    blocks: Sequence[Block],
    footer: str,
) -> str:
    """The whole page."""
    groups = (("Figures", (FigureBlock,)), ("Tables", (Table,)), ("Inputs", (Text,)))
    links = "".join(
        f"<div><b>{label}:</b> "
        + "".join(
            f'<a href="#{a}">{html.escape(t)}</a>'
            for a, t in (_anchor(b) for b in blocks if isinstance(b, kinds))
        )
        + "</div>"
        for label, kinds in groups
        if any(isinstance(b, kinds) for b in blocks)
    )
    items = "".join(f"<dt>{html.escape(k)}</dt><dd>{html.escape(v)}</dd>" for k, v in meta)
    parts = []
    for block in blocks:
        if isinstance(block, Table):
            parts.append(render_table(block))
        elif isinstance(block, FigureBlock):
            parts.append(render_figure(block))
        else:
            parts.append(render_text(block))
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{html.escape(title)}</title><style>{_STYLE}</style></head><body><main>"
        f'<h1>{html.escape(title)}</h1><p class="sub">{html.escape(subtitle)}</p>'
        f'<dl class="meta" id="meta">{items}</dl><nav>{links}</nav>{"".join(parts)}'
        f"<footer>{html.escape(footer)}</footer></main></body></html>\n"
    )
