"""Every figure the dashboard and the defense report draw, in plain plotly (no Streamlit).

One home, so a run has the same colour on the Compare page and in the report, LSTM and GRU
are told apart the same way everywhere, and every legend sits outside the plot area, where
nine or more runs stay readable and never cover an axis:

curve_figure     training curves of runs: a colour per run, training windows | held-out
                 pieces side by side sharing the y axis, LSTM solid lines with circles and
                 GRU dashed lines with diamonds, the trivial baseline as a dotted line
                 named in the legend
band_figure      the same for seed groups: each group's mean curve inside its spread band
piano_roll       notes as bars at their pitch (lead red, accompaniment blue), one bar per
                 note even where a pitch repeats, where each part's seed ends marked
count_figure     counts per category (symbol frequencies, note durations)
parallel_figure  hyperparameters against best loss, as parallel coordinates (whole-number
                 settings with whole-number ticks, the loss on round ticks over a sensible
                 least span)
overlap_figure   an evaluation: overlapping area with the held-out pieces per metric and
                 decoding
verdict_figure   GRU − LSTM with its 95% interval against zero, per comparison and metric

Colours are explicit (PALETTE): plotly express under Streamlit's template has no colour
sequence and would draw every trace near-black. `series_colours` gives each run (or seed
group) a colour from its sorted name, so the same runs get the same colours on the page and
in the report, whatever order they were picked in.
"""
from __future__ import annotations

import html
import math
from typing import Iterable, Iterator, Mapping, Sequence

import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from core.evidence.curves import HELD_OUT, SPLITS, TRAIN
from core.evidence.verdict import (
    GRU_BETTER,
    LSTM_BETTER,
    TOO_FEW,
    WITHIN_NOISE,
    comparison_names,
    higher_is_better,
    metric_name,
)

# Saturated, mutually distinct colours (D3's without its grey, then Vega's category20b
# darks and a few brights); runs beyond the 18th reuse them in order.
PALETTE = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2",
           "#bcbd22", "#17becf", "#393b79", "#637939", "#8c6d31", "#843c39", "#7b4173",
           "#e7ba52", "#6b6ecf", "#b5cf6b", "#ce6dbd")
PART_COLOURS = {"lead": "#d62728", "accompaniment": "#1f77b4"}
OTHER_PART_COLOUR = "#8c564b"
BASELINE_COLOUR = "#444444"  # the baseline line: not a run's colour
CELL_ORDER = ("lstm", "gru", "?")
CELL_MARKERS = {"lstm": "circle", "gru": "diamond", "?": "square"}
CELL_DASH = {"lstm": "solid", "gru": "dash", "?": "dot"}
SPLIT_TITLES = {TRAIN: "training windows", HELD_OUT: "held-out pieces"}
LEGEND_TITLE = "line: LSTM solid ●, GRU dashed ◆"
BAND_OPACITY = {TRAIN: 0.16, HELD_OUT: 0.10}
MARKERS_UP_TO = 30          # points per curve: more and markers would hide the line
CURVE_PLOT_PX = 300         # height of a curve chart's plotting area
LEGEND_ROW_PX = 21          # one legend entry
AXIS_BELOW_PX = 58          # tick labels and the x axis title under a plot
TITLE_PX = 40               # subplot titles above a plot
PITCH_CLASSES = ("C", "C#", "D", "E-", "E", "F", "F#", "G", "G#", "A", "B-", "B")
NOTE_GAP = 0.12             # quarters between a note's bar and the next one at its pitch
MAX_GAP_SHARE = 0.2         # ... but never more than this share of a short note


# What each history metric's number is, as an axis title.
METRIC_AXES = {"loss": "cross-entropy loss (nats)",
               "accuracy": "accuracy (share of next symbols right)",
               "note_accuracy": "note accuracy (share of new notes, chords, rests right)",
               "onset_accuracy": "onset accuracy (new events and holds found, mean share)",
               "pitch_loss": "pitch cross-entropy (nats)",
               "duration_loss": "duration cross-entropy (nats)",
               "pitch_accuracy": "pitch accuracy (share of next pitches right)",
               "duration_accuracy": "duration accuracy (share of next durations right)"}


