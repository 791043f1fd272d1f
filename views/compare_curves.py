"""Compare page, curves section: loss and accuracy per epoch (or wall time) of the plotted
runs, optionally smoothed or with seeds grouped into a mean and its band, each chart with the
trivial baseline of the runs' data (core.evidence.baselines), and Tables 2 and 3 of those
runs with the baseline as a column.

Runs are drawn in groups of one model and one part: a lead's and an accompaniment's loss
measure different music, and Model 2's loss adds two heads, so they never share a chart.
Histories are read once per file change (cached on modification times), so the section stays
fast with hundreds of runs and still follows a run while it trains. Figures are
core.outputs.figures', coloured per run as the defense report colours the same runs.
"""
from __future__ import annotations

from pathlib import Path

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from core.evidence.baselines import baseline_columns, baseline_lines
from core.evidence.curves import histories_long, smooth
from core.evidence.grouping import curve_bands, group_bands, seed_groups
from core.evidence.tables import TABLE_TITLES, summary_table
from core.files import RunFileError, file_stamp
from core.outputs.figures import axis_title, band_figure, curve_figure, series_colours
from core.runs.listing import run_name
from core.runs.record import Run
from core.runs.status import ACTIVE
from views.common import (
    KEEP,
    MISSING,
    load_baselines,
    load_runs_table,
    runs_dir,
    settings_table,
)

GROUP_SEEDS = "compare_group_seeds"  # toggle: one mean curve + band per setting (default)
SPREAD_LABELS = {"minmax": "min–max", "std": "±1 std"}
SPLIT_NOTE = ("Left: training windows; right: held-out pieces. LSTM solid lines, GRU dashed; "
              "the dotted line is the baseline of the runs' data, named in the legend (always "
              "predicting the most frequent symbol; for the loss, the symbols' unigram "
              "entropy). ")
Baselines = dict  # run_id -> core.evidence.baselines.Baseline, or why there is none


# --------------------------------------------------------------------------- cached reads

@st.cache_data(show_spinner=False, max_entries=1000)
def _history(path: str, stamp: int) -> pd.DataFrame | str:
    """One run's history.csv (a message instead when unreadable); `stamp` is its mtime."""
    try:
        return Run(path).history
    except RunFileError as exc:
        return str(exc)


def load_histories(run_ids: list[str]) -> tuple[dict[str, pd.DataFrame], dict[str, str]]:
    """({run_id: history}, {run_id: why unreadable}) of the given runs."""
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


@st.cache_data(show_spinner=False, max_entries=256)
def _bands(run_dirs: tuple[str, ...], stamps: tuple[int, ...]) -> pd.DataFrame:
    """core.evidence.grouping.curve_bands of one seed group; `stamps` (history mtimes) is
    the key."""
    return curve_bands(run_dirs)


def _cached_bands(dirs: tuple[Path, ...]) -> pd.DataFrame:
    return _bands(tuple(map(str, dirs)), tuple(file_stamp(d) for d in dirs))


@st.cache_data(show_spinner=False, max_entries=64)
def _curve_chart(data: pd.DataFrame, x: str, x_title: str, y_title: str,
                 colours: dict[str, str], lines: tuple) -> go.Figure:
    return curve_figure(data, y_title, x, x_title, colours, lines)


@st.cache_data(show_spinner=False, max_entries=64)
def _band_chart(data: pd.DataFrame, y_title: str, spread: str, lines: tuple) -> go.Figure:
    return band_figure(data, y_title, SPREAD_LABELS[spread], baselines=lines)


# --------------------------------------------------------------------------- curves

def _metric_charts(long: pd.DataFrame, model: int) -> list[tuple[str, str, str]]:
    """(metric, title, chart key) of each metric present: loss, accuracy, Model 2 heads."""
    charts = []
    if (long["metric"] == "loss").any():
        both = " (the pitch and duration heads' sum)" if model == 2 else ""
        charts.append(("loss", f"**Cross-entropy loss**{both}, in nats: lower is better",
                       "compare_loss_chart"))
    if (long["metric"] == "accuracy").any():
        charts.append(("accuracy", "**Accuracy**: share of next 16th-note symbols "
                                   "predicted right (mostly holds)", "compare_acc_chart"))
    if (long["metric"] == "note_accuracy").any():
        charts.append(("note_accuracy", "**Note accuracy**: when something new happens (a "
                                        "note, chord or rest), is it the right one?",
                       "compare_note_chart"))
    if (long["metric"] == "onset_accuracy").any():
        charts.append(("onset_accuracy", "**Onset accuracy**: is a new event predicted where "
                                         "one starts and a hold where it goes on? (0.5: "
                                         "any constant answer)", "compare_onset_chart"))
    for head in ("pitch", "duration"):
        if (long["metric"] == f"{head}_accuracy").any():
            charts.append((f"{head}_accuracy", f"**{head.capitalize()} accuracy**: share of "
                                               f"next {head} symbols predicted right (the {head} "
                                               "head)", f"compare_{head}_chart"))
    return charts


