"""Listen: generate from a lead and/or an accompaniment run and compare decodings side by side.

Generation, rendering and metrics are core's (core.generation.generate writes every file of a
sample under the run: MIDI, MusicXML, WAV, SVG, note table, sample.json); this page collects
the choices, calls it, and shows what it wrote: engraved score, piano roll, audio, downloads
and a few music metrics per decoding. Earlier samples are reopened from their folders.
"""
from __future__ import annotations

import json
import re
from pathlib import Path

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from core import comparison as cmp
from core.generation import STRATEGIES, Decoding, GenerationError, generate, list_samples
from core.rendering import RenderError
from core.runs import RunError
from core.uploads import UploadError, save_upload
from views.common import cache_dir, load_runs_table, runs_dir, show_no_runs, uploads_dir

NONE = "none"
SHOWN = "listen_shown"          # session_state: sample folders shown side by side
USABLE_STATES = ("finished", "running", "cancelled", "killed")
SEED_SUFFIXES = ["mid", "midi", "xml", "musicxml", "mxl"]
STRATEGY_TITLES = {"greedy": "greedy (argmax)", "temperature": "temperature sampling",
                   "top_k": "top-k sampling", "top_p": "top-p (nucleus) sampling",
                   "beam": "beam search"}
METRIC_TITLES = {"pitch_range": "pitch range (semitones)",
                 "scale_consistency": "scale consistency",
                 "polyphony": "polyphony (pitches at once)",
                 "loop_share": "loop share",
                 "consonance": "consonance (lead vs accomp.)"}
PART_COLOURS = {"lead": "#d62728", "accompaniment": "#1f77b4"}
MAX_COLUMNS = 5


# --------------------------------------------------------------------------- runs and seeds

def usable_runs(runs: pd.DataFrame) -> pd.DataFrame:
    """Runs with saved weights (at least one finished epoch), newest first."""
    root = runs_dir()
    ok = runs["state"].isin(USABLE_STATES) & runs["run_id"].map(
        lambda r: (root / r / "best.keras").exists() or (root / r / "model.keras").exists())
    return runs[ok].sort_values("run_id", ascending=False)


def held_out_pieces(run_id: str) -> list[str]:
    """The run's held-out pieces, as recorded in its config.json when it was queued."""
    try:
        record = json.loads((runs_dir() / run_id / "config.json").read_text())
        return list(record.get("corpus", {}).get("held_out", []))
    except (OSError, ValueError, AttributeError):
        return []


def _run_picker(title: str, part: str, usable: pd.DataFrame, labels: dict[str, str],
                default_newest: bool) -> str:
    ids = usable[usable["part"] == part]["run_id"].tolist()
    options = [NONE, *ids]
    index = 1 if default_newest and ids else 0
    return st.selectbox(title, options, index=index, key=f"listen_{part}",
                        format_func=lambda r: "none" if r == NONE else labels.get(r, r),
                        help=f"a run trained on the {part} part")


def _save_seed(upload) -> Path:
    """The uploaded seed file under uploads/.seeds (hidden from the Corpus page's list of
    uploaded corpora); an identical earlier upload is reused."""
    saved = save_upload(upload.name, upload.getvalue(), uploads_dir() / ".seeds")
    if not saved:
        raise UploadError(upload.name, "nothing could be saved")
    return Path(saved[0])


# --------------------------------------------------------------------------- showing samples

@st.cache_data(show_spinner=False, max_entries=64)
def _svg_markup(path: str, stamp: int) -> str:
    svg = Path(path).read_text(encoding="utf-8")
    svg = re.sub(r"^<\?xml[^>]*>\s*", "", svg)
    return ("<div style='max-height:460px;overflow:auto;background:white;"
            "border:1px solid rgba(128,128,128,0.35);border-radius:6px;padding:4px'>"
            f"{svg}</div>")


@st.cache_data(show_spinner=False, max_entries=64)
def _metrics(folder: str, stamp: int) -> dict[str, float]:
    return cmp.sample_metrics(cmp.read_sample(folder))


def piano_roll(notes: pd.DataFrame, seed_quarters: dict[str, float]) -> go.Figure:
    """Each note a bar from start to end at its pitch; lead red, accompaniment blue; a
    dotted line where each part's seed window ends and generation begins."""
    fig = go.Figure()
    for part, group in notes.groupby("part", sort=False):
        fig.add_trace(go.Bar(
            base=group["start"], x=group["end"] - group["start"], y=group["pitch"],
            orientation="h", name=part, marker_color=PART_COLOURS.get(part, "#7f7f7f"),
            marker_line_width=0, width=0.85, opacity=0.85,
            customdata=group[["name", "start", "end"]].to_numpy() if "name" in group else None,
            hovertemplate="%{customdata[0]} (%{y})<br>%{customdata[1]:.2f} to "
                          "%{customdata[2]:.2f} quarters<extra>" + part + "</extra>"))
    ends: dict[float, list[str]] = {}
    for part, quarters in seed_quarters.items():
        ends.setdefault(float(quarters), []).append(part)
    for x, parts in ends.items():
        colour = PART_COLOURS.get(parts[0], "grey") if len(parts) == 1 else "grey"
        name = "seed" if len(parts) > 1 else f"{parts[0][:5]}. seed"
        fig.add_vline(x=x, line_dash="dot", line_color=colour, annotation_text=f"{name} |",
                      annotation_position="top left", annotation_font_size=10)
    fig.update_layout(barmode="overlay", height=260, margin=dict(l=10, r=10, t=24, b=10),
                      xaxis_title="quarter notes", yaxis_title="MIDI pitch", bargap=0,
                      legend=dict(orientation="h", y=1.16, x=1, xanchor="right"))
    return fig