def axis_title(metric: str) -> str:
    """'cross-entropy loss (nats)' for 'loss': what the number on a curve's y axis is."""
    return METRIC_AXES.get(metric, metric.replace("_", " "))


def series_colours(names: Iterable[str]) -> dict[str, str]:
    """A PALETTE colour for each run id (or group name), assigned in sorted order: the same
    set of runs gets the same colours on every page and in the report."""
    ordered = sorted(dict.fromkeys(str(n) for n in names))
    return {name: PALETTE[i % len(PALETTE)] for i, name in enumerate(ordered)}


def rgba(colour: str, alpha: float) -> str:
    """'#1f77b4' -> 'rgba(31,119,180,0.16)', for a band filled with its line's colour."""
    red, green, blue = (int(colour[i:i + 2], 16) for i in (1, 3, 5))
    return f"rgba({red},{green},{blue},{alpha})"


def legend_below(fig: go.Figure, plot_px: int, rows: int, horizontal: bool = False,
                 top_px: int = TITLE_PX, title: str = "") -> go.Figure:
    """Put the legend under the x axis title and make the figure tall enough for it.

    Vertical (one entry per line) unless `horizontal`: long run labels then never run into
    each other, and the plotting area keeps `plot_px` however many entries there are. A
    `title` takes a line of its own above the entries.
    """
    legend_px = (rows + bool(title)) * LEGEND_ROW_PX + 8
    fig.update_layout(
        height=top_px + plot_px + AXIS_BELOW_PX + legend_px,
        margin=dict(l=10, r=10, t=top_px, b=AXIS_BELOW_PX + legend_px),
        legend=dict(orientation="h" if horizontal else "v", x=0, xanchor="left",
                    y=-AXIS_BELOW_PX / plot_px, yanchor="top",
                    title=dict(text=title, side="top")),
        hovermode="closest")
    return fig


# --------------------------------------------------------------------------- curves

def _with_cells(data: pd.DataFrame) -> pd.DataFrame:
    """`cell` in lower case, '?' where a run's setting could not be read."""
    cell = data["cell"] if "cell" in data else pd.Series("?", index=data.index)
    return data.assign(cell=cell.fillna("?").astype(str).str.lower()
                       .where(lambda c: c.isin(CELL_ORDER), "?"))


def _splits(data: pd.DataFrame) -> list[str]:
    present = set(data["split"])
    return [s for s in SPLITS if s in present]


def _split_grid(splits: Sequence[str]) -> go.Figure:
    """One panel per split (training windows | held-out pieces), sharing the y axis: a
    run's two curves side by side in its one colour, and the runs of a split together."""
    return make_subplots(rows=1, cols=max(len(splits), 1), shared_yaxes=True,
                         horizontal_spacing=0.04,
                         subplot_titles=[SPLIT_TITLES.get(s, s) for s in splits])


def _series_order(data: pd.DataFrame, key: str, name: str) -> list[str]:
    """Series grouped by cell (LSTM first), then by name: the legend reads in that order."""
    rank = {c: i for i, c in enumerate(CELL_ORDER)}
    first = data.drop_duplicates(key)
    order = sorted(zip(first["cell"].map(rank), first[name].astype(str), first[key]))
    return [k for _, _, k in order]


def _curves(data: pd.DataFrame, key: str, name: str, x: str) -> Iterator[tuple]:
    """(series key, legend name, cell, panel, opens its legend entry, split, rows in x
    order) of every curve: a series (`key`) has one curve per split, each in its split's
    panel."""
    splits = _splits(data)
    for series in _series_order(data, key, name):
        rows = data[data[key] == series]
        cell = rows["cell"].iloc[0]
        for i, split in enumerate(s for s in splits if s in set(rows["split"])):
            yield (series, str(rows[name].iloc[0]), cell, splits.index(split) + 1, i == 0,
                   split, rows[rows["split"] == split].sort_values(x))