def data_groups(runs: pd.DataFrame, run_ids: list[str]) -> list[tuple[int, str, list[str]]]:
    """(model, part, run ids) of the runs, Model 1 first and the lead first: each group is
    drawn on its own, so lead and accompaniment numbers never share a chart. A run whose
    model cannot be read (a broken config.json) is in no group: the table says why."""
    rows = runs[runs["run_id"].isin(run_ids)]
    model = pd.to_numeric(rows.get("model"), errors="coerce").fillna(0).astype(int)
    part = rows.get("part", pd.Series("?", index=rows.index)).fillna("?").astype(str)
    groups = []
    for (m, p), ids in rows.groupby([model, part], sort=False)["run_id"]:
        if int(m) in TABLE_TITLES:
            groups.append((int(m), p, [r for r in run_ids if r in set(ids)]))
    return sorted(groups, key=lambda g: (g[0], g[1] != "lead", g[1]))


def group_title(model: int, part: str, count: int) -> str:
    return f"Model {model} · {part} · {count} run(s)"


def _controls() -> tuple[bool, str, str, tuple[str, float] | None]:
    """Group seeds, band, x axis and smoothing: (grouped, spread, x axis, smoothing)."""
    c0, c1, c2, c3 = st.columns([1.3, 1.2, 1.4, 2])
    grouped = c0.toggle("One line per setting", value=True, key=GROUP_SEEDS, **KEEP,
                        help="On: runs whose settings differ only by seed are drawn as one "
                             "mean curve inside a band of their spread, one legend entry per "
                             "setting (queue k seeds of a setting on the Train page). Off: "
                             "one line per run.")
    spread = c0.radio("Band", list(SPREAD_LABELS), format_func=SPREAD_LABELS.get,
                      horizontal=True, key="compare_spread", **KEEP, disabled=not grouped,
                      help="min–max: from the lowest to the highest seed; ±1 std: the mean "
                           "plus and minus one standard deviation across seeds.")
    x_axis = c1.radio("x axis", ["epoch", "wall time"], horizontal=True, key="compare_x", **KEEP,
                      disabled=grouped,
                      help="Seed groups are drawn against epochs: seeds differ in wall time.")
    method = c2.radio("Smoothing", ["none", "EMA", "rolling mean"], horizontal=True,
                      key="compare_smooth_method", **KEEP)
    smoothing = None
    if method == "EMA":
        smoothing = ("ema", c3.slider("EMA weight on the past", 0.0, 0.95, 0.6, 0.05,
                                      key="compare_ema", **KEEP))
    elif method == "rolling mean":
        smoothing = ("rolling", c3.slider("Rolling window (epochs)", 1, 20, 3,
                                          key="compare_roll", **KEEP))
    return grouped, spread, x_axis, smoothing


def curves(selected: list[str], runs: pd.DataFrame, labels: dict[str, str],
           watching: bool) -> None:
    """Loss and accuracy per epoch (or wall time) of the selected runs, from history.csv."""
    if watching:
        now = load_runs_table()
        if not now[now["run_id"].isin(selected)]["state"].isin(ACTIVE).any():
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
    grouped, spread, x_axis, smoothing = _controls()
    smoothed = ("Smoothed curves; hover shows the smoothed value." if smoothing
                else "As measured after each epoch.")
    baselines = load_baselines(list(histories))
    colours = series_colours(selected)
    groups = data_groups(runs, [r for r, h in histories.items() if len(h)])
    for model, part, ids in groups:
        if len(groups) > 1:
            st.subheader(group_title(model, part, len(ids)))
        suffix = f"_m{model}_{part}"
        if grouped:
            seed_curves(ids, model, spread, smoothing, smoothed, baselines, suffix)
        else:
            run_curves(long[long["run_id"].isin(ids)], model, labels, colours, x_axis,
                       smoothing, smoothed, baselines, suffix)
    summary(histories, runs, groups, baselines)


def _lines(baselines: Baselines, run_ids, metric: str) -> tuple:
    return tuple(baseline_lines(baselines, run_ids, metric))


