"""Compare: the runs table, training curves of the chosen runs, Tables 2/3, the LSTM vs GRU
verdict, the defense report and hyperparameters.

Every number and curve is read from the runs' own files (core.runs.list_runs for the table,
each run's history.csv for the curves) through core.comparison and core.verdict; this page
only arranges them. Reads are cached on file modification times, so the page stays fast with
hundreds of runs and still follows a run while it trains. Runs that differ only by seed can
be drawn as one mean curve inside its spread band (core.verdict.curve_bands).
"""
from __future__ import annotations

import io
import re
import zipfile
from datetime import datetime
from pathlib import Path

import pandas as pd
import plotly.express as px
import plotly.graph_objects as go
import streamlit as st
from plotly.colors import hex_to_rgb
from plotly.subplots import make_subplots

from core.evidence.curves import (
    HELD_OUT,
    SPLITS,
    TRAIN,
    histories_long,
    smooth,
    split_metric,
)
from core.evidence.grouping import bands_long, curve_bands, group_runs
from core.evidence.tables import HYPERPARAMETERS, hyperparameter_frame, summary_table
from core.evidence.verdict import TOO_FEW, verdict_table
from core.outputs.report import build_report
from core.runs.files import RunFileError, file_stamp
from core.runs.history import read_history
from core.runs.listing import filter_runs, run_labels, runs_table
from core.runs.record import RunError
from views.common import (
    load_runs_table,
    reports_dir,
    runs_dir,
    runs_signature,
    show_no_runs,
)

SELECTED = "compare_selected"        # session_state: run ids whose curves are drawn
TABLE = "compare_table"              # the runs table's selection state
TABLE_IDS = "_compare_table_ids"     # run ids in the order the table shows them
LIVE_STATES = ("running", "queued")
REFRESH_SECONDS = 3
CELL_ORDER = ["lstm", "gru", "?"]
SPLIT_DASH = {TRAIN: "solid", HELD_OUT: "dash"}
DEFAULT_PLOTTED = 4
RUN_COLOURS = px.colors.qualitative.D3 + px.colors.qualitative.Dark24
GROUP_SEEDS = "compare_group_seeds"  # toggle: one mean curve + band per seed group
SPREAD_LABELS = {"minmax": "min–max", "std": "±1 std"}
REPORT_KEY = "compare_report"        # the last defense report built: folder, zip, PDF
SEED_SUFFIX = re.compile(r"(,\s*)?seed \d+ of \d+$")
VERDICT_SHOWN = ["comparison", "verdict", "model", "part", "layers", "lstm_units", "gru_units",
                 "lstm_params", "gru_params", "lstm_n", "gru_n", "lstm_mean", "gru_mean",
                 "difference", "ci_low", "ci_high", "p_value"]

SETTINGS_SHOWN = ["run", "state", "model", "part", "cell", "layers", "units", "dropout_layers",
                  "window", "batch_size", "learning_rate", "epochs", "epochs_done", "params"]


# --------------------------------------------------------------------------- cached reads

@st.cache_data(show_spinner=False, max_entries=1000)
def _history(path: str, stamp: int) -> pd.DataFrame | str:
    """One run's history.csv (a message instead when unreadable); `stamp` is its mtime."""
    try:
        return read_history(Path(path))
    except RunFileError as exc:
        return str(exc)


def load_histories(run_ids: list[str]) -> tuple[dict[str, pd.DataFrame], dict[str, str]]:
    root = runs_dir()
    histories, errors = {}, {}
    for run_id in run_ids:
        path = root / run_id
        result = _history(str(path), file_stamp(path))
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
    return histories_long(histories, settings)


@st.cache_data(show_spinner=False, max_entries=8)
def _settings_table(root: str, signature: tuple) -> pd.DataFrame:
    """core.runs.listing.runs_table (list_runs plus every TrainConfig field), cached until a
    run's files change; `signature` is views.common.runs_signature."""
    return runs_table(root)