def _style(colour: str, cell: str, markers: bool) -> dict:
    """A curve's look: its series' colour; its cell's line style and marker (LSTM solid
    with circles, GRU dashed with diamonds), so the cells differ even in grey print."""
    return dict(mode="lines+markers" if markers else "lines",
                line=dict(color=colour, dash=CELL_DASH[cell]),
                marker=dict(symbol=CELL_MARKERS[cell], size=6))


def _few_points(data: pd.DataFrame, key: str) -> bool:
    return data.groupby([key, "split"]).size().max() <= MARKERS_UP_TO


def _axes(fig: go.Figure, data: pd.DataFrame, x: str, x_title: str, y_title: str) -> None:
    """Axis titles; an epoch axis shows whole epochs only."""
    whole = {}
    if x == "epoch":
        whole = dict(tickformat="d")
        if len(data) and data["epoch"].max() <= 20:
            whole["dtick"] = 1
    fig.update_xaxes(title_text=x_title, **whole)
    fig.update_yaxes(title_text=y_title, row=1, col=1)


def _baselines(fig: go.Figure, splits: Sequence[str],
               baselines: Sequence[tuple[str, float]]) -> int:
    """Each baseline as a dotted line across the held-out panel (where it was measured),
    named in the legend, never on the plot where its words would cover the curves (escaped:
    plotly reads <b>, <br> ... in text as markup). Returns the legend entries added."""
    column = splits.index(HELD_OUT) + 1 if HELD_OUT in splits else len(splits)
    for label, value in baselines:
        fig.add_hline(y=value, line=dict(color=BASELINE_COLOUR, dash="dot", width=1.5),
                      row=1, col=column)
        fig.add_trace(go.Scatter(  # a legend entry only: no point, nothing to hover
            x=[None], y=[None], mode="lines", name=html.escape(label, quote=False),
            line=dict(color=BASELINE_COLOUR, dash="dot", width=1.5), hoverinfo="skip",
            legendgroup="baseline"), row=1, col=column)
    return len(baselines)


def curve_figure(long: pd.DataFrame, y_title: str, x: str = "epoch", x_title: str = "epoch",
                 colours: Mapping[str, str] | None = None,
                 baselines: Sequence[tuple[str, float]] = ()) -> go.Figure:
    """Curves of one metric for several runs.

    `long`: core.evidence.curves rows (run_id, epoch, elapsed, split, value) of one metric,
    with the legend name in `run` and the run's `cell`. A colour per run (`colours` by run
    id, default series_colours) and one legend entry per run; training windows and held-out
    pieces in side-by-side panels sharing the y axis; LSTM solid, GRU dashed. `baselines`
    ((label, value), e.g. core.evidence.baselines.baseline_lines) are drawn as labelled
    dotted lines in the held-out panel.
    """
    data = _with_cells(long)
    if "run" not in data:
        data = data.assign(run=data["run_id"])
    colours = colours or series_colours(data["run_id"])
    splits = _splits(data)
    fig, markers = _split_grid(splits), _few_points(data, "run_id")
    for run_id, name, cell, column, first, split, curve in _curves(data, "run_id", "run", x):
        fig.add_trace(go.Scatter(
            x=curve[x], y=curve["value"], name=name, legendgroup=run_id, showlegend=first,
            **_style(colours[run_id], cell, markers),
            customdata=curve[["epoch", "elapsed"]].to_numpy(),
            hovertemplate=(f"<b>%{{fullData.name}}</b><br>{cell.upper()}, {split}<br>epoch "
                           "%{customdata[0]} · %{customdata[1]:.1f} s<br>" + y_title
                           + " %{y:.4f}<extra></extra>")), row=1, col=column)
    _axes(fig, data, x, x_title, y_title)
    entries = data["run_id"].nunique() + _baselines(fig, splits, baselines)
    return legend_below(fig, CURVE_PLOT_PX, entries, title=LEGEND_TITLE)