def _download(column, sample: dict, kind: str, label: str, mime: str, key: str) -> None:
    path = cmp.sample_file(sample, kind)
    if path is None:
        column.caption(f"no {label} file")
        return
    column.download_button(label, path.read_bytes(), file_name=f"{Path(sample['folder']).name}"
                           f"{path.suffix}", mime=mime, key=key, width="stretch")


def show_sample(column, sample: dict, index: int) -> None:
    folder = Path(sample["folder"])
    column.subheader(cmp.decoding_label(sample))
    runs = ", ".join(f"{p}: {r}" for p, r in (sample.get("runs") or {}).items())
    column.caption(f"{sample.get('seed_source', '?')} · {sample.get('steps')} steps · "
                   f"seed {sample.get('seed')} · {sample.get('created', '')}  \n{runs}")
    svg = cmp.sample_file(sample, "svg")
    if svg is not None:
        column.markdown(_svg_markup(str(svg), cmp.file_stamp(svg.parent, svg.name)),
                        unsafe_allow_html=True)
    else:
        column.warning("No engraved score was written for this sample.")
    try:
        notes = cmp.sample_notes(sample)
        column.plotly_chart(piano_roll(notes, sample.get("seed_quarters") or {}),
                            key=f"listen_roll_{index}")
        for part, quarters in cmp.generated_quarters(sample).items():
            if quarters <= 0:
                column.warning(f"Nothing generated for the {part} is heard: its seed window "
                               "lasts as long as the piece, which is cut to its shorter part."
                               " Generate more steps.")
    except (cmp.ComparisonError, OSError, ValueError) as exc:
        column.warning(f"No piano roll: {exc}")
    wav = cmp.sample_file(sample, "wav")
    if wav is not None:
        column.audio(wav.read_bytes(), format="audio/wav")
    else:
        column.warning("No audio: the WAV was not rendered (is FluidSynth installed?).")
    d1, d2, d3 = column.columns(3)
    _download(d1, sample, "midi", "MIDI", "audio/midi", f"listen_dl_midi_{index}")
    _download(d2, sample, "musicxml", "MusicXML", "application/vnd.recordare.musicxml+xml",
              f"listen_dl_xml_{index}")
    _download(d3, sample, "wav", "WAV", "audio/wav", f"listen_dl_wav_{index}")
    column.caption(f"`{folder}`")


def show_samples(folders: list[str]) -> None:
    samples, problems = [], []
    for folder in folders:
        try:
            samples.append(cmp.read_sample(folder))
        except cmp.ComparisonError as exc:
            problems.append(str(exc))
    for problem in problems:
        st.warning(problem)
    if not samples:
        return
    rows = []
    for sample in samples:
        row = {"decoding": cmp.decoding_label(sample)}
        try:
            stamp = cmp.file_stamp(sample["folder"], "sample.json")
            row.update({METRIC_TITLES[k]: "–" if v != v else f"{v:.2f}"
                        for k, v in _metrics(sample["folder"], stamp).items()})
        except (cmp.ComparisonError, OSError, ValueError) as exc:
            row["note"] = f"metrics unavailable: {exc}"
        rows.append(row)
    st.markdown("**Music metrics of the generated continuation** (seed left out)")
    st.dataframe(pd.DataFrame(rows), hide_index=True, width="stretch", key="listen_metrics")
    st.caption("Scale consistency near 1: stays in one key. Loop share: part of the lead's "
               "symbols inside an exact repeat of 8 or more (greedy decoding tends to 1). "
               "Consonance: lead onsets consonant with the sounding accompaniment. "
               "–: not measurable (no notes after the seed, or only one part).")
    for start in range(0, len(samples), MAX_COLUMNS):
        chunk = samples[start:start + MAX_COLUMNS]
        for offset, (column, sample) in enumerate(zip(st.columns(len(chunk)), chunk)):
            show_sample(column, sample, start + offset)


# --------------------------------------------------------------------------- the form