def run_curves(long: pd.DataFrame, model: int, labels: dict[str, str],
               colours: dict[str, str], x_axis: str, smoothing: tuple[str, float] | None,
               smoothed: str, baselines: Baselines, suffix: str) -> None:
    """One curve per run and split in each metric's chart, with the data's baseline."""
    if smoothing:
        long = smooth(long, *smoothing)
    long = long.assign(run=long["run_id"].map(labels).fillna(long["run_id"]))
    x, x_title = ("epoch", "epoch") if x_axis == "epoch" else ("elapsed", "wall time (s)")
    st.caption(SPLIT_NOTE + smoothed)
    for metric, title, key in _metric_charts(long, model):
        st.markdown(title)
        data = long[long["metric"] == metric]
        st.plotly_chart(_curve_chart(data, x, x_title, axis_title(metric), colours,
                                     _lines(baselines, data["run_id"].unique(), metric)),
                        key=key + suffix)


def seed_curves(run_ids: list[str], model: int, spread: str,
                smoothing: tuple[str, float] | None, smoothed: str, baselines: Baselines,
                suffix: str) -> None:
    """The selected runs' curves with runs of one setting drawn as a mean and its band."""
    groups = seed_groups(settings_table(), run_ids)
    bands = group_bands(groups, runs_dir(), spread, smoothing, bands_of=_cached_bands)
    if bands.empty:
        st.info("The selected runs have no finished epoch yet.")
        return
    several = int((groups["n"] > 1).sum())
    st.caption(f"{len(groups)} setting(s) from {len(run_ids)} run(s), {several} with several "
               f"seeds: line = mean across seeds, band = {SPREAD_LABELS[spread]}. "
               + SPLIT_NOTE + smoothed
               + " Where a seed stopped early the band covers fewer runs (see the hover). "
                 "Turn off *One line per setting* for a line per run.")
    for metric, title, key in _metric_charts(bands, model):
        st.markdown(title)
        st.plotly_chart(_band_chart(bands[bands["metric"] == metric], axis_title(metric),
                                    spread, _lines(baselines, run_ids, metric)),
                        key=key + suffix)


# --------------------------------------------------------------------------- Tables 2, 3

SUMMARY_TEXT = ("run", "cell", "layers", "units", "window", "batch size", "epoch",
                "epochs done")


def summary_frame(table: pd.DataFrame, base: pd.DataFrame,
                  names: dict[str, str]) -> pd.DataFrame:
    """A summary_table as shown: the run's name, its held-out metrics beside their
    baselines, the training metrics (the thesis's columns), then its shape and epochs."""
    held = [c for c in table.columns if c.startswith("held-out ")]
    train = [c[len("held-out "):] for c in held]
    shape = table[["cell", "layers", "units", "window", "batch_size", "epoch", "epochs"]]
    shape = shape.assign(cell=shape["cell"].fillna("?").astype(str).str.upper()).rename(
        columns={"batch_size": "batch size", "epochs": "epochs done"})
    return pd.concat([pd.DataFrame({"run": table["run_id"].map(names).fillna(table["run_id"])}),
                      table[held], base.set_index(table.index),
                      table[train].rename(columns=lambda c: f"training {c}"), shape], axis=1)


def summary(histories: dict[str, pd.DataFrame], runs: pd.DataFrame,
            groups: list[tuple[int, str, list[str]]], baselines: Baselines) -> None:
    """The thesis's Tables 2 and 3 of the selected runs, at their final or best epoch, one
    table per model and part, each run's held-out numbers first beside their baselines."""
    st.subheader("Tables 2 and 3, for the selected runs")
    at = st.radio("Row of each run", ["final", "best"], horizontal=True, key="compare_at", **KEEP,
                  format_func={"final": "final epoch (as the thesis reports)",
                               "best": "epoch of lowest held-out loss"}.get)
    names = {row.run_id: run_name(row) for _, row in runs.iterrows()}
    for model, part, ids in groups:
        table = summary_table({r: histories[r] for r in ids}, runs, model=model, at=at)
        if table.empty:
            continue
        number, what = TABLE_TITLES[model]
        st.markdown(f"**{number} ({what})**, {part}")
        shown = summary_frame(table, baseline_columns(baselines, table["run_id"], model),
                              names)
        config = {c: st.column_config.NumberColumn(c, format="%.3f")
                  for c in shown.columns if c not in SUMMARY_TEXT}
        config["run"] = st.column_config.TextColumn("run", width=330, pinned=True)
        st.dataframe(shown, hide_index=True, width="stretch", placeholder=MISSING,
                     key=f"compare_summary_{model}_{part}", column_config=config)
    st.caption("The thesis reports training windows only; held-out columns are measured on "
               "whole pieces never trained on (a high training accuracy with a poor held-out "
               "one is memorisation). Baseline columns: what always predicting the most "
               "frequent symbol (accuracy) or the symbols' frequencies (loss, the unigram "
               "entropy in nats) scores on the same held-out windows; a run at its baseline "
               "learnt nothing from the music before each symbol. –: not measured.")
