"""Compare page, first section: the runs table with its filters and sort, whose ticked rows
become the plotted runs, and the selection that survives page changes and reloads.

The table reads at 1400 px: each run's name (its label, else its id without the date),
its state and the held-out numbers a reader came for first, then its shape, size, epochs,
training time and date; the other settings and the training metrics follow further right,
the run id last. A missing value is a dash.

The table ticks the plotted runs (views.compare's "Runs to plot", kept across pages and in
the address by views.common.KEEP, as are the filters and the sort); ticking a row plots it.
"""
from __future__ import annotations

import hashlib
from typing import Any

import pandas as pd
import streamlit as st

from core.evidence.tables import metric_title
from core.runs.listing import filter_runs, local_times, run_name
from views.common import KEEP, MISSING

SELECTED = "compare_selected"        # session_state: run ids whose curves are drawn
TABLE = "compare_table"              # prefix of the runs table's key (see _table_key)
TABLE_IDS = "_compare_table_ids"     # run ids in the order the table shows them
FILTERS = [("model", "Model"), ("part", "Part"), ("cell", "Cell"), ("state", "State"),
           ("sweep", "Sweep")]
# The held-out numbers, first after the name (the best epoch of each run), under short
# headers (said in the caption and on hover) so that the name and four of them fit 1400 px.
FIRST_HEADERS = {"best_val_loss": "held-out loss", "best_val_note_accuracy": "note acc.",
                 "best_val_onset_accuracy": "onset acc.", "best_val_accuracy": "accuracy",
                 "best_val_pitch_accuracy": "pitch acc.",
                 "best_val_duration_accuracy": "duration acc."}
# Then the run's shape, size and cost, then every other setting (human headers).
SHAPE = {"cell": "cell", "units": "units", "layers": "layers", "params": "parameters",
         "part": "part", "model": "model", "epochs_shown": "epochs",
         "seconds": "training time", "created": "created"}
MORE = {"dropout_layers": "dropout layers", "window": "window", "batch_size": "batch size",
        "learning_rate": "learning rate", "objective": "objective", "seed": "seed",
        "sweep": "sweep", "note": "note", "error": "error"}
SORTABLE_DEFAULT = "created"


def table_frame(runs: pd.DataFrame) -> pd.DataFrame:
    """The runs table as shown: name, state, held-out metrics, shape and size, epochs done
    of planned, training time, date, then the other settings, the training metrics and the
    run id, each under a human header."""
    frame = runs.copy()
    frame["run"] = frame.apply(run_name, axis=1)
    absent = pd.Series(index=frame.index, dtype=float)  # a broken run's table lacks columns
    done = pd.to_numeric(frame.get("epochs_done", absent), errors="coerce")
    planned = pd.to_numeric(frame.get("epochs", absent), errors="coerce")
    frame["epochs_shown"] = [f"{int(d) if pd.notna(d) else 0}/{int(e) if pd.notna(e) else '?'}"
                             for d, e in zip(done, planned)]
    if "created" in frame:
        frame["created"] = local_times(frame["created"])
    metrics = [c for c in frame.columns if c.startswith(("final_", "best_"))
               and frame[c].notna().any()]
    first = [c for c in FIRST_HEADERS if c in metrics]
    rest = [c for c in metrics if c not in first and c != "final_learning_rate"]
    names = {"run": "run", "state": "state", **{c: _metric_header(c) for c in first},
             **SHAPE, **MORE, **{c: _metric_header(c) for c in rest}, "run_id": "run id"}
    shown = [c for c in names if c in frame]
    return frame[shown].rename(columns=names)


def _metric_header(column: str) -> str:
    """'best_val_note_accuracy' -> 'note acc.' (one of the first, held-out columns);
    'final_loss' -> 'final training loss'."""
    if column in FIRST_HEADERS:
        return FIRST_HEADERS[column]
    when, _, metric = column.partition("_")
    return f"{when} {metric_title(metric)}"