@st.cache_data(show_spinner=False, max_entries=8)
def _verdict(root: str, signature: tuple) -> pd.DataFrame:
    """core.verdict.verdict_table of the whole runs folder, cached on its signature."""
    return verdict_table(_settings_table(root, signature))


def settings_table() -> pd.DataFrame:
    root = runs_dir()
    return _settings_table(str(root.resolve()), runs_signature(root))


@st.cache_data(show_spinner=False, max_entries=256)
def _bands(run_dirs: tuple[str, ...], stamps: tuple[int, ...]) -> pd.DataFrame:
    """core.verdict.curve_bands of one seed group; `stamps` (history mtimes) is the key."""
    return curve_bands(run_dirs)


# --------------------------------------------------------------------------- table

def _metric_title(column: str) -> str:
    """'final_val_pitch_accuracy' -> 'final held-out pitch accuracy'."""
    when, _, rest = column.partition("_")
    split, metric = split_metric(rest)
    held = "held-out " if split == HELD_OUT else ""
    return f"{when} {held}{metric.replace('_', ' ')}"


def table_frame(runs: pd.DataFrame, labels: dict[str, str]) -> pd.DataFrame:
    """The runs table as shown: settings, state, final and best train/held-out metrics."""
    frame = runs.copy()
    frame["run"] = frame["run_id"].map(labels)
    metrics = [c for c in frame.columns if c.startswith(("final_", "best_"))]
    order = {"loss": 0, "accuracy": 1, "pitch": 2, "duration": 3}

    def rank(column: str):
        when, _, rest = column.partition("_")
        split, metric = split_metric(rest)
        return (order.get(metric.split("_")[0], 9), metric, when != "final",
                split == TRAIN)
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


def runs_picker(runs: pd.DataFrame, labels: dict[str, str]) -> pd.DataFrame:
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
                  category_orders={"cell": cells, "split": list(SPLITS)},
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
    long = _long(tuple((r, file_stamp(root / r)) for r in histories), settings)
    if long.empty:
        st.info("The selected runs have no finished epoch yet: curves appear after the "
                "first one.")
        return
    c0, c1, c2, c3 = st.columns([1.3, 1.2, 1.4, 2])
    grouped = c0.toggle("Group seeds", key=GROUP_SEEDS,
                        help="Runs whose settings differ only by seed are drawn as one mean "
                             "curve inside a band of their spread (queue k seeds of a setting "
                             "on the Train page).")
    spread = c0.radio("Band", list(SPREAD_LABELS), format_func=SPREAD_LABELS.get,
                      horizontal=True, key="compare_spread", disabled=not grouped,
                      help="min–max: from the lowest to the highest seed; ±1 std: the mean "
                           "plus and minus one standard deviation across seeds.")
    x_axis = c1.radio("x axis", ["epoch", "wall time"], horizontal=True, key="compare_x",
                      disabled=grouped,
                      help="Seed groups are drawn against epochs: seeds differ in wall time.")
    method = c2.radio("Smoothing", ["none", "EMA", "rolling mean"], horizontal=True,
                      key="compare_smooth_method")
    smoothing = None
    if method == "EMA":
        smoothing = ("ema", c3.slider("EMA weight on the past", 0.0, 0.95, 0.6, 0.05,
                                      key="compare_ema"))
    elif method == "rolling mean":
        smoothing = ("rolling", c3.slider("Rolling window (epochs)", 1, 20, 3,
                                          key="compare_roll"))
    smoothed = ("Smoothed curves; hover shows the smoothed value." if smoothing
                else "As measured after each epoch.")
    if grouped:
        seed_curves(list(histories), spread, smoothing, smoothed)
    else:
        if smoothing:
            long = smooth(long, *smoothing)
        long["run"] = long["run_id"].map(labels).fillna(long["run_id"])
        x, x_title = ("epoch", "epoch") if x_axis == "epoch" else ("elapsed", "wall time (s)")
        st.caption("Solid: training windows; dashed: held-out pieces. " + smoothed)
        for metric, title, key in _metric_charts(long):
            st.markdown(title)
            st.plotly_chart(_figure(long[long["metric"] == metric], x, x_title,
                                    metric.replace("_", " ")), key=key)

    summary(histories, runs, labels)


