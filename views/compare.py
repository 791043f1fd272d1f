"""Compare: the runs table, training curves of the chosen runs, Tables 2/3, hyperparameters.

Every number and curve is read from the runs' own files (core.runs.list_runs for the table,
each run's history.csv for the curves) through core.comparison; this page only arranges
them. Reads are cached on file modification times, so the page stays fast with hundreds of
runs and still follows a run while it trains.
"""
from __future__ import annotations

from pathlib import Path

import pandas as pd
import plotly.express as px
import plotly.graph_objects as go
import streamlit as st

from core import comparison as cmp
from views.common import load_runs_table, runs_dir, show_no_runs

SELECTED = "compare_selected"        # session_state: run ids whose curves are drawn
TABLE = "compare_table"              # the runs table's selection state
TABLE_IDS = "_compare_table_ids"     # run ids in the order the table shows them
LIVE_STATES = ("running", "queued")
REFRESH_SECONDS = 3
CELL_ORDER = ["lstm", "gru", "?"]
SPLIT_DASH = {cmp.TRAIN: "solid", cmp.HELD_OUT: "dash"}
DEFAULT_PLOTTED = 4
RUN_COLOURS = px.colors.qualitative.D3 + px.colors.qualitative.Dark24

SETTINGS_SHOWN = ["run", "state", "model", "part", "cell", "layers", "units", "dropout_layers",
                  "window", "batch_size", "learning_rate", "epochs", "epochs_done", "params"]


# --------------------------------------------------------------------------- cached reads

@st.cache_data(show_spinner=False, max_entries=1000)
def _history(path: str, stamp: int) -> pd.DataFrame | str:
    """One run's history.csv (a message instead when unreadable); `stamp` is its mtime."""
    try:
        return cmp.read_history(Path(path))
    except cmp.ComparisonError as exc:
        return str(exc)


def load_histories(run_ids: list[str]) -> tuple[dict[str, pd.DataFrame], dict[str, str]]:
    root = runs_dir()
    histories, errors = {}, {}
    for run_id in run_ids:
        path = root / run_id
        result = _history(str(path), cmp.file_stamp(path))
        if isinstance(result, str):
            errors[run_id] = result
        else:
            histories[run_id] = result
    return histories, errors


@st.cache_data(show_spinner=False, max_entries=32)
def _long(stamps: tuple, settings: pd.DataFrame) -> pd.DataFrame:
    """The long table of the selected runs; `stamps` ((run_id, history mtime), ...) is the
    cache key, so it is rebuilt only when a run writes an epoch or the selection changes."""
    histories, _ = load_histories([run_id for run_id, _ in stamps])
    return cmp.histories_long(histories, settings)


# --------------------------------------------------------------------------- table

def _metric_title(column: str) -> str:
    """'final_val_pitch_accuracy' -> 'final held-out pitch accuracy'."""
    when, _, rest = column.partition("_")
    split, metric = cmp.split_metric(rest)
    held = "held-out " if split == cmp.HELD_OUT else ""
    return f"{when} {held}{metric.replace('_', ' ')}"


def table_frame(runs: pd.DataFrame, labels: dict[str, str]) -> pd.DataFrame:
    """The runs table as shown: settings, state, final and best train/held-out metrics."""
    frame = runs.copy()
    frame["run"] = frame["run_id"].map(labels)
    metrics = [c for c in frame.columns if c.startswith(("final_", "best_"))]
    order = {"loss": 0, "accuracy": 1, "pitch": 2, "duration": 3}

    def rank(column: str):
        when, _, rest = column.partition("_")
        split, metric = cmp.split_metric(rest)
        return (order.get(metric.split("_")[0], 9), metric, when != "final",
                split == cmp.TRAIN)
    metrics.sort(key=rank)
    shown = [c for c in SETTINGS_SHOWN if c in frame] + metrics
    extra = [c for c in ("seconds", "created", "error", "run_id") if c in frame]
    frame = frame[shown + extra].rename(columns={c: _metric_title(c) for c in metrics})
    return frame


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


def runs_table(runs: pd.DataFrame, labels: dict[str, str]) -> pd.DataFrame:
    """Filters, sort and the table; returns the filtered runs."""
    cols = st.columns([1, 1.4, 1, 1.8, 1.6, 0.8])
    choices = {}
    for col, (column, title) in zip(cols[:4], [("model", "Model"), ("part", "Part"),
                                               ("cell", "Cell"), ("state", "State")]):
        options = sorted(runs[column].dropna().unique().tolist(), key=str) \
            if column in runs else []
        choices[column] = col.multiselect(title, options, key=f"compare_filter_{column}",
                                          placeholder="all")
    shown = table_frame(runs, labels)
    sortable = [c for c in shown.columns if c not in ("error", "run_id")]
    default_sort = sortable.index("created") if "created" in sortable else 0
    sort_by = cols[4].selectbox("Sort by", sortable, index=default_sort, key="compare_sort")
    descending = cols[5].toggle("Desc.", value=True, key="compare_desc")
    filtered = cmp.filter_runs(runs, **choices)
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