def band_figure(bands: pd.DataFrame, y_title: str, spread_label: str,
                colours: Mapping[str, str] | None = None,
                baselines: Sequence[tuple[str, float]] = ()) -> go.Figure:
    """One mean curve per seed group inside its spread band, drawn like curve_figure.

    `bands`: core.evidence.grouping.group_bands rows of one metric (group, cell, split,
    epoch, seeds, mean, low, high); `spread_label` names the band in the hover ('min–max').
    """
    data = _with_cells(bands)
    colours = colours or series_colours(data["group"])
    splits = _splits(data)
    fig, markers = _split_grid(splits), _few_points(data, "group")
    for group, _, cell, column, first, split, curve in _curves(data, "group", "group", "epoch"):
        x = curve["epoch"].tolist()
        fig.add_trace(go.Scatter(
            x=x + x[::-1], y=curve["high"].tolist() + curve["low"].tolist()[::-1],
            fill="toself", fillcolor=rgba(colours[group], BAND_OPACITY.get(split, 0.1)),
            mode="lines", line=dict(width=0), hoverinfo="skip", showlegend=False,
            legendgroup=group, name=f"{group} band ({split})"), row=1, col=column)
        fig.add_trace(go.Scatter(
            x=x, y=curve["mean"], name=group, legendgroup=group, showlegend=first,
            **_style(colours[group], cell, markers),
            customdata=curve[["low", "high", "seeds"]].to_numpy(),
            hovertemplate=(f"<b>%{{fullData.name}}</b><br>{cell.upper()}, {split}<br>"
                           f"epoch %{{x}}<br>mean %{{y:.4f}}<br>{spread_label} "
                           "%{customdata[0]:.4f} – %{customdata[1]:.4f}<br>"
                           "%{customdata[2]} run(s)<extra></extra>")), row=1, col=column)
    _axes(fig, data, "epoch", "epoch", y_title)
    entries = data["group"].nunique() + _baselines(fig, splits, baselines)
    return legend_below(fig, CURVE_PLOT_PX, entries, title=LEGEND_TITLE)


# --------------------------------------------------------------------------- piano roll

def pitch_name(midi: int) -> str:
    """60 -> 'C4' (music21's spelling: sharps, and flats written '-')."""
    return f"{PITCH_CLASSES[int(midi) % 12]}{int(midi) // 12 - 1}"


def note_bars(notes: pd.DataFrame) -> tuple[pd.Series, pd.Series]:
    """(start, drawn length) of each note's bar: it stops NOTE_GAP short of the note's end
    (at most a fifth of a short note), so a note repeated at one pitch reads as separate bars,
    one per row of the note table, instead of one long note; the hover gives the true end."""
    length = notes["end"] - notes["start"]
    gap = (length * MAX_GAP_SHARE).clip(upper=NOTE_GAP)
    return notes["start"], length - gap


def pitch_span(notes: Iterable[pd.DataFrame]) -> tuple[float, float] | None:
    """The lowest and highest pitch of several note tables, a semitone of room each side:
    one pitch axis for piano rolls shown side by side; None without notes."""
    pitches = [float(p) for table in notes for p in (table["pitch"].min(), table["pitch"].max())
               if len(table)]
    return (min(pitches) - 1, max(pitches) + 1) if pitches else None