def _metric_charts(long: pd.DataFrame) -> list[tuple[str, str, str]]:
    """(metric, title, chart key) of each metric present: loss, accuracy, Model 2 heads."""
    charts = []
    if (long["metric"] == "loss").any():
        both = " (Model 2: pitch + duration heads)" if "model" in long and \
            (long.loc[long["metric"] == "loss", "model"] == 2).any() else ""
        charts.append(("loss", f"**Loss**{both}", "compare_loss_chart"))
    if (long["metric"] == "accuracy").any():
        charts.append(("accuracy", "**Accuracy** (Model 1: next 16th-note symbol)",
                       "compare_acc_chart"))
    for head in ("pitch", "duration"):
        if (long["metric"] == f"{head}_accuracy").any():
            charts.append((f"{head}_accuracy", f"**Model 2 {head} accuracy** (the {head} "
                                               "head)", f"compare_{head}_chart"))
    return charts


# --------------------------------------------------------------------------- seed groups

def seed_groups(run_ids: list[str]) -> pd.DataFrame:
    """The selected runs grouped by setting (every TrainConfig field but seed and label,
    core.verdict.group_runs, whatever their state): group name, cell, model, n, run ids.
    A group is named by its runs' label without 'seed i of k', else by its shape."""
    table = settings_table()
    table = table[table["run_id"].isin(run_ids)]
    states = tuple(table["state"].dropna().unique()) if "state" in table else ()
    groups = group_runs(table, metrics=(), states=states)
    if groups.empty:
        return pd.DataFrame(columns=["group", "cell", "model", "n", "run_ids"])
    run_label = table.set_index("run_id")["label"] if "label" in table else pd.Series()
    names = []
    for _, row in groups.iterrows():
        bases = {SEED_SUFFIX.sub("", str(run_label.get(r) or "")).strip()
                 for r in row["run_ids"]}
        base = bases.pop() if len(bases) == 1 else ""
        names.append(base or f"{str(row.get('cell', '?')).upper()} {row.get('layers', '?')}"
                             f"×{row.get('units', '?')}, model {row.get('model', '?')} "
                             f"{row.get('part', '')}".strip())
    groups["group"] = [f"{name} · {n} seeds" if n > 1 else f"{name} · 1 run"
                       for name, n in zip(names, groups["n"])]
    repeated = groups["group"].duplicated(keep=False)
    if repeated.any():
        groups.loc[repeated, "group"] = [f"{g} #{i + 1}" for i, g in
                                         enumerate(groups.loc[repeated, "group"])]
    groups["cell"] = groups["cell"].fillna("?") if "cell" in groups else "?"
    if "model" not in groups:
        groups["model"] = 1
    return groups[["group", "cell", "model", "n", "run_ids"]]


def group_bands(groups: pd.DataFrame, spread: str,
                smoothing: tuple[str, float] | None) -> pd.DataFrame:
    """Long rows of every group's mean and band (core.verdict.bands_long), optionally
    smoothed with core.comparison.smooth (mean, low and high each as their own curve)."""
    root = runs_dir()
    parts = []
    for row in groups.itertuples(index=False):
        dirs = tuple(str(root / r) for r in row.run_ids)
        long = bands_long(_bands(dirs, tuple(file_stamp(d) for d in dirs)), spread)
        if len(long):
            parts.append(long.assign(group=row.group, cell=row.cell, model=row.model))
    if not parts:
        return pd.DataFrame()
    bands = pd.concat(parts, ignore_index=True)
    if smoothing:
        stats = ["mean", "low", "high"]
        melted = bands.melt(id_vars=["group", "cell", "model", "metric", "split", "epoch",
                                     "seeds"], value_vars=stats, var_name="stat")
        melted["run_id"] = melted["group"] + "\x00" + melted["stat"]
        melted = smooth(melted, *smoothing)
        bands = melted.pivot_table(index=["group", "cell", "model", "metric", "split",
                                          "epoch", "seeds"], columns="stat",
                                   values="value").reset_index()
        bands.columns.name = None
    return bands