def decodings_form() -> list[Decoding]:
    strategies = st.multiselect("Decodings to compare", list(STRATEGIES),
                                default=["greedy", "temperature"], key="listen_strategies",
                                format_func=STRATEGY_TITLES.get)
    c1, c2, c3, c4 = st.columns(4)
    temperature = c1.slider("Temperature", 0.05, 2.0, 0.65, 0.05, key="listen_temperature",
                            help="for temperature, top-k and top-p sampling (thesis: 0.65)")
    top_k = c2.number_input("top-k: k", 1, 256, 8, key="listen_top_k",
                            disabled="top_k" not in strategies)
    top_p = c3.slider("top-p: p", 0.05, 1.0, 0.9, 0.05, key="listen_top_p",
                      disabled="top_p" not in strategies)
    beam = c4.number_input("beam width", 1, 16, 4, key="listen_beam",
                           disabled="beam" not in strategies)
    return [Decoding(s, temperature=float(temperature), top_k=int(top_k), top_p=float(top_p),
                     beam_width=int(beam)) for s in strategies]


def main() -> None:
    st.title("Listen")
    runs = load_runs_table()
    if show_no_runs(runs):
        return
    usable = usable_runs(runs)
    if usable.empty:
        st.info("No run has saved weights yet: wait for the first epoch of a run on the "
                "**Train** page, then come back.", icon="⏳")
        return
    labels = cmp.run_labels(runs)

    st.caption("The thesis trains the lead and the accompaniment separately and plays them "
               "together: pick a run for each part (or just one).")
    c1, c2 = st.columns(2)
    with c1:
        lead = _run_picker("Lead run", "lead", usable, labels, True)
    with c2:
        accompaniment = _run_picker("Accompaniment run", "accompaniment", usable, labels,
                                    True)
    chosen = {p: r for p, r in (("lead", lead), ("accompaniment", accompaniment)) if r != NONE}
    if not chosen:
        st.warning("Choose a lead run, an accompaniment run, or both.")
    first = next(iter(chosen.values()), None)

    s1, s2, s3 = st.columns([1.2, 2, 1])
    source = s1.radio("Seed from", ["held-out piece", "MIDI file"], key="listen_seed_source",
                      help="generation starts from the first window of this piece")
    seed_piece, upload = None, None
    if source == "held-out piece":
        pieces = held_out_pieces(first) if first else []
        if pieces:
            seed_piece = s2.selectbox("Seed piece (held out from training)", pieces,
                                      key="listen_seed_piece")
        else:
            s2.caption("This run held no piece out: the first piece of its corpus seeds it.")
    else:
        upload = s2.file_uploader("Seed file", type=SEED_SUFFIXES, key="listen_seed_file",
                                  help="its first window seeds generation; its symbols must "
                                       "be in the run's vocabulary")
    steps = s3.number_input("Length (steps)", 1, 2000, 64, key="listen_steps",
                            help="symbols to generate per part: 16th notes for Model 1, "
                                 "events for Model 2")
    decodings = decodings_form()
    seed = st.number_input("Random seed", 0, 2**31 - 1, 0, key="listen_seed")

    ready = bool(chosen) and bool(decodings) and (source == "held-out piece" or upload)
    if st.button("Generate", type="primary", disabled=not ready, key="listen_generate"):
        try:
            seed_file = _save_seed(upload) if upload is not None else None
            with st.spinner(f"Generating {int(steps)} steps with "
                            f"{len(decodings)} decoding(s) and rendering..."):
                samples = generate(runs={p: runs_dir() / r for p, r in chosen.items()},
                                   steps=int(steps), decodings=decodings, seed=int(seed),
                                   seed_piece=seed_piece, seed_file=seed_file,
                                   cache_dir=cache_dir())
            st.session_state[SHOWN] = [str(s.folder) for s in samples]
        except (GenerationError, RunError, UploadError) as exc:
            st.error(f"Cannot generate: {exc}")
        except RenderError as exc:
            st.error(f"Generated, but the sample could not be rendered: {exc}")
        except Exception as exc:  # noqa: BLE001 - show any failure instead of a dead page
            st.error(f"Generation failed ({type(exc).__name__}): {exc}")

    earlier(chosen, labels)
    shown = [f for f in st.session_state.get(SHOWN, []) if Path(f).exists()]
    if shown:
        st.divider()
        show_samples(shown)


def earlier(chosen: dict[str, str], labels: dict[str, str]) -> None:
    samples = []
    for run_id in dict.fromkeys(chosen.values()):
        samples.extend(list_samples(runs_dir() / run_id))
    if not samples:
        return
    by_folder = {s["folder"]: s for s in samples}

    def describe(folder: str) -> str:
        s = by_folder[folder]
        return (f"{s.get('created', '?')} · {cmp.decoding_label(s)} · "
                f"{s.get('seed_source', '?')} · {s.get('steps')} steps · seed {s.get('seed')}")

    with st.expander(f"Earlier samples of these runs ({len(samples)})"):
        picked = st.multiselect("Samples", list(by_folder), key="listen_earlier",
                                format_func=describe, max_selections=MAX_COLUMNS)
        if st.button("Open side by side", disabled=not picked, key="listen_open"):
            st.session_state[SHOWN] = list(picked)


main()