def piano_roll(notes: pd.DataFrame, seed_quarters: Mapping[str, float] | None = None,
               plot_px: int = 220, pitch_range: tuple[float, float] | None = None,
               quarters: float | None = None) -> go.Figure:
    """Each note a bar from its start towards its end (quarter notes) at its MIDI pitch, a
    hair short of it (`note_bars`), so every row of the note table is a bar of its own; the
    accompaniment under the lead; a dotted line where each part's seed window ends.

    `notes`: a note table (part, start, end, pitch, and `name` when known), as
    core.data.notes builds it for a corpus piece and core.evidence.measure reads it for a
    generated sample. `pitch_range` and `quarters` fix the axes, so rolls drawn side by
    side share them (`pitch_span`).
    """
    fig = go.Figure()
    parts = sorted(notes["part"].unique(), key=lambda p: (p == "lead", str(p)))
    for part in parts:
        group = notes[notes["part"] == part]
        names = group["name"] if "name" in group else group["pitch"].map(pitch_name)
        start, drawn = note_bars(group)
        fig.add_trace(go.Bar(
            base=start, x=drawn, y=group["pitch"],
            orientation="h", name=str(part),
            marker_color=PART_COLOURS.get(part, OTHER_PART_COLOUR),
            marker_line_width=0, width=0.85, opacity=0.9,
            customdata=pd.DataFrame({"n": names, "s": group["start"],
                                     "e": group["end"]}).to_numpy(),
            hovertemplate=("%{customdata[0]} (%{y})<br>%{customdata[1]:.2f} to "
                           "%{customdata[2]:.2f} quarters<extra>" + str(part) + "</extra>")))
    ends: dict[float, list[str]] = {}
    for part, seeded in (seed_quarters or {}).items():
        ends.setdefault(float(seeded), []).append(part)
    for x, seeded in ends.items():
        one = len(seeded) == 1
        fig.add_vline(x=x, line_dash="dot",
                      line_color=PART_COLOURS.get(seeded[0], "grey") if one else "grey",
                      annotation_text=f"{seeded[0][:5]}. seed |" if one else "seed |",
                      annotation_position="top left", annotation_font_size=10)
    fig.update_layout(barmode="overlay", bargap=0, xaxis_title="quarter notes",
                      yaxis_title="MIDI pitch")
    if quarters is None and len(notes):
        quarters = max([float(notes["end"].max()), *ends])
    if quarters:  # from the start to the last note's end: a narrow column autoranges wide
        fig.update_xaxes(range=[0, quarters])
    if pitch_range is not None:
        fig.update_yaxes(range=list(pitch_range))
    return legend_below(fig, plot_px, 1, horizontal=True, top_px=24)


# --------------------------------------------------------------------------- counts

def count_figure(categories: Sequence, counts: Sequence, colour: str, x_title: str,
                 y_title: str, shares: Sequence[float] | None = None) -> go.Figure:
    """Bars of counts per category, in the order given (symbol frequencies, durations);
    the hover adds each bar's share of the whole when `shares` is given."""
    hover = "%{x}: %{y}" + (" (%{customdata:.1%})" if shares is not None else "")
    fig = go.Figure(go.Bar(x=list(map(str, categories)), y=list(counts), marker_color=colour,
                           customdata=list(shares) if shares is not None else None,
                           hovertemplate=hover + "<extra></extra>"))
    fig.update_layout(height=360, margin=dict(l=10, r=10, t=10, b=10),
                      xaxis=dict(type="category", title=x_title), yaxis_title=y_title)
    return fig


# --------------------------------------------------------------------------- evidence

def split_constant(frame: pd.DataFrame, columns: Sequence[str]) -> tuple[list[str], list[str]]:
    """(columns whose values vary, 'name value' of those the same in every row): an axis
    with one value says nothing and squeezes the others, so it is named instead."""
    varying, constant = [], []
    for column in columns:
        values = frame[column]
        if values.nunique(dropna=False) <= 1 and len(frame) > 1:
            constant.append(f"{column.replace('_', ' ')} {values.iloc[0]:g}")
        else:
            varying.append(column)
    return varying, constant


WHOLE_TICKS_UP_TO = 12  # distinct values of a whole-number axis that each get a tick


def _dimension(frame: pd.DataFrame, column: str) -> dict:
    """One parallel axis; a setting with whole-number values (units, layers, ...) is
    ticked at its own values, never at 1.5 layers; a rate's ticks keep 3 digits."""
    values = pd.to_numeric(frame[column], errors="coerce")
    dimension = dict(label=column.replace("_", " "), values=values)
    seen = values.dropna()
    if len(seen) and not (seen == seen.round()).all():
        dimension.update(tickformat=".3~g")   # 0.002, never 0.00200000001
    elif len(seen):
        distinct = sorted(seen.unique())
        if len(distinct) <= WHOLE_TICKS_UP_TO:
            dimension.update(tickvals=distinct, ticktext=[f"{v:.0f}" for v in distinct])
        else:
            dimension.update(tickformat="d")
    return dimension


MIN_LOSS_SPAN = 0.05   # nats: the least a loss axis spans, so runs a hair apart (seed noise)
                       # are drawn a hair apart, not from the bottom of the axis to its top