def _rgba(colour: str, alpha: float) -> str:
    r, g, b = hex_to_rgb(colour)
    return f"rgba({r},{g},{b},{alpha})"


@st.cache_data(show_spinner=False, max_entries=64)
def _band_figure(data: pd.DataFrame, y_title: str, spread: str) -> go.Figure:
    """One mean curve per seed group inside its spread band; training solid, held-out
    dashed; LSTM | GRU side by side sharing the y axis, like the per-run curves."""
    cells = [c for c in CELL_ORDER if c in set(data["cell"])]
    groups = list(dict.fromkeys(data.sort_values(["cell", "group"])["group"]))
    fig = make_subplots(rows=1, cols=len(cells), shared_yaxes=True, horizontal_spacing=0.04,
                        subplot_titles=[c.upper() for c in cells])
    few_points = data.groupby(["group", "split"]).size().max() <= 30
    for i, group in enumerate(groups):
        colour = RUN_COLOURS[i % len(RUN_COLOURS)]
        rows = data[data["group"] == group]
        col = cells.index(rows["cell"].iloc[0]) + 1
        for j, split in enumerate(s for s in SPLITS if s in set(rows["split"])):
            curve = rows[rows["split"] == split].sort_values("epoch")
            x = curve["epoch"].tolist()
            fig.add_trace(go.Scatter(
                x=x + x[::-1], y=curve["high"].tolist() + curve["low"].tolist()[::-1],
                fill="toself", fillcolor=_rgba(colour, 0.16 if split == TRAIN else 0.10),
                mode="lines", line=dict(width=0), hoverinfo="skip", showlegend=False, legendgroup=group,
                name=f"{group} band ({split})"), row=1, col=col)
            fig.add_trace(go.Scatter(
                x=x, y=curve["mean"], mode="lines+markers" if few_points else "lines",
                line=dict(color=colour, dash=SPLIT_DASH.get(split, "solid")),
                name=group, legendgroup=group, showlegend=j == 0,
                customdata=curve[["low", "high", "seeds"]].to_numpy(),
                hovertemplate=(f"<b>%{{fullData.name}}</b> ({split})<br>epoch %{{x}}<br>"
                               f"mean %{{y:.4f}}<br>{SPREAD_LABELS[spread]} "
                               "%{customdata[0]:.4f} – %{customdata[1]:.4f}<br>"
                               "%{customdata[2]} run(s)<extra></extra>")),
                row=1, col=col)
    whole = dict(dtick=1) if data["epoch"].max() <= 20 else {}
    fig.update_xaxes(title_text="epoch", **whole)
    fig.update_yaxes(title_text=y_title, row=1, col=1)
    fig.update_layout(height=360, margin=dict(l=10, r=10, t=40, b=10),
                      legend=dict(orientation="h", yanchor="top", y=-0.28, x=0),
                      hovermode="closest")
    return fig


def seed_curves(run_ids: list[str], spread: str, smoothing: tuple[str, float] | None,
                smoothed: str) -> None:
    """The selected runs' curves with runs of one setting drawn as a mean and its band."""
    groups = seed_groups(run_ids)
    bands = group_bands(groups, spread, smoothing)
    if bands.empty:
        st.info("The selected runs have no finished epoch yet.")
        return
    several = int((groups["n"] > 1).sum())
    st.caption(f"{len(groups)} setting(s) from {len(run_ids)} run(s), {several} with several "
               f"seeds: line = mean across seeds, band = {SPREAD_LABELS[spread]}. Solid: "
               "training windows; dashed: held-out pieces. " + smoothed
               + " Where a seed stopped early the band covers fewer runs (see the hover).")
    for metric, title, key in _metric_charts(bands):
        st.markdown(title)
        st.plotly_chart(_band_figure(bands[bands["metric"] == metric],
                                     metric.replace("_", " "), spread), key=key)


