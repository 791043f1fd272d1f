"""Listen page, side-by-side section: choose a seed (a held-out piece, the bundled demo MIDI
or the user's file) and a length, generate with every decoding, and show each sample (in a
row of its own, or side by side in columns): engraved score scaled to its space, piano roll,
audio, downloads named in full, and a few metrics per decoding. Earlier samples of the
chosen runs are reopened from their folders, or deleted.

core.sampling.generation.generate writes every file of a sample under the run; this section
only reads them back through core.runs.samples and core.evidence.measure.
"""
from __future__ import annotations

import re
import time
from datetime import datetime
from pathlib import Path

import pandas as pd
import streamlit as st

from core.assets import DEMO_SEED, asset_path
from core.data.uploads import UploadError, save_upload
from core.evidence.measure import generated_quarters, sample_metrics, sample_notes
from core.files import RunFileError, file_stamp
from core.nets.config import OBJECTIVES
from core.outputs.figures import piano_roll
from core.rendering.engraving import scalable_svg
from core.rendering.score import RenderError
from core.runs.deletion import DeletionError, delete_sample
from core.runs.record import Run, RunError
from core.runs.samples import list_samples, read_sample, sample_file, sample_pages
from core.sampling.decoding import Decoding, GenerationError
from core.sampling.generation import MAX_STEPS, generate
from views.common import METRIC_TITLES, cache_dir, readable, runs_dir, uploads_dir
from views.listen_decodings import method_form, methods_used

SHOWN = "listen_shown"          # session_state: sample folders shown side by side
TIMINGS = "listen_timings"      # session_state: one row per Generate press (method, seconds)
SEED_SUFFIXES = ["mid", "midi", "xml", "musicxml", "mxl"]
HELD_OUT, DEMO, FILE = "held-out piece", "demo MIDI file", "your MIDI file"
MAX_COLUMNS = 5
LAYOUT = "listen_layout"        # session_state: "rows" or "columns"
LAYOUTS = {"rows": "one sample per row (readable scores)",
           "columns": "side by side (scores shrunk to their column)"}
COLUMNS_UP_TO = 2               # samples shown side by side unless the user says otherwise
DOWNLOADS = (("midi", "MIDI", "audio/midi"),
             ("musicxml", "MusicXML", "application/vnd.recordare.musicxml+xml"),
             ("wav", "WAV", "audio/wav"))


# --------------------------------------------------------------------------- seeds

def held_out_pieces(run_id: str) -> list[str]:
    """The run's held-out pieces, as its record names them (core.runs.record.Run)."""
    try:
        return Run(runs_dir() / run_id).held_out_pieces
    except RunError:
        return []


def _save_seed(upload) -> Path:
    """The uploaded seed file under uploads/.seeds (hidden from the Corpus page's list of
    uploaded corpora); an identical earlier upload is reused."""
    saved = save_upload(upload.name, upload.getvalue(), uploads_dir() / ".seeds")
    if not saved:
        raise UploadError(upload.name, "nothing could be saved")
    return Path(saved[0])


def seed_choice(first: str | None, s1, s2) -> tuple[str, str | None, object]:
    """(source, held-out piece name or None, upload or None) from the seed widgets, drawn
    in columns s1 (the source) and s2 (the piece, the demo file or the uploader)."""
    source = s1.radio("Seed from", [HELD_OUT, DEMO, FILE], key="listen_seed_source",
                      help="generation starts from the first window of this piece")
    if source == HELD_OUT:
        pieces = held_out_pieces(first) if first else []
        if pieces:
            return source, s2.selectbox("Seed piece (held out from training)", pieces,
                                        key="listen_seed_piece"), None
        s2.caption("This run held no piece out: the first piece of its corpus seeds it.")
        return source, None, None
    if source == DEMO:
        demo = asset_path(DEMO_SEED)
        s2.caption("The first bars of Bach's chorale BWV 1.6, soprano as the lead and the "
                   "lower voices as the accompaniment: the first piece of the default corpus, "
                   "so it fits any run trained on the chorales.")
        s2.download_button(f"Download {demo.name}", demo.read_bytes(), file_name=demo.name,
                           mime="audio/midi", key="listen_demo_download",
                           icon=":material/download:")
        return source, None, None
    return source, None, s2.file_uploader(
        "Seed file", type=SEED_SUFFIXES, key="listen_seed_file",
        help="its first window seeds generation; its symbols must be in the run's vocabulary")


# --------------------------------------------------------------------------- generating

def _objective(runs: pd.DataFrame, run_id: str) -> str:
    row = runs[runs["run_id"] == run_id]
    value = row["objective"].iloc[0] if "objective" in row and len(row) else None
    return value if value in OBJECTIVES else "window"