def runs_columns(frame: pd.DataFrame) -> dict:
    """st.column_config of a table_frame (the Train page's recent runs too)."""
    number = st.column_config.NumberColumn
    config: dict[str, Any] = {
        "run": st.column_config.TextColumn("run", width=330, pinned=True,
                                           help="The run's label, else its id without the "
                                                "date; the full id is the last column."),
        "state": st.column_config.TextColumn("state", width=75),
        "parameters": number("parameters", format="localized", width=85),
        "learning rate": number("learning rate", format="%g"),
        "training time": number("training time", format="%.0f s", width=85,
                                help="Seconds spent in training epochs."),
        "created": st.column_config.DatetimeColumn("created", format="YYYY-MM-DD HH:mm",
                                                   width=125),
        "epochs": st.column_config.TextColumn("epochs", width=60,
                                              help="Epochs done / planned."),
        "run id": st.column_config.TextColumn("run id", width="large"),
    }
    for column in ("cell", "units", "layers", "part", "model"):
        config[column] = st.column_config.Column(column, width=55 if column != "part"
                                                 else 95)
    for column in frame.columns:
        if column in FIRST_HEADERS.values():
            better = "lower" if column.endswith("loss") else "higher"
            config[column] = number(column, format="%.3f", width=85,
                                    help=f"Held-out {column.removeprefix('held-out ')}: the "
                                         f"run's best epoch on pieces never trained on "
                                         f"({better} is better).")
        elif column.startswith(("final ", "best ")):
            config[column] = number(column, format="%.3f")
    return config


# --------------------------------------------------------------------------- selection

def _visible_picks(ids: list[str], state: Any) -> list[str]:
    rows = getattr(getattr(state, "selection", None), "rows", None)
    if rows is None and isinstance(state, dict):
        rows = state.get("selection", {}).get("rows", [])
    return [ids[i] for i in rows or [] if i < len(ids)]


def _on_table_select(key: str) -> None:
    """Rows ticked or unticked in the table change the plotted runs; runs the filters hide
    stay plotted."""
    ids = st.session_state.get(TABLE_IDS, [])
    picked = _visible_picks(ids, st.session_state.get(key))
    kept = [r for r in st.session_state.get(SELECTED, []) if r not in ids or r in picked]
    st.session_state[SELECTED] = kept + [r for r in picked if r not in kept]


def _table_key(ids: list[str], chosen: set[str]) -> str:
    """A key per (rows shown, runs ticked among them): the table is drawn afresh, with the
    plotted runs ticked, whenever either changes elsewhere (the picker below, a restored
    selection, a filter), and its ticks never disagree with what is drawn."""
    ticked = [r for r in ids if r in chosen]
    digest = hashlib.blake2s(repr((ids, ticked)).encode(), digest_size=6).hexdigest()
    return f"{TABLE}_{digest}"


# --------------------------------------------------------------------------- the table

def runs_picker(runs: pd.DataFrame) -> pd.DataFrame:
    """Filters, sort and the table; returns the filtered runs."""
    cols = st.columns([1, 1.3, 1, 1.5, 1.5, 1.6, 1.3], vertical_alignment="bottom")
    choices = {}
    for col, (column, title) in zip(cols[:5], FILTERS):
        options = sorted((v for v in runs[column].dropna().unique().tolist() if v != ""),
                         key=str) if column in runs else []
        choices[column] = col.multiselect(title, options, key=f"compare_filter_{column}", **KEEP,
                                          placeholder="all")
    shown = table_frame(runs)
    sortable = [c for c in shown.columns if c not in ("error", "run id", "note")]
    sort_by = cols[5].selectbox("Sort by", sortable, key="compare_sort", **KEEP,
                                index=sortable.index(SORTABLE_DEFAULT)
                                if SORTABLE_DEFAULT in sortable else 0)
    descending = cols[6].toggle("Descending", value=True, key="compare_desc", **KEEP)
    filtered = filter_runs(runs, **choices)
    keys = [sort_by] + (["run id"] if sort_by != "run id" else [])
    shown = shown.loc[filtered.index].sort_values(keys, ascending=not descending,
                                                  na_position="last", kind="stable")
    ids = shown["run id"].tolist()
    st.session_state[TABLE_IDS] = ids
    chosen = set(st.session_state.get(SELECTED, []))
    broken = int((filtered["state"] == "broken").sum()) if "state" in filtered else 0
    st.caption(f"{len(shown)} of {len(runs)} runs"
               + (f" ({broken} broken: see the error column)" if broken else "")
               + ". Tick rows to plot them, or pick runs below. The four numbers after the "
                 "state are held-out: each run's best epoch on pieces never trained on.")
    key = _table_key(ids, chosen)
    st.dataframe(shown, hide_index=True, column_config=runs_columns(shown),
                 on_select=lambda: _on_table_select(key), selection_mode="multi-row",
                 key=key, placeholder=MISSING,
                 selection_default={"selection": {"rows": [i for i, r in enumerate(ids)
                                                           if r in chosen]}},
                 height=min(38 + 35 * max(len(shown), 1), 420), width="stretch")
    return filtered