def summary(histories: dict[str, pd.DataFrame], runs: pd.DataFrame,
            labels: dict[str, str]) -> None:
    st.subheader("Tables 2 and 3, for the selected runs")
    at = st.radio("Row of each run", ["final", "best"], horizontal=True, key="compare_at",
                  format_func={"final": "final epoch (as the thesis reports)",
                               "best": "epoch of lowest held-out loss"}.get)
    for model, title in ((1, "Model 1 (Table 2): loss / accuracy"),
                         (2, "Model 2 (Table 3): loss / pitch accuracy / duration accuracy")):
        table = summary_table(histories, runs, model=model, at=at)
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


# --------------------------------------------------------------------------- verdict

def _verdict_where(row: pd.Series, varying: list[str]) -> str:
    where = [f"model {row['model']} {row['part']}", f"{row['layers']} layer(s)"]
    where += [f"{c.replace('_', ' ')} {row[c]}" for c in varying]
    return ", ".join(where)


def verdict_view() -> None:
    """LSTM vs GRU per setting over the whole runs folder (core.verdict.verdict_table)."""
    st.subheader("Verdict: LSTM vs GRU")
    root = runs_dir()
    table = _verdict(str(root.resolve()), runs_signature(root))
    how = ("Queue them with **Fair LSTM vs GRU** on the **Train** page (it queues the LSTM, "
           "the GRU at equal units and the GRU at equal parameters, 3 seeds each), or give "
           "**Seeds (k)** ≥ 2 to one setting there.")
    if table.empty:
        st.info("No LSTM/GRU pair to judge yet: a verdict needs finished LSTM and GRU runs of "
                "an otherwise identical setting, at equal units or equal parameters, with at "
                "least 2 seeds each. " + how, icon=":material/balance:")
        return
    st.caption(
        "Every GRU setting is set against the LSTM setting that is otherwise identical, in "
        "two ways. **Equal units** is the thesis's comparison: the GRU has 3 gates to the "
        "LSTM's 4, so at the same width it has about ¾ of the parameters and is also a "
        "smaller model. **Equal parameters** widens the GRU until its parameter count "
        "matches the LSTM's, so a difference is the cell's and not the size's. Each seed "
        "contributes its best held-out loss (lower is better); the words come from the 95% "
        "confidence interval of GRU − LSTM (Welch): 'LSTM better' or 'GRU better' only when "
        "the whole interval lies on one side of zero, otherwise 'difference within noise'.")
    shared = [c for c in table.columns if c not in VERDICT_SHOWN and c != "sentence"]
    varying = [c for c in shared if table[c].astype(str).nunique() > 1]
    shown = table[[c for c in VERDICT_SHOWN[:5] if c in table] + varying
                  + [c for c in VERDICT_SHOWN[5:] if c in table]]
    number = st.column_config.NumberColumn
    st.dataframe(shown, hide_index=True, width="stretch", key="compare_verdict_table",
                 column_config={
                     "comparison": st.column_config.TextColumn("comparison", pinned=True),
                     "verdict": st.column_config.TextColumn("verdict", pinned=True),
                     "lstm_units": number("LSTM units"), "gru_units": number("GRU units"),
                     "lstm_params": number("LSTM params", format="localized"),
                     "gru_params": number("GRU params", format="localized"),
                     "lstm_n": number("LSTM n", help="seeds with a best held-out loss"),
                     "gru_n": number("GRU n", help="seeds with a best held-out loss"),
                     "lstm_mean": number("LSTM mean", format="%.4f"),
                     "gru_mean": number("GRU mean", format="%.4f"),
                     "difference": number("GRU − LSTM", format="%+.4f"),
                     "ci_low": number("95% CI low", format="%+.4f"),
                     "ci_high": number("95% CI high", format="%+.4f"),
                     "p_value": number("Welch p", format="%.3g")})
    for _, row in table.iterrows():
        sentence, _, words = str(row["sentence"]).rpartition(": ")
        st.markdown(f"- **{row['comparison']}**, {_verdict_where(row, varying)}, LSTM "
                    f"{row['lstm_units']} vs GRU {row['gru_units']} units: {sentence}: "
                    f"**{words}**")
    too_few = int((table["verdict"] == TOO_FEW).sum())
    if too_few:
        st.info(f"{too_few} of {len(table)} comparison(s) have too few seeds for an interval "
                "(2 finished runs with a held-out loss on each side). " + how,
                icon=":material/balance:")