def side_by_side(runs: pd.DataFrame, chosen: dict[str, str], labels: dict[str, str],
                 decodings: list[Decoding], errors: list[str], seed: int) -> None:
    """The seed, length and method; Generate; then the samples side by side."""
    first = next(iter(chosen.values()), None)
    s1, s2, s3 = st.columns([1.2, 2, 1])
    source, seed_piece, upload = seed_choice(first, s1, s2)
    steps = s3.number_input("Length (steps)", 1, MAX_STEPS, 64, key="listen_steps",
                            help="symbols to generate per part: 16th notes for Model 1, "
                                 "events for Model 2")
    objectives = {p: _objective(runs, r) for p, r in chosen.items()}
    method = method_form(objectives, decodings)
    ready = (bool(chosen) and bool(decodings) and not errors
             and (source != FILE or upload is not None))
    if st.button("Generate", type="primary", disabled=not ready, key="listen_generate"):
        try:
            seed_file = (_save_seed(upload) if upload is not None
                         else asset_path(DEMO_SEED) if source == DEMO else None)
            run_generation(chosen, labels, decodings, seed, int(steps), method, objectives,
                           seed_piece, seed_file)
        except (GenerationError, RunError, UploadError) as exc:
            st.error(f"Cannot generate: {exc}")
        except RenderError as exc:
            st.error(f"Generated, but the sample could not be rendered: {exc}")
        except Exception as exc:  # noqa: BLE001 - show any failure instead of a dead page
            st.error(f"Generation failed ({type(exc).__name__}): {exc}")
    show_timings()
    earlier(chosen)
    shown = [f for f in st.session_state.get(SHOWN, []) if Path(f).exists()]
    if shown:
        st.divider()
        show_samples(shown)


def run_generation(chosen: dict[str, str], labels: dict[str, str], decodings: list[Decoding],
                   seed: int, steps: int, method: str, objectives: dict[str, str],
                   seed_piece: str | None, seed_file: Path | None) -> None:
    """core's generate with every decoding; the samples are shown and the time noted."""
    with st.spinner(f"Generating {steps} steps with {len(decodings)} decoding(s) and "
                    "rendering..."):
        started = time.perf_counter()
        samples = generate(runs={p: runs_dir() / r for p, r in chosen.items()}, steps=steps,
                           decodings=decodings, seed=seed, seed_piece=seed_piece,
                           seed_file=seed_file, cache_dir=cache_dir(), method=method)
        seconds = time.perf_counter() - started
    st.session_state[SHOWN] = [str(s.folder) for s in samples]
    st.session_state.setdefault(TIMINGS, []).append({
        "at": datetime.now().strftime("%H:%M:%S"), "method": method,
        "used": methods_used(objectives, decodings, method),
        "runs": ", ".join(labels.get(r, r) for r in chosen.values()),
        "decodings": ", ".join(d.title for d in decodings),
        "samples": len(samples), "steps": steps, "seconds": seconds,
        "generating": sum(s.generation_seconds for s in samples)})


def show_timings() -> None:
    """How long the last generation took, and every earlier one of this session."""
    timings = st.session_state.get(TIMINGS, [])
    if not timings:
        return
    last = timings[-1]
    st.caption(f"Last generation took **{last['generating']:.2f} s** choosing the symbols of "
               f"{last['samples']} sample(s) of {last['steps']} steps, method {last['method']} "
               f"({last['used']}); {last['seconds']:.1f} s in all with loading the models and "
               "rendering score and audio.")
    if len(timings) > 1:
        with st.expander(f"Generation times this session ({len(timings)})"):
            st.dataframe(pd.DataFrame(timings[::-1]), hide_index=True, width="stretch",
                         key="listen_timings_table",
                         column_order=["at", "method", "generating", "seconds", "samples",
                                       "steps", "decodings", "used", "runs"],
                         column_config={
                             "seconds": st.column_config.NumberColumn("all (s)", format="%.2f"),
                             "generating": st.column_config.NumberColumn("generating (s)",
                                                                         format="%.2f")})


def earlier(chosen: dict[str, str]) -> None:
    """Reopen earlier samples of the chosen runs side by side, or delete them."""
    samples = []
    for run_id in dict.fromkeys(chosen.values()):
        samples.extend(list_samples(runs_dir() / run_id))
    if not samples:
        return
    by_folder = {s["folder"]: s for s in samples}

    def describe(folder: str) -> str:
        s = by_folder[folder]
        return (f"{s.get('created', '?')} · {Decoding.from_dict(s.get('decoding')).title} · "
                f"{s.get('seed_source', '?')} · {s.get('steps')} steps · seed {s.get('seed')}")

    with st.expander(f"Earlier samples of these runs ({len(samples)})"):
        picked = st.multiselect("Samples", list(by_folder), key="listen_earlier",
                                format_func=describe)
        left, middle, right = st.columns([1, 1.6, 1], vertical_alignment="center")
        if left.button("Open", disabled=not picked, key="listen_open"):
            st.session_state[SHOWN] = list(picked)
        sure = middle.checkbox(f"Yes, delete the {len(picked)} picked sample(s) for good",
                               key="listen_delete_sure", disabled=not picked)
        if right.button("Delete", disabled=not (picked and sure), key="listen_delete",
                        icon=":material/delete:"):
            delete_samples(picked)


