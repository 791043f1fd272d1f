"""Compare page, first section: the runs table with its filters and sort, whose ticked rows
become the plotted runs.
"""
from __future__ import annotations

import pandas as pd
import streamlit as st

from core.evidence.curves import HELD_OUT, TRAIN, split_metric
from core.runs.listing import filter_runs

SELECTED = "compare_selected"        # session_state: run ids whose curves are drawn
TABLE = "compare_table"              # the runs table's selection state
TABLE_IDS = "_compare_table_ids"     # run ids in the order the table shows them
SETTINGS_SHOWN = ["run", "state", "model", "part", "cell", "layers", "units", "dropout_layers",
                  "window", "batch_size", "learning_rate", "epochs", "epochs_done", "params"]
FILTERS = [("model", "Model"), ("part", "Part"), ("cell", "Cell"), ("state", "State"),
           ("sweep", "Sweep")]
METRIC_ORDER = {"loss": 0, "accuracy": 1, "pitch": 2, "duration": 3}


def _metric_title(column: str) -> str:
    """'final_val_pitch_accuracy' -> 'final held-out pitch accuracy'."""
    when, _, rest = column.partition("_")
    split, metric = split_metric(rest)
    held = "held-out " if split == HELD_OUT else ""
    return f"{when} {held}{metric.replace('_', ' ')}"


def _metric_rank(column: str) -> tuple:
    """Loss, accuracy, then the Model 2 heads; final before best; training before held-out."""
    when, _, rest = column.partition("_")
    split, metric = split_metric(rest)
    return (METRIC_ORDER.get(metric.split("_")[0], 9), metric, when != "final", split == TRAIN)


def table_frame(runs: pd.DataFrame, labels: dict[str, str]) -> pd.DataFrame:
    """The runs table as shown: settings, state, final and best train/held-out metrics."""
    frame = runs.copy()
    frame["run"] = frame["run_id"].map(labels)
    metrics = sorted((c for c in frame.columns if c.startswith(("final_", "best_"))),
                     key=_metric_rank)
    shown = [c for c in SETTINGS_SHOWN if c in frame] + metrics
    extra = [c for c in ("seconds", "created", "sweep", "error", "run_id") if c in frame]
    return frame[shown + extra].rename(columns={c: _metric_title(c) for c in metrics})


def _column_config(frame: pd.DataFrame) -> dict:
    config = {
        "run": st.column_config.TextColumn("run", width="medium", pinned=True),
        "learning_rate": st.column_config.NumberColumn("lr", format="%g"),
        "seconds": st.column_config.NumberColumn("train s", format="%.1f"),
        "params": st.column_config.NumberColumn("params", format="%d"),
        "run_id": st.column_config.TextColumn("run id"),
    }
    for column in frame.columns:
        if column.startswith(("final ", "best ")):
            config[column] = st.column_config.NumberColumn(column, format="%.3f")
    return config


def _on_table_select() -> None:
    """Rows picked in the table become the plotted runs."""
    state = st.session_state.get(TABLE)
    ids = st.session_state.get(TABLE_IDS, [])
    rows = getattr(getattr(state, "selection", None), "rows", None)
    if rows is None and isinstance(state, dict):
        rows = state.get("selection", {}).get("rows", [])
    st.session_state[SELECTED] = [ids[i] for i in rows or [] if i < len(ids)]


def runs_picker(runs: pd.DataFrame, labels: dict[str, str]) -> pd.DataFrame:
    """Filters, sort and the table; returns the filtered runs."""
    cols = st.columns([1, 1.4, 1, 1.8, 1.8, 1.6, 0.8])
    choices = {}
    for col, (column, title) in zip(cols[:5], FILTERS):
        options = sorted((v for v in runs[column].dropna().unique().tolist() if v != ""),
                         key=str) if column in runs else []
        choices[column] = col.multiselect(title, options, key=f"compare_filter_{column}",
                                          placeholder="all")
    shown = table_frame(runs, labels)
    sortable = [c for c in shown.columns if c not in ("error", "run_id")]
    default_sort = sortable.index("created") if "created" in sortable else 0
    sort_by = cols[5].selectbox("Sort by", sortable, index=default_sort, key="compare_sort")
    descending = cols[6].toggle("Desc.", value=True, key="compare_desc")
    filtered = filter_runs(runs, **choices)
    keys = [sort_by] + (["run_id"] if sort_by != "run_id" else [])
    shown = shown.loc[filtered.index].sort_values(keys, ascending=not descending,
                                                  na_position="last", kind="stable")
    st.session_state[TABLE_IDS] = shown["run_id"].tolist()
    broken = int((filtered["state"] == "broken").sum()) if "state" in filtered else 0
    st.caption(f"{len(shown)} of {len(runs)} runs"
               + (f" ({broken} broken: see the error column)" if broken else "")
               + ". Tick rows to plot them, or pick runs below.")
    st.dataframe(shown, hide_index=True, column_config=_column_config(shown),
                 on_select=_on_table_select, selection_mode="multi-row", key=TABLE,
                 height=min(38 + 35 * max(len(shown), 1), 420), width="stretch")
    return filtered