# --------------------------------------------------------------------------- report

def zip_folder(folder: Path) -> bytes:
    """The folder as a zip, in memory, its files under the folder's own name."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(folder.rglob("*")):
            if path.is_file():
                archive.write(path, path.relative_to(folder.parent).as_posix())
    return buffer.getvalue()


def report_view(selected: list[str]) -> None:
    """Build core.report.build_report of the selected runs and offer it as a zip."""
    st.subheader("Defense report")
    st.caption("One folder that opens anywhere, offline: each run's settings, Tables 2 and 3 "
               "from the histories, the curves, the verdict, music metrics and samples "
               f"(report.html, and report.pdf when Chromium can print it), under "
               f"`{reports_dir()}`.")
    left, right = st.columns([1, 2], vertical_alignment="center")
    pdf = right.checkbox("Also print a PDF (headless Chromium, a few seconds)", value=True,
                         key="compare_report_pdf")
    if left.button(f"Build the report of the {len(selected)} plotted run(s)",
                   key="compare_report_build", type="primary", disabled=not selected,
                   width="stretch"):
        out = reports_dir() / f"report-{datetime.now():%Y%m%d-%H%M%S}"
        try:
            with st.spinner(f"Writing the report of {len(selected)} run(s)"
                            + (" and printing its PDF…" if pdf else "…")):
                result = build_report(selected, out, pdf=pdf, runs_root=runs_dir())
                data = zip_folder(out)
        except (RunError, OSError) as exc:
            st.session_state.pop(REPORT_KEY, None)
            st.error(f"No report: {exc}")
        else:
            st.session_state[REPORT_KEY] = {
                "folder": str(out), "zip": data, "runs": list(selected),
                "pdf": str(result["pdf"]) if "pdf" in result else None,
                "pdf_skipped": result.get("pdf_skipped")}
    report = st.session_state.get(REPORT_KEY)
    if not report:
        if not selected:
            st.caption("Select runs above to build their report.")
        return
    folder = Path(report["folder"])
    st.success(f"Report of {len(report['runs'])} run(s) written to `{folder}`.")
    if report["pdf"]:
        st.caption(f"The PDF was made: `{Path(report['pdf']).name}` is in the zip.")
    else:
        st.caption(f"No PDF: {report['pdf_skipped']}. The zip holds report.html, which "
                   "prints from any browser.")
    st.download_button(f"Download {folder.name}.zip ({len(report['zip']) / 1e6:.1f} MB)",
                       report["zip"], file_name=f"{folder.name}.zip", mime="application/zip",
                       key="compare_report_download", on_click="ignore",
                       icon=":material/download:")


def parallel_view(runs: pd.DataFrame) -> None:
    st.subheader("Hyperparameters against best loss")
    frame = hyperparameter_frame(runs)
    if frame.empty:
        st.info("No run in the table has finished an epoch yet.")
        return
    models = sorted(frame["model"].dropna().unique().astype(int).tolist())
    if len(models) > 1:
        model = st.radio("Model", models, horizontal=True, key="compare_parallel_model",
                         help="Model 2's loss adds two heads: the models are not comparable")
        frame = frame[frame["model"] == model]
    dims, constant = [], []
    for column in HYPERPARAMETERS:
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
    held = (frame["loss_split"] == HELD_OUT).all()
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
    labels = run_labels(runs)
    filtered = runs_picker(runs, labels)

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
    verdict_view()
    report_view(selected)
    parallel_view(filtered)


main()
