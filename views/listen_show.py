"""Listen page, the samples shown below Generate: a few metrics per decoding, then each sample
(what made it, its engraved score, its piano roll, a player and its downloads) in a row of its
own, or side by side.

Side by side lines the samples up aspect by aspect, up to MAX_COLUMNS a block: titles, then
scores, then piano rolls, then players, then downloads, each aspect one row of columns, so a
taller title never pushes one column's roll below its neighbour's. Scores keep a readable
size and scroll in their frame rather than shrink to thumbnails; every piano roll on the page
shares one pitch axis and one length, so a higher or longer line is higher or longer on the
screen; players get a column's width, enough for a seek bar. What the samples share (seed,
length, runs) is said once above them.

Everything shown is read from the samples' folders (core.runs.samples, core.evidence.measure).
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import streamlit as st

from core.evidence.measure import generated_quarters, sample_metrics, sample_notes
from core.files import RunFileError, file_stamp
from core.outputs.figures import piano_roll, pitch_span
from core.rendering.engraving import scalable_svg
from core.runs.listing import local_times
from core.runs.samples import read_sample, sample_file, sample_pages
from core.sampling.decoding import Decoding
from views.common import KEEP, METRIC_TITLES, readable

MAX_COLUMNS = 3                 # samples side by side: a player keeps its seek bar at 1400 px
LAYOUT = "listen_layout"        # session_state: "rows" or "columns"
LAYOUTS = {"rows": "one sample per row", "columns": "side by side"}
COLUMNS_UP_TO = 3               # samples shown side by side unless the user says otherwise
DOWNLOADS = (("midi", "MIDI", "audio/midi"),
             ("musicxml", "MusicXML", "application/vnd.recordare.musicxml+xml"),
             ("wav", "WAV", "audio/wav"))
SHARED = ("seed_source", "steps", "seed", "runs")   # said once when every sample has the same


@st.cache_data(show_spinner=False, max_entries=64)
def _score_markup(pages: tuple[str, ...], stamp: int, scroll: bool) -> str:
    """Every engraved page of a sample, inline, in one scrolling white frame (app.css): its
    pages shrink to the frame's width, or with `scroll` keep a readable width and scroll."""
    svgs = [scalable_svg(re.sub(r"^<\?xml[^>]*>\s*", "", Path(p).read_text(encoding="utf-8")))
            for p in pages]
    return f"<div class='score-frame{' scroll' if scroll else ''}'>{''.join(svgs)}</div>"


@st.cache_data(show_spinner=False, max_entries=64)
def _metrics(folder: str, stamp: int) -> dict[str, float]:
    return sample_metrics(read_sample(folder))


def title(sample: dict) -> str:
    return Decoding.from_dict(sample.get("decoding")).title


def metrics_table(samples: list[dict]) -> None:
    """A few music metrics of each sample's generated continuation, a row per decoding."""
    rows = []
    for sample in samples:
        row = {"decoding": title(sample)}
        try:
            stamp = file_stamp(sample["folder"], "sample.json")
            row.update({METRIC_TITLES[k]: v for k, v in
                        _metrics(sample["folder"], stamp).items()})
        except (RunFileError, OSError, ValueError) as exc:
            row["note"] = f"metrics unavailable: {exc}"
        rows.append(row)
    st.markdown("**Music metrics of the generated continuation** (seed left out)")
    st.dataframe(readable(pd.DataFrame(rows), 2), hide_index=True, width="stretch",
                 key="listen_metrics")
    st.caption("Scale consistency near 1: stays in one key. Loop share: part of the lead's "
               "symbols inside an exact repeat of 8 or more (greedy decoding tends to 1). "
               "Consonance: lead onsets consonant with the sounding accompaniment. "
               "–: not measurable (no notes after the seed, or only one part).")


def _notes(samples: list[dict]) -> dict[str, pd.DataFrame | str]:
    """Each sample's note table by folder, or why it has none."""
    found = {}
    for sample in samples:
        try:
            found[sample["folder"]] = sample_notes(sample)
        except (RunFileError, OSError, ValueError) as exc:
            found[sample["folder"]] = str(exc)
    return found


def _shared(samples: list[dict]) -> set[str]:
    """The fields of SHARED every sample has alike (with more than one sample)."""
    if len(samples) < 2:
        return set()
    return {f for f in SHARED if all(s.get(f) == samples[0].get(f) for s in samples)}


def describe(sample: dict, fields) -> str:
    """What made the sample, as much of it as `fields` names."""
    parts = [str(sample.get("seed_source", "?")) if "seed_source" in fields else "",
             f"{sample.get('steps')} steps" if "steps" in fields else "",
             f"random seed {sample.get('seed')}" if "seed" in fields else ""]
    text = " · ".join(p for p in parts if p)
    if "runs" in fields:
        runs = ", ".join(f"{p}: {r}" for p, r in (sample.get("runs") or {}).items())
        text += f"  \n{runs}" if text else runs
    return text


