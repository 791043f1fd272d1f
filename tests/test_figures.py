"""core.outputs.figures, the one home of every chart: colours (distinct, never grey, the same
for the same runs), legends outside the plot, LSTM and GRU told apart by line style and
marker, the baseline as a labelled line, whole-number axes, the piano roll."""
from __future__ import annotations

import colorsys

import pandas as pd
import pytest
from music21 import stream

from core.data.notes import note_table

from core.outputs.figures import (
    CELL_DASH,
    CELL_MARKERS,
    MIN_LOSS_SPAN,
    NOTE_GAP,
    PALETTE,
    PART_COLOURS,
    axis_title,
    band_figure,
    curve_figure,
    nice_axis,
    overlap_figure,
    parallel_figure,
    piano_roll,
    pitch_name,
    pitch_span,
    series_colours,
)
from tests.fixtures import make_part


def saturation(colour: str) -> float:
    """HLS saturation of '#rrggbb': near 0 for greys and near-black."""
    rgb = [int(colour[i:i + 2], 16) / 255 for i in (1, 3, 5)]
    return colorsys.rgb_to_hls(*rgb)[2]


def long_curves(runs: dict[str, str], epochs: int = 3) -> pd.DataFrame:
    """core.evidence.curves long rows of one metric: {run_id: cell}, training and held-out."""
    rows = [dict(run_id=r, run=f"run {r}", cell=cell, epoch=e, elapsed=float(e), split=split,
                 metric="loss", value=1.0 / e + (0.1 if split == "held-out" else 0.0))
            for r, cell in runs.items() for e in range(1, epochs + 1)
            for split in ("train", "held-out")]
    return pd.DataFrame(rows)


def test_palette_colours_are_distinct_and_not_grey():
    assert len(set(PALETTE)) == len(PALETTE) >= 12
    assert min(saturation(c) for c in PALETTE) > 0.3


def test_a_run_keeps_its_colour_whatever_order_the_runs_come_in():
    ids = [f"2026-run-{i:02d}" for i in range(12)]
    assert series_colours(ids) == series_colours(reversed(ids))
    assert len(set(series_colours(ids).values())) == 12


def test_curves_one_legend_entry_per_run_splits_side_by_side_cells_by_line_style():
    runs = {f"r{i}": ("lstm" if i < 5 else "gru") for i in range(10)}
    fig = curve_figure(long_curves(runs), "loss").to_plotly_json()
    traces = fig["data"]
    assert len(traces) == 20                                   # a train and held-out each
    shown = [t for t in traces if t.get("showlegend", True)]
    assert sorted(t["legendgroup"] for t in shown) == sorted(runs)
    colours = {t["legendgroup"]: t["line"]["color"] for t in traces}
    assert colours == series_colours(runs) and len(set(colours.values())) == 10
    for trace in traces:   # training left, held-out right; LSTM solid circles, GRU dashed diamonds
        cell = runs[trace["legendgroup"]]
        assert trace["line"]["dash"] == CELL_DASH[cell]
        assert trace["marker"]["symbol"] == CELL_MARKERS[cell]
    assert CELL_DASH["lstm"] != CELL_DASH["gru"]
    held = [t for t in traces if ", held-out" in t["hovertemplate"]]
    assert {t["xaxis"] for t in held} == {"x2"} and len(held) == 10
    layout = fig["layout"]
    assert [a["text"] for a in layout["annotations"]] == ["training windows", "held-out pieces"]
    assert layout["legend"]["y"] < 0                     # under the axes, not over them
    assert "LSTM solid" in layout["legend"]["title"]["text"]
    assert layout["xaxis"]["tickformat"] == "d" and layout["xaxis"]["dtick"] == 1
    fewer = curve_figure(long_curves({"r0": "lstm"}), "loss").layout
    assert layout["height"] > fewer.height               # room for every entry