def delete_samples(folders: list[str]) -> None:
    """core.runs.deletion.delete_sample of each folder; the page forgets them."""
    for folder in folders:
        try:
            delete_sample(folder, runs_dir())
        except DeletionError as exc:
            st.error(f"Not deleted: {exc}")
    st.session_state[SHOWN] = [f for f in st.session_state.get(SHOWN, []) if Path(f).exists()]
    for key in ("listen_earlier", "listen_delete_sure"):
        st.session_state.pop(key, None)
    st.rerun()


# --------------------------------------------------------------------------- showing

@st.cache_data(show_spinner=False, max_entries=64)
def _score_markup(pages: tuple[str, ...], stamp: int) -> str:
    """Every engraved page of a sample, inline, in one scrolling white frame whose pages
    shrink to its width (app.css)."""
    svgs = [scalable_svg(re.sub(r"^<\?xml[^>]*>\s*", "", Path(p).read_text(encoding="utf-8")))
            for p in pages]
    return f"<div class='score-frame'>{''.join(svgs)}</div>"


@st.cache_data(show_spinner=False, max_entries=64)
def _metrics(folder: str, stamp: int) -> dict[str, float]:
    return sample_metrics(read_sample(folder))


def metrics_table(samples: list[dict]) -> None:
    """A few music metrics of each sample's generated continuation, a row per decoding."""
    rows = []
    for sample in samples:
        row = {"decoding": Decoding.from_dict(sample.get('decoding')).title}
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


def show_samples(folders: list[str]) -> None:
    """The metrics table, then the samples: a row each, or side by side (at most
    MAX_COLUMNS a row), as the layout radio says."""
    samples = []
    for folder in folders:
        try:
            samples.append(read_sample(folder))
        except RunFileError as exc:
            st.warning(str(exc))
    if not samples:
        return
    metrics_table(samples)
    if LAYOUT not in st.session_state:
        st.session_state[LAYOUT] = "columns" if len(samples) <= COLUMNS_UP_TO else "rows"
    layout = st.radio("Layout", list(LAYOUTS), format_func=LAYOUTS.get, horizontal=True,
                      key=LAYOUT)
    if layout == "rows":
        for index, sample in enumerate(samples):
            with st.container(border=True):
                score, rest = st.columns([3, 2])
                show_sample(score, rest, sample, index)
        return
    for start in range(0, len(samples), MAX_COLUMNS):
        chunk = samples[start:start + MAX_COLUMNS]
        for offset, (column, sample) in enumerate(zip(st.columns(len(chunk)), chunk)):
            show_sample(column, column, sample, start + offset)


def _roll(column, sample: dict, index: int) -> None:
    """The sample's piano roll, and a warning for a part whose seed fills the piece."""
    try:
        notes = sample_notes(sample)
        column.plotly_chart(piano_roll(notes, sample.get("seed_quarters") or {}),
                            key=f"listen_roll_{index}")
        for part, quarters in generated_quarters(sample).items():
            if quarters <= 0:
                column.warning(f"Nothing generated for the {part} is heard: its seed window "
                               "lasts as long as the piece, which is cut to its shorter part."
                               " Generate more steps.")
    except (RunFileError, OSError, ValueError) as exc:
        column.warning(f"No piano roll: {exc}")


def show_sample(head, side, sample: dict, index: int) -> None:
    """One sample: what made it and its score in `head`; piano roll, audio and downloads in
    `side` (the same column when side by side). Each download names its file type in full,
    on a line of its own when the column is narrow."""
    folder = Path(sample["folder"])
    head.subheader(Decoding.from_dict(sample.get('decoding')).title)
    runs = ", ".join(f"{p}: {r}" for p, r in (sample.get("runs") or {}).items())
    head.caption(f"{sample.get('seed_source', '?')} · {sample.get('steps')} steps · "
                 f"seed {sample.get('seed')} · {sample.get('created', '')}  \n{runs}")
    pages = sample_pages(sample)
    if pages:
        head.markdown(_score_markup(tuple(map(str, pages)), file_stamp(folder, "sample.json")),
                      unsafe_allow_html=True)
    else:
        head.warning("No engraved score was written for this sample.")
    _roll(side, sample, index)
    wav = sample_file(sample, "wav")
    if wav is not None:
        side.audio(wav.read_bytes(), format="audio/wav")
    else:
        side.warning("No audio: the WAV was not rendered (is FluidSynth installed?).")
    wide = head is not side
    for place, (kind, label, mime) in zip(side.columns(len(DOWNLOADS)) if wide
                                          else [side] * len(DOWNLOADS), DOWNLOADS):
        path = sample_file(sample, kind)
        if path is None:
            place.caption(f"no {label} file")
        else:
            place.download_button(label, path.read_bytes(), file_name=f"{folder.name}"
                                  f"{path.suffix}", mime=mime, key=f"listen_dl_{kind}_{index}",
                                  width="stretch", icon=":material/download:")
    side.caption(f"`{folder}`")