@dataclass(frozen=True)
class View:
    """What every sample on the page is drawn with: the note tables (or why none), the piano
    rolls' shared axes, what all samples share, and whether scores scroll (side by side)."""

    notes: dict[str, pd.DataFrame | str]
    axes: dict[str, Any]
    shared: set[str]
    scroll: bool


def show_samples(folders: list[str]) -> None:
    """The metrics table, then the samples: a row each, or side by side, as the layout radio
    says (side by side by default up to COLUMNS_UP_TO samples)."""
    samples = []
    for folder in folders:
        try:
            samples.append(read_sample(folder))
        except RunFileError as exc:
            st.warning(str(exc))
    if not samples:
        return
    metrics_table(samples)
    layout = st.radio("Layout", list(LAYOUTS), format_func=LAYOUTS.get, horizontal=True,
                      index=int(len(samples) <= COLUMNS_UP_TO), key=LAYOUT, **KEEP)
    notes = _notes(samples)
    tables = [n for n in notes.values() if isinstance(n, pd.DataFrame) and len(n)]
    view = View(notes, {"pitch_range": pitch_span(tables),
                        "quarters": max((float(n["end"].max()) for n in tables), default=None)},
                _shared(samples), layout == "columns")
    if view.shared:
        st.caption(f"All {len(samples)}: {describe(samples[0], view.shared)}")
    if layout == "rows":
        for index, sample in enumerate(samples):
            with st.container(border=True):
                head, side = st.columns([3, 2])
                for place, aspect in ((head, _head), (head, _score), (side, _roll),
                                      (side, _player), (side, _downloads)):
                    aspect(place, sample, index, view)
        return
    for start in range(0, len(samples), MAX_COLUMNS):
        block = samples[start:start + MAX_COLUMNS]
        for aspect in (_head, _score, _roll, _player, _downloads):  # one row each: aligned
            for offset, (column, sample) in enumerate(zip(st.columns(MAX_COLUMNS), block)):
                aspect(column, sample, start + offset, view)


def _head(place, sample: dict, index: int, view: View) -> None:
    """The decoding as the title, and what made the sample that the others do not share."""
    place.subheader(title(sample))
    own = describe(sample, [f for f in SHARED if f not in view.shared])
    made = local_times(pd.Series([sample.get("created")])).iloc[0]
    when = "" if pd.isna(made) else f"made {made:%Y-%m-%d %H:%M:%S}"
    place.caption(f"{own}  \n{when}" if own else when)


def _score(place, sample: dict, index: int, view: View) -> None:
    pages = sample_pages(sample)
    if pages:
        place.markdown(_score_markup(tuple(map(str, pages)),
                                     file_stamp(sample["folder"], "sample.json"), view.scroll),
                       unsafe_allow_html=True)
    else:
        place.warning("No engraved score was written for this sample.")


def _roll(place, sample: dict, index: int, view: View) -> None:
    """The sample's piano roll on the page's shared axes, and a warning for a part whose
    seed fills the piece."""
    notes = view.notes[sample["folder"]]
    if isinstance(notes, str):
        place.warning(f"No piano roll: {notes}")
        return
    place.plotly_chart(piano_roll(notes, sample.get("seed_quarters") or {}, **view.axes),
                       key=f"listen_roll_{index}")
    for part, quarters in generated_quarters(sample).items():
        if quarters <= 0:
            place.warning(f"Nothing generated for the {part} is heard: its seed window lasts "
                          "as long as the piece, which is cut to its shorter part. Generate "
                          "more steps.")


def _player(place, sample: dict, index: int, view: View) -> None:
    wav = sample_file(sample, "wav")
    if wav is not None:
        place.audio(wav.read_bytes(), format="audio/wav", width="stretch")
    else:
        place.warning("No audio: the WAV was not rendered (is FluidSynth installed?).")


def _downloads(place, sample: dict, index: int, view: View) -> None:
    """MIDI / MusicXML / WAV in a row that wraps, each button as wide as its name, so a
    name is never cut ("Mus…") in a third of the page; then the sample's folder."""
    folder = Path(sample["folder"])
    row = place.container(horizontal=True)
    for kind, label, mime in DOWNLOADS:
        path = sample_file(sample, kind)
        if path is None:
            row.caption(f"no {label} file")
        else:
            row.download_button(label, path.read_bytes(), file_name=f"{folder.name}"
                                f"{path.suffix}", mime=mime, width="content",
                                key=f"listen_dl_{kind}_{index}", icon=":material/download:")
    place.caption(f"`{folder}`")