def test_baselines_are_dotted_lines_named_in_the_legend_never_over_the_curves():
    data = long_curves({"a": "lstm", "b": "gru"})
    fig = curve_figure(data, axis_title("accuracy"),
                       baselines=[('always "_" <b>: 0.767', 0.767)])
    curves, (entry,) = fig.data[:4], fig.data[4:]          # the runs' curves, then one entry
    assert all(len(t.y) == 3 for t in curves)
    line, = fig.layout.shapes
    assert line.y0 == line.y1 == 0.767 and line.line.dash == "dot"
    assert line.xref == "x2 domain"                       # the held-out panel
    assert entry.name == 'always "_" &lt;b&gt;: 0.767'    # escaped: plotly reads markup
    assert list(entry.x) == [None] and entry.line.dash == "dot" and entry.hoverinfo == "skip"
    # no words on the plotting area: the only annotations are the panels' titles
    assert [a.text for a in fig.layout.annotations] == ["training windows", "held-out pieces"]
    assert fig.layout.yaxis.title.text == "accuracy (share of next symbols right)"
    assert axis_title("loss") == "cross-entropy loss (nats)"
    assert fig.layout.height > curve_figure(data, "accuracy").layout.height  # room for it


def test_parallel_axes_of_whole_numbers_tick_whole_numbers():
    frame = pd.DataFrame({"units": [16, 19, 16], "layers": [1, 2, 3],
                          "learning_rate": [0.002, 0.001, 0.002], "cell": [0, 1, 1],
                          "best loss": [1.0, 0.8, 0.9]})
    dims = parallel_figure(frame, ["units", "layers", "learning_rate"]).data[0].dimensions
    assert list(dims[1].tickvals) == [1, 2, 3] and list(dims[1].ticktext) == ["1", "2", "3"]
    assert list(dims[0].ticktext) == ["16", "19"]
    assert dims[2].tickvals is None and dims[2].tickformat == ".3~g"  # a rate: 3 digits
    assert dims[-1].label == "best loss (nats)"


def test_a_loss_spread_of_a_thousandth_is_not_stretched_to_the_axis_height():
    """Sweep trials 0.0008 nats apart span at least MIN_LOSS_SPAN on the loss axis and the
    colour scale, ticked at round values with two decimals, never eight."""
    frame = pd.DataFrame({"units": [16, 32, 64], "cell": [0, 1, 1],
                          "best loss": [1.06120001, 1.0617, 1.06200002]})
    fig = parallel_figure(frame, ["units"])
    loss = fig.data[0].dimensions[-1]
    low, high = loss.range
    assert high - low >= MIN_LOSS_SPAN and low <= 1.0612 and high >= 1.062
    assert list(loss.ticktext) == ["1.02", "1.04", "1.06", "1.08", "1.10"]
    assert list(loss.tickvals) == pytest.approx([1.02, 1.04, 1.06, 1.08, 1.10])
    assert (fig.data[0].line.cmin, fig.data[0].line.cmax) == (low, high)
    wide = parallel_figure(frame.assign(**{"best loss": [0.8, 1.1, 1.4]}), ["units"])
    assert list(wide.data[0].dimensions[-1].range) == [0.8, 1.4]     # a real spread: as is
    assert nice_axis(2.3, 2.9)[2] == ["2.2", "2.4", "2.6", "2.8", "3.0"]


def test_curves_take_given_colours_and_wall_time():
    data = long_curves({"a": "lstm", "b": "gru"})
    fig = curve_figure(data, "loss", x="elapsed", x_title="wall time (s)",
                       colours={"a": "#123456", "b": "#654321"})
    assert {t.line.color for t in fig.data} == {"#123456", "#654321"}
    assert fig.layout.xaxis.title.text == "wall time (s)"


def test_band_figure_fills_a_band_around_each_mean():
    bands = pd.DataFrame([dict(group=g, cell=c, split=s, epoch=e, seeds=2, mean=1.0 / e,
                               low=0.8 / e, high=1.2 / e)
                          for g, c in (("LSTM · 2 seeds", "lstm"), ("GRU · 2 seeds", "gru"))
                          for s in ("train", "held-out") for e in (1, 2, 3)])
    fig = band_figure(bands, "loss", "min–max")
    fills = [t for t in fig.data if t.fill == "toself"]
    means = [t for t in fig.data if t.fill != "toself"]
    assert len(fills) == len(means) == 4
    assert {t.name for t in means if t.showlegend} == {"LSTM · 2 seeds", "GRU · 2 seeds"}
    lstm = [t for t in fills if t.legendgroup == "LSTM · 2 seeds"][0]
    assert list(lstm.y) == pytest.approx([1.2, 0.6, 0.4, 0.8 / 3, 0.4, 0.8])  # high, low back