# --------------------------------------------------------------------------- curves

@st.cache_data(show_spinner=False, max_entries=64)
def _figure(data: pd.DataFrame, x: str, x_title: str, y_title: str) -> go.Figure:
    """Runs overlaid, one colour each; training solid, held-out dashed; LSTM | GRU facets
    sharing the y axis so the two cells compare at a glance."""
    cells = [c for c in CELL_ORDER if c in set(data["cell"])]
    few_points = data.groupby(["run", "metric", "split"]).size().max() <= 30
    fig = px.line(data.sort_values(["run", "split", x]), x=x, y="value", color="run",
                  color_discrete_sequence=RUN_COLOURS,
                  line_dash="split", line_dash_map=SPLIT_DASH, facet_col="cell",
                  markers=bool(few_points),
                  category_orders={"cell": cells, "split": list(cmp.SPLITS)},
                  hover_data={"epoch": True, "elapsed": ":.1f", "value": ":.4f"},
                  labels={"value": y_title, x: x_title, "run": "run", "split": "split"})
    fig.for_each_annotation(lambda a: a.update(text=a.text.split("=")[-1].upper()))
    fig.update_layout(height=340, margin=dict(l=10, r=10, t=40, b=10),
                      legend=dict(orientation="h", yanchor="top", y=-0.18, x=0),
                      hovermode="closest")
    return fig


def curves(selected: list[str], runs: pd.DataFrame, labels: dict[str, str],
           watching: bool) -> None:
    """Loss and accuracy per epoch (or wall time) of the selected runs, from history.csv."""
    if watching:
        now = load_runs_table()
        if not now[now["run_id"].isin(selected)]["state"].isin(LIVE_STATES).any():
            st.rerun()  # the runs we followed have ended: redraw the page without polling
        runs = now
    histories, errors = load_histories(selected)
    for run_id, message in errors.items():
        st.warning(f"{labels.get(run_id, run_id)}: history unreadable, no curves ({message})")
    columns = [c for c in ("run_id", "model", "part", "cell", "label") if c in runs.columns]
    settings = runs[runs["run_id"].isin(histories)][columns]
    settings = settings.assign(cell=settings["cell"].fillna("?") if "cell" in settings
                               else "?")
    root = runs_dir()
    long = _long(tuple((r, cmp.file_stamp(root / r)) for r in histories), settings)
    if long.empty:
        st.info("The selected runs have no finished epoch yet: curves appear after the "
                "first one.")
        return
    c1, c2, c3 = st.columns([1.2, 1.4, 2])
    x_axis = c1.radio("x axis", ["epoch", "wall time"], horizontal=True, key="compare_x")
    method = c2.radio("Smoothing", ["none", "EMA", "rolling mean"], horizontal=True,
                      key="compare_smooth_method")
    if method == "EMA":
        weight = c3.slider("EMA weight on the past", 0.0, 0.95, 0.6, 0.05, key="compare_ema")
        long = cmp.smooth(long, "ema", weight)
    elif method == "rolling mean":
        window = c3.slider("Rolling window (epochs)", 1, 20, 3, key="compare_roll")
        long = cmp.smooth(long, "rolling", window)
    long["run"] = long["run_id"].map(labels).fillna(long["run_id"])
    x, x_title = ("epoch", "epoch") if x_axis == "epoch" else ("elapsed", "wall time (s)")
    st.caption("Solid: training windows; dashed: held-out pieces. "
               + ("Smoothed curves; hover shows the smoothed value." if method != "none"
                  else "As measured after each epoch."))

    loss = long[long["metric"] == "loss"]
    if len(loss):
        both = " (Model 2: pitch + duration heads)" if "model" in loss and \
            (loss["model"] == 2).any() else ""
        st.markdown(f"**Loss**{both}")
        st.plotly_chart(_figure(loss, x, x_title, "loss"), key="compare_loss_chart")
    accuracy = long[long["metric"] == "accuracy"]
    if len(accuracy):
        st.markdown("**Accuracy** (Model 1: next 16th-note symbol)")
        st.plotly_chart(_figure(accuracy, x, x_title, "accuracy"), key="compare_acc_chart")
    for head in ("pitch", "duration"):
        data = long[long["metric"] == f"{head}_accuracy"]
        if len(data):
            st.markdown(f"**Model 2 {head} accuracy** (the {head} head)")
            st.plotly_chart(_figure(data, x, x_title, f"{head} accuracy"),
                            key=f"compare_{head}_chart")

    summary(histories, runs, labels)


