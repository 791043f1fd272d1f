"""Listen page, side-by-side section: choose a seed (a held-out piece, the bundled demo MIDI
or the user's file) and a length, generate with every decoding, and show the samples
(views/listen_show.py). Earlier samples of the chosen runs are reopened from their folders, or
deleted.

The samples shown outlive the page: kept in the session when the user goes to another page
and back, and in the address (`?samples=<run id>/<sample id>`), so a reload or a shared link
shows them again; a sample deleted since is left out without a word.

core.sampling.generation.generate writes every file of a sample under the run; this section
only reads them back through core.runs.samples.
"""
from __future__ import annotations

import time
from datetime import datetime
from pathlib import Path

import pandas as pd
import streamlit as st

from core.assets import DEMO_SEED, asset_path
from core.data.uploads import UploadError, save_upload
from core.nets.config import OBJECTIVES
from core.rendering.score import RenderError
from core.runs.deletion import DeletionError, delete_sample
from core.runs.record import Run, RunError
from core.runs.samples import find_sample, list_samples, sample_ref
from core.sampling.decoding import Decoding, GenerationError
from core.sampling.generation import MAX_STEPS, generate
from views.common import (
    KEEP,
    cache_dir,
    checklist,
    confirm_delete,
    forget_checklist,
    runs_dir,
    uploads_dir,
)
from views.listen_decodings import method_form, methods_used
from views.listen_show import show_samples

SHOWN = "listen_shown"          # session_state: the folders of the samples shown
SHOWN_PARAM = "samples"         # the address's copy of them: <run id>/<sample id>, repeated
TIMINGS = "listen_timings"      # session_state: one row per Generate press (method, seconds)
EARLIER = "listen_earlier"      # the checklist of earlier samples (views.common)
SEED_SUFFIXES = ["mid", "midi", "xml", "musicxml", "mxl"]
HELD_OUT, DEMO, FILE = "held-out piece", "demo MIDI file", "your MIDI file"


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
                      help="generation starts from the first window of this piece", **KEEP)
    if source == HELD_OUT:
        pieces = held_out_pieces(first) if first else []
        if pieces:
            return source, s2.selectbox("Seed piece (held out from training)", pieces,
                                        key="listen_seed_piece", **KEEP), None
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
    steps = s3.number_input("Length (steps)", 1, MAX_STEPS, 64, key="listen_steps", **KEEP,
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
    shown = shown_samples()
    if shown:
        st.divider()
        show_samples(shown)


def shown_samples() -> list[str]:
    """The folders of the samples to show: this session's, else those the address names (a
    reload, a shared link); a sample deleted since is dropped without a word. The address
    is kept in step, so a reload shows what is shown now."""
    if SHOWN not in st.session_state:
        found = (find_sample(ref, runs_dir()) for ref in st.query_params.get_all(SHOWN_PARAM))
        st.session_state[SHOWN] = [str(f) for f in found if f is not None]
    shown = [f for f in st.session_state[SHOWN] if find_sample(sample_ref(f), runs_dir())]
    st.session_state[SHOWN] = shown
    refs = [sample_ref(f) for f in shown]
    if st.query_params.get_all(SHOWN_PARAM) != refs:
        st.query_params[SHOWN_PARAM] = refs
    return shown


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
        picked = checklist({f: describe(f) for f in by_folder}, EARLIER,
                           "part of a line: greedy, top_p, bwv103, 32 steps…")
        left, middle, right = st.columns([1, 1.6, 1], vertical_alignment="center")
        if left.button("Open", disabled=not picked, key="listen_open"):
            st.session_state[SHOWN] = list(picked)
        sure = confirm_delete(middle, EARLIER, len(picked), "picked sample(s)")
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
    forget_checklist(EARLIER)   # the page drops deleted samples from those shown itself
    st.rerun()