def test_piano_roll_draws_each_part_and_where_its_seed_ends():
    notes = pd.DataFrame({"part": ["lead", "lead", "accompaniment"], "start": [0.0, 1.0, 0.0],
                          "end": [1.0, 3.0, 4.0], "pitch": [72, 74, 48]})
    fig = piano_roll(notes, {"lead": 2.0, "accompaniment": 2.0})
    assert [t.name for t in fig.data] == ["accompaniment", "lead"]  # the lead drawn on top
    lead = fig.data[1]
    assert list(lead.base) == [0.0, 1.0]
    assert list(lead.x) == pytest.approx([1.0 - NOTE_GAP, 2.0 - NOTE_GAP])  # a hair short
    assert lead.marker.color == PART_COLOURS["lead"]
    assert [row[0] for row in lead.customdata] == ["C5", "D5"]
    assert [s.x0 for s in fig.layout.shapes] == [2.0]          # one line: both seeds end at 2
    assert list(fig.layout.xaxis.range) == [0, 4.0]            # start to the last note's end
    assert list(piano_roll(notes).layout.xaxis.range) == [0, 4.0]   # no seed line either
    assert fig.layout.legend.y < 0
    assert pitch_name(61) == "C#4" and pitch_name(70) == "B-4"


def test_the_piano_roll_draws_a_repeated_note_as_separate_bars_as_the_score_has_them():
    """A note repeated on beats 4, 5 and 6 is three rows of the note table (the notes CSV a
    sample writes) and three bars, each ending before the next begins; a note held over the
    same beats is one bar. The hover gives each note's own start and end."""
    score = stream.Score([make_part([(67, 3.0), (69, 1.0), (69, 1.0), (69, 1.0), (71, 0.25),
                                     (71, 0.25), (72, 3.0)], name="Lead")])
    notes = note_table(score)
    fig = piano_roll(notes)
    (lead,) = fig.data
    bars = pd.DataFrame({"start": lead.base, "end": [s + x for s, x in zip(lead.base, lead.x)],
                         "pitch": lead.y})
    assert len(bars) == len(notes) == 7
    repeated = bars[bars["pitch"] == 69]
    assert repeated["start"].tolist() == [3.0, 4.0, 5.0]
    assert (repeated["end"].to_numpy() < [4.0, 5.0, 6.0]).all()    # a gap before each next
    sixteenths = bars[bars["pitch"] == 71]
    assert sixteenths["start"].tolist() == [6.0, 6.25]
    assert (sixteenths["end"].to_numpy() < [6.25, 6.5]).all()
    assert (sixteenths["end"] - sixteenths["start"] >= 0.8 * 0.25).all()  # most of a 16th
    # the hover is the note table's own start and end, row for row
    assert [tuple(row[1:]) for row in lead.customdata] == \
        list(zip(notes["start"], notes["end"]))
    held = piano_roll(note_table(stream.Score([make_part([(69, 3.0)], name="Lead")])))
    assert len(held.data[0].base) == 1


def test_rolls_shown_together_share_one_pitch_axis_and_length():
    low = pd.DataFrame({"part": ["lead"], "start": [0.0], "end": [2.0], "pitch": [50]})
    high = pd.DataFrame({"part": ["lead"], "start": [0.0], "end": [8.0], "pitch": [80]})
    span = pitch_span([low, high])
    assert span == (49, 81)
    fig = piano_roll(low, pitch_range=span, quarters=8.0)
    assert list(fig.layout.yaxis.range) == [49, 81] and list(fig.layout.xaxis.range) == [0, 8]
    assert pitch_span([low.iloc[0:0]]) is None


def test_overlap_figure_a_bar_per_decoding_and_metric():
    comparison = pd.DataFrame({"decoding": ["greedy", "greedy", "temperature-t0.65",
                                            "temperature-t0.65"],
                               "metric": ["pitch_range", "polyphony"] * 2,
                               "overlapping_area": [0.2, 0.5, 0.7, 0.9]})
    fig = overlap_figure(comparison, {"temperature-t0.65": "temperature t=0.65"},
                         {"pitch_range": "pitch range (semitones)"})
    assert [t.name for t in fig.data] == ["greedy", "temperature t=0.65"]
    assert list(fig.data[1].x) == [0.7, 0.9]
    assert list(fig.data[0].y) == ["pitch range (semitones)", "polyphony"]
    assert len({t.marker.color for t in fig.data}) == 2
