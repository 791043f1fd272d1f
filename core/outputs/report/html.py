"""The report's HTML, written by hand: every user-typed string (run labels, piece and file
names) escaped, numbers right-aligned and given their decimals, a dash where a value is
missing, and settings split into what differs between runs and what they share.
"""
from __future__ import annotations

import html
import json
from typing import Any, Callable, Mapping
from urllib.parse import quote

import numpy as np
import pandas as pd

MISSING = "–"
Formatter = Callable[[Any], str]


def esc(value: Any) -> str:
    """Text (or any value's str) safe inside an element or a quoted attribute."""
    return html.escape("" if value is None else str(value), quote=True)


def is_missing(value: Any) -> bool:
    try:
        return value is None or bool(pd.isna(value))
    except (TypeError, ValueError):  # lists and dicts
        return False


def fixed(digits: int) -> Formatter:
    """A number with `digits` decimals (the thesis prints 3), a dash when missing."""
    def format_(value: Any) -> str:
        if is_missing(value):
            return MISSING
        return f"{round(float(value), digits) + 0.0:.{digits}f}"  # + 0.0: never "-0.000"
    return format_


def plain(value: Any) -> str:
    if is_missing(value):
        return MISSING
    if isinstance(value, (bool, np.bool_)):
        return "yes" if value else "no"
    if isinstance(value, (int, np.integer)):
        return f"{int(value):,}"
    if isinstance(value, (float, np.floating)):
        return f"{float(value):.4g}"
    if isinstance(value, (dict, list)):
        return json.dumps(value, sort_keys=True)
    return str(value)


def html_table(frame: pd.DataFrame, formats: Mapping[str, Formatter] | None = None,
               table_id: str = "") -> str:
    """A plain <table>: every header and cell escaped, numbers right-aligned."""
    formats = formats or {}
    head = "".join(f"<th>{esc(c)}</th>" for c in frame.columns)
    rows = []
    for _, row in frame.iterrows():
        cells = []
        for column in frame.columns:
            value = row[column]
            number = isinstance(value, (int, float, np.number)) and not isinstance(value, bool)
            text = formats.get(column, plain)(value)
            cells.append(f'<td class="num">{esc(text)}</td>' if number
                         else f"<td>{esc(text)}</td>")
        rows.append(f"<tr>{''.join(cells)}</tr>")
    attribute = f' id="{esc(table_id)}"' if table_id else ""
    return (f"<table{attribute}><thead><tr>{head}</tr></thead>"
            f"<tbody>{''.join(rows)}</tbody></table>")


def section(anchor: str, title: str, body: str) -> str:
    return f'<section id="{esc(anchor)}"><h2>{esc(title)}</h2>{body}</section>'


def note(text: str) -> str:
    return f'<p class="note">{esc(text)}</p>'


def href(relative: str) -> str:
    """A relative link to a copied file: each path segment percent-encoded, then escaped."""
    return esc(quote(relative, safe="/"))


def split_shared(rows: Mapping[str, Mapping[str, Any]]) -> tuple[pd.DataFrame, dict[str, Any]]:
    """(one row per run of the fields whose values differ, {field: value} of the rest):
    what sets the runs apart is read at a glance, what they share is printed once."""
    fields = list(dict.fromkeys(k for row in rows.values() for k in row))

    def key(value: Any) -> str:
        return json.dumps(value, sort_keys=True, default=str)

    differing = [f for f in fields if len({key(r.get(f)) for r in rows.values()}) > 1]
    shared = {f: next(iter(rows.values())).get(f) for f in fields if f not in differing}
    table = pd.DataFrame([{"run": run, **{f: row.get(f) for f in differing}}
                          for run, row in rows.items()], columns=["run", *differing])
    return table, shared


def shared_table(shared: Mapping[str, Any]) -> str:
    return html_table(pd.DataFrame({"setting": list(shared),
                                    "value": [plain(v) for v in shared.values()]}))


def split_html(rows: Mapping[str, Mapping[str, Any]], what: str) -> str:
    differing, shared = split_shared(rows)
    parts = []
    if len(differing.columns) > 1 and len(rows) > 1:
        parts.append(f"<h4>{esc(what)} that differ</h4>{html_table(differing)}")
    if shared:
        title = f"{what} shared by every run" if len(rows) > 1 else what
        parts.append(f"<h4>{esc(title)}</h4>{shared_table(shared)}")
    return "".join(parts)


def number_formats(frame: pd.DataFrame, digits: int) -> dict[str, Formatter]:
    return {c: fixed(digits) for c in frame.columns
            if pd.api.types.is_float_dtype(frame[c])}