NICE_STEPS = (1, 2, 5, 10)


def nice_axis(low: float, high: float, min_span: float = 0.0,
              ticks: int = 5) -> tuple[list[float], list[float], list[str]]:
    """(range, tick values, tick labels) of an axis over [low, high], widened evenly to at
    least `min_span`, its ends and about `ticks` ticks on round steps (1, 2 or 5 times a
    power of ten), labelled with just the decimals such a step needs."""
    centre, span = (low + high) / 2, max(high - low, min_span, 1e-9)
    low, high = min(low, centre - span / 2), max(high, centre + span / 2)
    raw = span / max(ticks - 1, 1)
    power = 10 ** math.floor(math.log10(raw))
    step = next(m * power for m in NICE_STEPS if m * power >= raw * (1 - 1e-9))
    first, last = math.floor(low / step + 1e-9), math.ceil(high / step - 1e-9)
    values = [round(i * step, 12) for i in range(first, last + 1)]
    decimals = max(0, -math.floor(math.log10(step) + 1e-9))
    return [values[0], values[-1]], values, [f"{v:.{decimals}f}" for v in values]


def parallel_figure(frame: pd.DataFrame, columns: Sequence[str],
                    loss_title: str = "best loss (nats)") -> go.Figure:
    """Parallel coordinates: an axis per setting in `columns`, then the cell (LSTM / GRU)
    and the best loss, each run a line coloured by its best loss (core.evidence.tables.
    hyperparameter_frame rows). The loss axis and the colour scale span these runs only,
    at least MIN_LOSS_SPAN, on round ticks: draw the runs of one model and part per figure,
    so it never mixes losses of different data."""
    dims = [_dimension(frame, c) for c in columns]
    dims.append(dict(label="cell", values=frame["cell"], tickvals=[0, 1],
                     ticktext=["LSTM", "GRU"], range=[-0.1, 1.1]))
    loss = pd.to_numeric(frame["best loss"], errors="coerce")
    axis = {}
    if loss.notna().any():
        axis = dict(zip(("range", "tickvals", "ticktext"),
                        nice_axis(loss.min(), loss.max(), MIN_LOSS_SPAN)))
    dims.append(dict(label=loss_title, values=loss, **axis))
    ticks = {k: v for k, v in axis.items() if k != "range"}
    scale = dict(cmin=axis["range"][0], cmax=axis["range"][1]) if axis else {}
    fig = go.Figure(go.Parcoords(
        line=dict(color=loss, colorscale="Viridis_r", showscale=True, **scale,
                  colorbar=dict(title=loss_title, **ticks)),
        dimensions=dims))
    fig.update_layout(height=380, margin=dict(l=60, r=40, t=50, b=20))
    return fig


def overlap_figure(comparison: pd.DataFrame, names: Mapping[str, str],
                   titles: Mapping[str, str]) -> go.Figure:
    """Horizontal bars, one group per metric, one bar per decoding: how much the metric's
    distribution over the generated pieces overlaps the held-out pieces' (core.evidence.
    evaluation comparison rows; `names` and `titles` name decodings and metrics)."""
    metrics = list(dict.fromkeys(comparison["metric"]))
    labels = [titles.get(m, m.replace("_", " ")) for m in metrics]
    fig = go.Figure()
    decodings = list(dict.fromkeys(comparison["decoding"]))
    for i, label in enumerate(decodings):
        rows = comparison[comparison["decoding"] == label].set_index("metric").reindex(metrics)
        fig.add_trace(go.Bar(x=rows["overlapping_area"], y=labels, orientation="h",
                             name=names.get(label, label),
                             marker_color=PALETTE[i % len(PALETTE)],
                             hovertemplate="%{y}: %{x:.2f}<extra>%{fullData.name}</extra>"))
    fig.update_layout(barmode="group",
                      xaxis=dict(title="overlapping area (1 = same distribution as the "
                                       "held-out pieces)", range=[0, 1.02]),
                      yaxis=dict(autorange="reversed"))
    return legend_below(fig, 40 + len(metrics) * (8 + 9 * len(decodings)), 1,
                        horizontal=True, top_px=10)