def summary(histories: dict[str, pd.DataFrame], runs: pd.DataFrame,
            labels: dict[str, str]) -> None:
    st.subheader("Tables 2 and 3, for the selected runs")
    at = st.radio("Row of each run", ["final", "best"], horizontal=True, key="compare_at",
                  format_func={"final": "final epoch (as the thesis reports)",
                               "best": "epoch of lowest held-out loss"}.get)
    for model, title in ((1, "Model 1 (Table 2): loss / accuracy"),
                         (2, "Model 2 (Table 3): loss / pitch accuracy / duration accuracy")):
        table = cmp.summary_table(histories, runs, model=model, at=at)
        if table.empty:
            continue
        table.insert(0, "run", table["run_id"].map(labels))
        table = table.drop(columns=["run_id"] + (["label"] if not table["label"].fillna("")
                                                 .astype(str).str.strip().any() else []))
        metrics = [c for c in table.columns if "loss" in c or "acc" in c]
        table = table[["run", *metrics, *[c for c in table.columns
                                          if c != "run" and c not in metrics]]]
        st.markdown(f"**{title}**")
        numbers = {c: st.column_config.NumberColumn(c, format="%.3f")
                   for c in table.columns if "loss" in c or "acc" in c}
        st.dataframe(table, hide_index=True, column_config=numbers, width="stretch",
                     key=f"compare_summary_{model}")
    st.caption("The thesis reports training windows only; held-out columns are measured on "
               "whole pieces never trained on (a high training accuracy with a poor held-out "
               "one is memorisation).")


def parallel_view(runs: pd.DataFrame) -> None:
    st.subheader("Hyperparameters against best loss")
    frame = cmp.hyperparameter_frame(runs)
    if frame.empty:
        st.info("No run in the table has finished an epoch yet.")
        return
    models = sorted(frame["model"].dropna().unique().astype(int).tolist())
    if len(models) > 1:
        model = st.radio("Model", models, horizontal=True, key="compare_parallel_model",
                         help="Model 2's loss adds two heads: the models are not comparable")
        frame = frame[frame["model"] == model]
    dims, constant = [], []
    for column in cmp.HYPERPARAMETERS:
        values = frame[column]
        if values.nunique(dropna=False) <= 1 and len(frame) > 1:
            constant.append(f"{column.replace('_', ' ')} {values.iloc[0]:g}")
            continue  # an axis with one value says nothing and squeezes the others
        dims.append(dict(label=column.replace("_", " "), values=values))
    dims.append(dict(label="cell", values=frame["cell"], tickvals=[0, 1],
                     ticktext=["LSTM", "GRU"], range=[-0.1, 1.1]))
    dims.append(dict(label="best loss", values=frame["best loss"]))
    fig = go.Figure(go.Parcoords(line=dict(color=frame["best loss"], colorscale="Viridis_r",
                                           cmin=frame["best loss"].min(),
                                           cmax=frame["best loss"].max(), showscale=True,
                                           colorbar=dict(title="best loss")),
                                 dimensions=dims))
    fig.update_layout(height=380, margin=dict(l=60, r=40, t=50, b=20))
    st.plotly_chart(fig, key="compare_parallel_chart", theme=None)
    held = (frame["loss_split"] == cmp.HELD_OUT).all()
    st.caption(f"{len(frame)} runs of the table (filters apply). Best loss is the lowest "
               + ("held-out loss." if held else "held-out loss, or training loss for runs "
                  "that held nothing out.")
               + (f" The same in every run: {', '.join(constant)}." if constant else "")
               + " Drag along an axis to pick a range.")


# --------------------------------------------------------------------------- page

def main() -> None:
    st.title("Compare runs")
    runs = load_runs_table()
    if show_no_runs(runs):
        return
    labels = cmp.run_labels(runs)
    filtered = runs_table(runs, labels)

    known = runs["run_id"].tolist()
    plottable = runs[runs.get("epochs_done", pd.Series(0, index=runs.index)).fillna(0) > 0]
    if SELECTED not in st.session_state:
        newest = plottable.sort_values("run_id")["run_id"].tolist()[-DEFAULT_PLOTTED:]
        st.session_state[SELECTED] = newest
    st.session_state[SELECTED] = [r for r in st.session_state[SELECTED] if r in known]
    selected = st.multiselect("Runs to plot", known, key=SELECTED,
                              format_func=lambda r: labels.get(r, r),
                              placeholder="tick rows in the table above, or choose runs")
    if not selected:
        st.info("Select runs (tick rows in the table, or choose them here) to draw their "
                "curves.")
    else:
        live = runs[runs["run_id"].isin(selected)]["state"].isin(LIVE_STATES).any()
        if live:
            st.caption(f"A selected run is training: its curves refresh every "
                       f"{REFRESH_SECONDS} s.")
            st.fragment(run_every=REFRESH_SECONDS)(curves)(selected, runs, labels, True)
        else:
            curves(selected, runs, labels, False)
    parallel_view(filtered)


main()