# --------------------------------------------------------------------------- the verdict

VERDICT_COLOURS = {GRU_BETTER: "#2ca02c", LSTM_BETTER: "#d62728", WITHIN_NOISE: "#7f7f7f",
                   TOO_FEW: "#bbbbbb"}
VERDICT_ROW_PX = 56     # one comparison's row in the verdict figure
VERDICT_TOP_PX = 70     # the panel titles: the metric and which side is whose


def _verdict_panel_title(metric: str) -> str:
    """'held-out loss (nats)<br>← GRU better · LSTM better →': which side of zero is whose
    (a lower loss, a higher accuracy is better)."""
    unit = " (nats)" if metric.endswith("loss") else ""
    sides = ("LSTM", "GRU") if higher_is_better(metric) else ("GRU", "LSTM")
    return (f"{html.escape(metric_name(metric))}{unit}<br><span style='font-size:11px'>"
            f"← {sides[0]} better · {sides[1]} better →</span>")


def verdict_figure(tables: Mapping[str, pd.DataFrame]) -> go.Figure:
    """The verdict as a picture: per metric (core.evidence.verdict.verdict_tables, one
    panel each, side by side) and per comparison (a row each, shared across panels), the
    GRU − LSTM difference as a dot with its 95% interval as a bar, against zero (dotted),
    coloured by the verdict (green: GRU better, red: LSTM better, grey: within noise).

    Each panel has its own scale: a loss in nats and an accuracy share do not share units.
    """
    metrics = list(tables)
    names = {m: [html.escape(n).replace(": ", "<br>", 1) for n in comparison_names(t)]
             for m, t in tables.items()}  # the kind on one line, the settings below
    rows = list(dict.fromkeys(n for m in metrics for n in names[m]))
    fig = make_subplots(rows=1, cols=max(len(metrics), 1), shared_yaxes=True,
                        horizontal_spacing=0.03,
                        subplot_titles=[_verdict_panel_title(m) for m in metrics])
    shown = set()
    for column, metric in enumerate(metrics, 1):
        table = tables[metric].assign(name=names[metric])
        for verdict, group in table.groupby("verdict", sort=False):
            colour = VERDICT_COLOURS.get(verdict, BASELINE_COLOUR)
            fig.add_trace(go.Scatter(
                x=group["difference"], y=group["name"], mode="markers", name=verdict,
                legendgroup=verdict, showlegend=verdict not in shown,
                marker=dict(color=colour, size=10,
                            symbol="circle-open" if verdict == TOO_FEW else "circle"),
                error_x=dict(type="data", symmetric=False, color=colour, thickness=2.5,
                             width=6, array=group["ci_high"] - group["difference"],
                             arrayminus=group["difference"] - group["ci_low"]),
                customdata=group[["ci_low", "ci_high", "p_value", "lstm_n", "gru_n"]]
                .to_numpy(),
                hovertemplate=(f"<b>%{{y}}</b><br>GRU − LSTM {html.escape(metric_name(metric))}"
                               " %{x:+.4f}<br>95% CI %{customdata[0]:+.4f} to "
                               "%{customdata[1]:+.4f}<br>Welch p %{customdata[2]:.3g} · "
                               "%{customdata[3]} LSTM vs %{customdata[4]} GRU seeds"
                               f"<extra>{html.escape(verdict)}</extra>")),
                row=1, col=column)
            shown.add(verdict)
        fig.add_vline(x=0, line=dict(color=BASELINE_COLOUR, dash="dot", width=1.5),
                      row=1, col=column)
    fig.update_yaxes(categoryorder="array", categoryarray=rows[::-1], type="category",
                     range=[-0.6, len(rows) - 0.4], automargin=True)
    fig.update_xaxes(zeroline=False, tickformat="+.2f")
    fig.update_annotations(font_size=12)
    return legend_below(fig, 30 + VERDICT_ROW_PX * len(rows), 1, horizontal=True,
                        top_px=VERDICT_TOP_PX)
