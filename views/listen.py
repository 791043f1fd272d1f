"""Listen: generate from a lead and/or an accompaniment run, compare decodings side by side,
and judge them on many pieces against the real held-out music.

Generation, rendering, metrics and evaluation are core's (core.generation.generate writes
every file of a sample under the run: MIDI, MusicXML, WAV, SVG, note table, sample.json;
core.evaluation writes its CSVs under the lead run's evaluation/); this page collects the
choices, calls core, and shows what it wrote. Three tabs share the runs, decodings and seed
chosen at the top: side by side (engraved score, piano roll, audio, downloads, a few metrics
per decoding, and how long generation took with the chosen method), corpus-level evaluation
(generated vs held-out metric distributions and their overlapping area), and conditioned vs
unconditioned accompaniment (shown only when a conditioned accompaniment run exists).
Earlier samples and evaluations are reopened from their folders.
"""
from __future__ import annotations

import json
import re
import time
from dataclasses import asdict
from datetime import datetime
from pathlib import Path

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from core.data.corpus import CorpusError
from core.data.uploads import UploadError, save_upload
from core.evidence.conditioning import (
    DEFAULT_CONDITIONING_DECODING,
    conditioning_comparison,
    describe_conditioning,
)
from core.evidence.evaluation import (
    evaluate,
    evaluation_folder,
    list_evaluations,
    read_evaluation,
    write_evaluation,
)
from core.evidence.measure import generated_quarters, sample_metrics, sample_notes
from core.nets.config import OBJECTIVES, TrainConfig
from core.outputs.score import RenderError
from core.runs.files import file_stamp, now_iso
from core.runs.history import ComparisonError
from core.runs.listing import run_labels
from core.runs.record import RunError
from core.runs.samples import list_samples, read_sample, sample_file
from core.sampling.decoding import STRATEGIES, Decoding, GenerationError
from core.sampling.generation import METHODS, generate, pick_method
from views.common import cache_dir, load_runs_table, runs_dir, show_no_runs, uploads_dir

NONE = "none"
SHOWN = "listen_shown"          # session_state: sample folders shown side by side
TIMINGS = "listen_timings"      # session_state: one row per Generate press (method, seconds)
EVALUATION = "listen_evaluation"      # session_state: the evaluation folder shown
CONDITIONING = "listen_conditioning"  # session_state: the conditioning comparison shown
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
METHOD_TITLES = {"auto": "auto (stateful for sequence-trained runs, else window)",
                 "window": "window (thesis)", "stateful": "stateful"}
PART_COLOURS = {"lead": "#d62728", "accompaniment": "#1f77b4"}
DECODING_COLOURS = ["#4c78a8", "#f58518", "#54a24b", "#e45756", "#72b7b2", "#b279a2",
                    "#eeca3b", "#9d755d"]
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
    return sample_metrics(read_sample(folder))


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
    path = sample_file(sample, kind)
    if path is None:
        column.caption(f"no {label} file")
        return
    column.download_button(label, path.read_bytes(), file_name=f"{Path(sample['folder']).name}"
                           f"{path.suffix}", mime=mime, key=key, width="stretch")


def show_sample(column, sample: dict, index: int) -> None:
    folder = Path(sample["folder"])
    column.subheader(Decoding.from_dict(sample.get("decoding")).title)
    runs = ", ".join(f"{p}: {r}" for p, r in (sample.get("runs") or {}).items())
    column.caption(f"{sample.get('seed_source', '?')} · {sample.get('steps')} steps · "
                   f"seed {sample.get('seed')} · {sample.get('created', '')}  \n{runs}")
    svg = sample_file(sample, "svg")
    if svg is not None:
        column.markdown(_svg_markup(str(svg), file_stamp(svg.parent, svg.name)),
                        unsafe_allow_html=True)
    else:
        column.warning("No engraved score was written for this sample.")
    try:
        notes = sample_notes(sample)
        column.plotly_chart(piano_roll(notes, sample.get("seed_quarters") or {}),
                            key=f"listen_roll_{index}")
        for part, quarters in generated_quarters(sample).items():
            if quarters <= 0:
                column.warning(f"Nothing generated for the {part} is heard: its seed window "
                               "lasts as long as the piece, which is cut to its shorter part."
                               " Generate more steps.")
    except (ComparisonError, OSError, ValueError) as exc:
        column.warning(f"No piano roll: {exc}")
    wav = sample_file(sample, "wav")
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
            samples.append(read_sample(folder))
        except ComparisonError as exc:
            problems.append(str(exc))
    for problem in problems:
        st.warning(problem)
    if not samples:
        return
    rows = []
    for sample in samples:
        row = {"decoding": Decoding.from_dict(sample.get("decoding")).title}
        try:
            stamp = file_stamp(sample["folder"], "sample.json")
            row.update({METRIC_TITLES[k]: "–" if v != v else f"{v:.2f}"
                        for k, v in _metrics(sample["folder"], stamp).items()})
        except (ComparisonError, OSError, ValueError) as exc:
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


# --------------------------------------------------------------------------- decodings

def pretty(decoding: Decoding) -> str:
    """'temperature t=0.65': the name the sample columns and tables use."""
    return decoding.title


def parse_specs(text: str) -> tuple[list[Decoding], list[str]]:
    """Extra decodings typed as 'temperature:1.0, top_k:4' (core.generation.Decoding.parse;
    names are forgiving about case and '-'); returns them and one message per bad spec."""
    decodings, errors = [], []
    for spec in (s.strip() for s in re.split(r"[,;\n]+", text or "")):
        if not spec:
            continue
        name, colon, value = spec.partition(":")
        normal = name.strip().lower().replace("-", "_").replace(" ", "_") + colon + value.strip()
        try:
            decodings.append(Decoding.parse(normal))
        except GenerationError as exc:
            errors.append(f"`{spec}`: {exc}")
    return decodings, errors


def decodings_form() -> tuple[list[Decoding], list[str], int]:
    """The decodings every section of the page uses, the extra specs it could not read, and
    the random seed."""
    c1, c2 = st.columns([1.3, 1])
    strategies = c1.multiselect("Decodings to compare", list(STRATEGIES),
                                default=["greedy", "temperature"], key="listen_strategies",
                                format_func=STRATEGY_TITLES.get)
    extra = c2.text_input("More decodings (strategy:value, comma-separated)", key="listen_extra",
                          placeholder="temperature:1.0, top_k:4, top_p:0.8, beam:2",
                          help="Add any strategy again with another parameter: temperature:T, "
                               "top_k:K, top_p:P, beam:W, greedy. top-k and top-p typed here "
                               "sample at temperature 1.")
    c1, c2, c3, c4, c5 = st.columns(5)
    temperature = c1.slider("Temperature", 0.05, 2.0, 0.65, 0.05, key="listen_temperature",
                            help="for temperature, top-k and top-p sampling (thesis: 0.65)")
    top_k = c2.number_input("top-k: k", 1, 256, 8, key="listen_top_k",
                            disabled="top_k" not in strategies)
    top_p = c3.slider("top-p: p", 0.05, 1.0, 0.9, 0.05, key="listen_top_p",
                      disabled="top_p" not in strategies)
    beam = c4.number_input("beam width", 1, 16, 4, key="listen_beam",
                           disabled="beam" not in strategies)
    seed = c5.number_input("Random seed", 0, 2**31 - 1, 0, key="listen_seed",
                           help="the same seed and settings give the same music")
    chosen = [Decoding(s, temperature=float(temperature), top_k=int(top_k), top_p=float(top_p),
                       beam_width=int(beam)) for s in strategies]
    typed, errors = parse_specs(extra)
    decodings, repeated = [], []
    for decoding in chosen + typed:
        if any(d.label == decoding.label for d in decodings):
            repeated.append(pretty(decoding))
        else:
            decodings.append(decoding)
    if errors:
        st.error("Cannot read these decodings (use strategy:value with a strategy of "
                 f"{', '.join(STRATEGIES)}); fix or remove them to generate or evaluate:\n\n"
                 + "\n".join(f"- {e}" for e in errors))
    if decodings:
        note = f" (already listed, left out: {', '.join(repeated)})" if repeated else ""
        st.caption(f"Comparing {len(decodings)} decoding(s): "
                   f"**{' · '.join(pretty(d) for d in decodings)}**{note}")
    return decodings, errors, int(seed)


# --------------------------------------------------------------------------- side by side

def _objective(runs: pd.DataFrame, run_id: str) -> str:
    row = runs[runs["run_id"] == run_id]
    value = row["objective"].iloc[0] if "objective" in row and len(row) else None
    return value if value in OBJECTIVES else "window"


def methods_used(objectives: dict[str, str], decodings: list[Decoding], method: str) -> str:
    """'lead: stateful, accompaniment: window': what core.generation.pick_method runs for
    each part with these decodings (beam search always re-feeds windows, said apart)."""
    others = [d for d in decodings if d.strategy != "beam"] or [Decoding()]
    parts = []
    for part, objective in objectives.items():
        config = TrainConfig(objective=objective)
        used = " + ".join(dict.fromkeys(pick_method(config, d, method) for d in others))
        parts.append(f"{part}: {used}")
    text = ", ".join(parts)
    if any(d.strategy == "beam" for d in decodings) and "stateful" in text:
        text += " (beam search: window)"
    return text


def method_form(objectives: dict[str, str], decodings: list[Decoding]) -> str:
    method = st.radio("Generation method", METHODS, horizontal=True, key="listen_method",
                      format_func=METHOD_TITLES.get,
                      help="window: the thesis's iterative feed-forward, the whole window "
                           "re-run for every new symbol. stateful: the recurrent state is "
                           "carried and each symbol costs one step, exact for runs trained "
                           "with the 'sequence' objective. Beam search always uses windows.")
    if objectives:
        st.caption(f"Method per part with these runs and decodings: "
                   f"{methods_used(objectives, decodings, method)}.")
    windowed = [p for p, o in objectives.items() if o != "sequence"]
    if method == "stateful" and windowed:
        st.caption(f"Note: the {' and '.join(windowed)} run was trained on windows: stateful "
                   "generation carries its state past the window it learnt from, so it is "
                   "faster but not the thesis's method, and the music differs.")
    return method


def show_timings() -> None:
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
                                       "steps",
                                       "decodings", "used", "runs"],
                         column_config={
                             "seconds": st.column_config.NumberColumn("all (s)", format="%.2f"),
                             "generating": st.column_config.NumberColumn("generating (s)",
                                                                         format="%.2f")})


def side_by_side(runs: pd.DataFrame, chosen: dict[str, str], labels: dict[str, str],
                 decodings: list[Decoding], errors: list[str], seed: int) -> None:
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
    objectives = {p: _objective(runs, r) for p, r in chosen.items()}
    method = method_form(objectives, decodings)

    ready = (bool(chosen) and bool(decodings) and not errors
             and (source == "held-out piece" or upload))
    if st.button("Generate", type="primary", disabled=not ready, key="listen_generate"):
        try:
            seed_file = _save_seed(upload) if upload is not None else None
            with st.spinner(f"Generating {int(steps)} steps with "
                            f"{len(decodings)} decoding(s) and rendering..."):
                started = time.perf_counter()
                samples = generate(runs={p: runs_dir() / r for p, r in chosen.items()},
                                   steps=int(steps), decodings=decodings, seed=int(seed),
                                   seed_piece=seed_piece, seed_file=seed_file,
                                   cache_dir=cache_dir(), method=method)
                seconds = time.perf_counter() - started
            st.session_state[SHOWN] = [str(s.folder) for s in samples]
            st.session_state.setdefault(TIMINGS, []).append({
                "at": datetime.now().strftime("%H:%M:%S"), "method": method,
                "used": methods_used(objectives, decodings, method),
                "runs": ", ".join(labels.get(r, r) for r in chosen.values()),
                "decodings": ", ".join(pretty(d) for d in decodings),
                "samples": len(samples), "steps": int(steps), "seconds": seconds,
                "generating": sum(s.generation_seconds for s in samples)})
        except (GenerationError, RunError, UploadError) as exc:
            st.error(f"Cannot generate: {exc}")
        except RenderError as exc:
            st.error(f"Generated, but the sample could not be rendered: {exc}")
        except Exception as exc:  # noqa: BLE001 - show any failure instead of a dead page
            st.error(f"Generation failed ({type(exc).__name__}): {exc}")
    show_timings()

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
        return (f"{s.get('created', '?')} · {Decoding.from_dict(s.get('decoding')).title} · "
                f"{s.get('seed_source', '?')} · {s.get('steps')} steps · seed {s.get('seed')}")

    with st.expander(f"Earlier samples of these runs ({len(samples)})"):
        picked = st.multiselect("Samples", list(by_folder), key="listen_earlier",
                                format_func=describe, max_selections=MAX_COLUMNS)
        if st.button("Open side by side", disabled=not picked, key="listen_open"):
            st.session_state[SHOWN] = list(picked)


# --------------------------------------------------------------------------- evaluation

def _settings_decodings(settings: dict) -> dict[str, str]:
    """Decoding.label (as in the CSVs) -> the page's name, for an evaluation's decodings."""
    names = {}
    for d in settings.get("decodings") or []:
        try:
            decoding = Decoding.from_dict(d)
            names[decoding.label] = decoding.title
        except (KeyError, TypeError):
            continue
    return names


def describe_evaluation(folder: Path, labels: dict[str, str]) -> str:
    try:
        settings = json.loads((folder / "settings.json").read_text())
    except (OSError, ValueError):
        return f"{folder.name} (settings unreadable)"
    when = str(settings.get("created", folder.name)).replace("T", " ")[:19]
    names = ", ".join(_settings_decodings(settings).values()) or "?"
    if settings.get("kind") == "conditioning":
        what = f"conditioned vs unconditioned accompaniment, {names}"
    else:
        runs = " + ".join(labels.get(r, r) for r in (settings.get("runs") or {}).values())
        what = f"{names} · {runs}"
    return (f"{when} · {what} · {settings.get('n_pieces')} pieces × {settings.get('steps')} "
            f"steps · seed {settings.get('seed')}")


def comparison_table(comparison: pd.DataFrame, names: dict[str, str]) -> pd.DataFrame:
    """One row per metric: held-out mean ± std, then per decoding its mean ± std and the
    overlapping area with the held-out distribution."""
    def spread(mean, std) -> str:
        if mean != mean:
            return "–"
        return f"{mean:.3g} ± {std:.2g}" if std == std else f"{mean:.3g}"

    metrics = list(dict.fromkeys(comparison["metric"]))
    table = pd.DataFrame({"metric": [METRIC_TITLES.get(m, m.replace("_", " ")) for m in metrics]})
    first = comparison.drop_duplicates("metric").set_index("metric").loc[metrics]
    table["held-out pieces"] = [spread(m, s) for m, s in
                                zip(first["reference_mean"], first["reference_std"])]
    for label, rows in comparison.groupby("decoding", sort=False):
        rows = rows.set_index("metric").reindex(metrics)
        name = names.get(label, label)
        table[name] = [spread(m, s) for m, s in zip(rows["generated_mean"],
                                                       rows["generated_std"])]
        table[f"{name} overlap"] = rows["overlapping_area"].to_numpy()
    return table


def overlap_chart(comparison: pd.DataFrame, names: dict[str, str]) -> go.Figure:
    metrics = list(dict.fromkeys(comparison["metric"]))
    titles = [METRIC_TITLES.get(m, m.replace("_", " ")) for m in metrics]
    fig = go.Figure()
    for i, (label, rows) in enumerate(comparison.groupby("decoding", sort=False)):
        rows = rows.set_index("metric").reindex(metrics)
        fig.add_trace(go.Bar(x=rows["overlapping_area"], y=titles, orientation="h",
                             name=names.get(label, label),
                             marker_color=DECODING_COLOURS[i % len(DECODING_COLOURS)],
                             hovertemplate="%{y}: %{x:.2f}<extra>%{fullData.name}</extra>"))
    groups = comparison["decoding"].nunique()
    fig.update_layout(barmode="group", height=90 + len(metrics) * (8 + 9 * groups),
                      margin=dict(l=10, r=10, t=30, b=10),
                      xaxis=dict(title="overlapping area (1 = same distribution as the "
                                       "held-out pieces)", range=[0, 1.02]),
                      yaxis=dict(autorange="reversed"),
                      legend=dict(orientation="h", y=1.02, yanchor="bottom", x=0))
    return fig


def show_evaluation(folder: Path, labels: dict[str, str]) -> None:
    try:
        result = read_evaluation(folder)
    except (OSError, ValueError) as exc:
        st.warning(f"Evaluation {folder.name} is unreadable: {exc}")
        return
    settings = result["settings"]
    names = _settings_decodings(settings)
    st.markdown(f"**{describe_evaluation(folder, labels)}**")
    comparison = result.get("comparison")
    if comparison is not None and not comparison.empty:
        st.caption(f"Each decoding generated {settings.get('n_pieces')} pieces of "
                   f"{settings.get('steps')} steps, seeded from the held-out pieces in turn, "
                   "measured on the generated continuation only; the held-out column measures "
                   f"the real continuation of the {settings.get('reference_pieces', '?')} "
                   "held-out pieces after the same seed window, as long. **Overlapping area**"
                   " (Yang & Lerch 2018): how much a metric's distribution over the generated"
                   " pieces overlaps its distribution over the held-out pieces; 1 = the same "
                   "distribution, 0 = none in common. –: not measurable in any piece (e.g. no "
                   "notes generated).")
        table = comparison_table(comparison, names)
        config = {c: (st.column_config.ProgressColumn(
                          "overlap", min_value=0.0, max_value=1.0, format="%.2f", width=100,
                          help=f"{c[:-len(' overlap')]}: overlapping area with the held-out "
                               "pieces (1 = the same distribution)")
                      if c.endswith(" overlap") else
                      st.column_config.TextColumn(c, width=130, help="mean ± std over pieces"))
                  for c in table.columns[1:]}
        config["metric"] = st.column_config.TextColumn("metric", width=190, pinned=True)
        st.dataframe(table, hide_index=True, width="stretch", key="listen_eval_table",
                     column_config=config, height=36 * (len(table) + 1) + 4)
        st.plotly_chart(overlap_chart(comparison, names), key="listen_eval_chart")
    conditioning = result.get("conditioning")
    if conditioning is not None and not conditioning.empty:
        show_conditioning(conditioning, labels, names, "listen_eval_conditioning")
    csvs = [n for n in ("generated", "reference", "comparison", "conditioning") if n in result]
    columns = st.columns(max(len(csvs), 4))
    for column, name in zip(columns, csvs):
        column.download_button(f"{name}.csv", (Path(folder) / f"{name}.csv").read_bytes(),
                               file_name=f"{Path(folder).name}-{name}.csv", mime="text/csv",
                               key=f"listen_eval_dl_{name}", width="stretch")
    st.caption(f"`{folder}`")


def evaluation_section(chosen: dict[str, str], labels: dict[str, str],
                       decodings: list[Decoding], errors: list[str], seed: int) -> None:
    st.caption("Many pieces per decoding, measured with the same music metrics as the real "
               "held-out pieces, so a decoding can be judged by numbers, not only by ear. "
               "Uses the runs, decodings, random seed and generation method chosen above.")
    c1, c2, c3 = st.columns([1, 1, 2], vertical_alignment="bottom")
    n_pieces = c1.number_input("Pieces per decoding", 1, 256, 8, key="listen_eval_pieces")
    steps = c2.number_input("Steps per piece", 1, 2000, 64, key="listen_eval_steps")
    first = next(iter(chosen.values()), None)
    ready = bool(chosen) and bool(decodings) and not errors
    if c3.button("Evaluate", type="primary", disabled=not ready, key="listen_evaluate"):
        folder = evaluation_folder(runs_dir() / first)
        try:
            with st.spinner(f"Generating {int(n_pieces)} pieces × {len(decodings)} "
                            f"decoding(s) of {int(steps)} steps and measuring them..."):
                evaluate({p: runs_dir() / r for p, r in chosen.items()}, decodings,
                         int(n_pieces), int(steps), int(seed), cache_dir(), out_dir=folder,
                         method=st.session_state.get("listen_method", "auto"))
            st.session_state[EVALUATION] = str(folder)
        except (GenerationError, RunError, CorpusError, ValueError) as exc:
            st.error(f"Cannot evaluate: {exc}")
        except Exception as exc:  # noqa: BLE001
            st.error(f"Evaluation failed ({type(exc).__name__}): {exc}")
    folders = list_evaluations(runs_dir() / first) if first else []
    if folders:
        with st.expander(f"Earlier evaluations of {labels.get(first, first)} "
                         f"({len(folders)})"):
            picked = st.selectbox("Evaluation", [str(f) for f in folders],
                                  key="listen_eval_earlier",
                                  format_func=lambda f: describe_evaluation(Path(f), labels))
            if st.button("Open", key="listen_eval_open"):
                st.session_state[EVALUATION] = picked
    shown = st.session_state.get(EVALUATION)
    if shown and (Path(shown) / "settings.json").exists():
        st.divider()
        show_evaluation(Path(shown), labels)


# --------------------------------------------------------------------------- conditioning

def _flag(value) -> bool:
    return value is True or (isinstance(value, (int, float, np.bool_)) and value == 1)


def show_conditioning(table: pd.DataFrame, labels: dict[str, str], names: dict[str, str],
                      key: str) -> None:
    shown = pd.DataFrame({
        "pair": table["pair"],
        "accompaniment run": [labels.get(r, r) for r in table["accompaniment_run"]],
        "consonance mean": table["consonance_mean"],
        "consonance std": table["consonance_std"],
        "best held-out loss": table["best_val_loss"],
        "pieces": table["pieces"]})
    st.dataframe(shown, hide_index=True, width="stretch", key=key, column_config={
        c: st.column_config.NumberColumn(format="%.3f")
        for c in ("consonance mean", "consonance std", "best held-out loss")})
    try:
        st.markdown(describe_conditioning(table))
    except ValueError as exc:
        st.caption(f"No verdict: {exc}")
    leads = ", ".join(labels.get(r, r) for r in table["lead_run"].astype(str).unique())
    decodings = ", ".join(names.get(d, d) for d in table["decoding"].astype(str).unique())
    st.caption(f"Both pairs play lead run {leads}, decoded with {decodings}. Consonance: share "
               "of lead onsets consonant with the sounding accompaniment, over the generated "
               "pieces. Best held-out loss: the accompaniment run's lowest val_loss while "
               "training.")


def conditioning_section(runs: pd.DataFrame, usable: pd.DataFrame, chosen: dict[str, str],
                         labels: dict[str, str], decodings: list[Decoding], seed: int) -> None:
    accompaniments = usable[usable["part"] == "accompaniment"]
    flags = accompaniments["conditioned"].map(_flag)
    conditioned = accompaniments[flags]["run_id"].tolist()
    plain = accompaniments[~flags]["run_id"].tolist()
    leads = usable[usable["part"] == "lead"]["run_id"].tolist()
    st.caption("The thesis plays an independently trained accompaniment under the lead. An "
               "accompaniment trained conditioned on the lead reads it while it plays: does "
               "that make the parts agree more, and predict the held-out music better? Both "
               "pairs share the lead and generate from the same held-out seeds.")
    missing = [what for what, ids in (("a lead run", leads), ("an unconditioned accompaniment "
                                                               "run", plain)) if not ids]
    if missing:
        st.info(f"To compare, train {' and '.join(missing)} on the **Train** page too.")
        return
    fmt = lambda r: labels.get(r, r)  # noqa: E731
    c1, c2, c3 = st.columns(3)
    lead = c1.selectbox("Lead run (both pairs)", leads, format_func=fmt, key="listen_cond_lead",
                        index=leads.index(chosen["lead"]) if chosen.get("lead") in leads else 0)
    unconditioned = c2.selectbox("Unconditioned accompaniment", plain, format_func=fmt,
                                 key="listen_cond_plain",
                                 index=plain.index(chosen["accompaniment"])
                                 if chosen.get("accompaniment") in plain else 0)
    accompaniment = c3.selectbox("Conditioned accompaniment", conditioned, format_func=fmt,
                                 key="listen_cond_conditioned",
                                 index=conditioned.index(chosen["accompaniment"])
                                 if chosen.get("accompaniment") in conditioned else 0)
    options = decodings or [DEFAULT_CONDITIONING_DECODING]
    default = next((i for i, d in enumerate(options) if d.strategy == "temperature"), 0)
    c1, c2, c3, c4 = st.columns([1.4, 1, 1, 1.4], vertical_alignment="bottom")
    decoding = c1.selectbox("Decoding", options, index=default, format_func=pretty,
                            key="listen_cond_decoding", help="one of the decodings above")
    n_pieces = c2.number_input("Pieces", 1, 256, 8, key="listen_cond_pieces")
    steps = c3.number_input("Steps", 1, 2000, 64, key="listen_cond_steps")
    if c4.button("Compare the two pairs", type="primary", key="listen_condition",
                 width="stretch"):
        pair = {"lead": runs_dir() / lead}
        try:
            with st.spinner(f"Generating {int(n_pieces)} pieces with each pair..."):
                table = conditioning_comparison(
                    {**pair, "accompaniment": runs_dir() / unconditioned},
                    {**pair, "accompaniment": runs_dir() / accompaniment}, decoding,
                    int(n_pieces), int(steps), int(seed), cache_dir(),
                    method=st.session_state.get("listen_method", "auto"))
            folder = evaluation_folder(runs_dir() / lead)
            write_evaluation(folder, {
                "created": now_iso(), "kind": "conditioning",
                "runs": {"lead": lead, "accompaniment": unconditioned,
                         "conditioned": accompaniment},
                "decodings": [asdict(decoding)], "n_pieces": int(n_pieces),
                "steps": int(steps), "seed": int(seed)}, conditioning=table)
            st.session_state[CONDITIONING] = str(folder)
        except (GenerationError, RunError, CorpusError, ValueError) as exc:
            st.error(f"Cannot compare: {exc}")
        except Exception as exc:  # noqa: BLE001
            st.error(f"Comparison failed ({type(exc).__name__}): {exc}")
    shown = st.session_state.get(CONDITIONING)
    if shown and (Path(shown) / "conditioning.csv").exists():
        st.divider()
        show_evaluation(Path(shown), labels)


# --------------------------------------------------------------------------- the page

def run_names(runs: pd.DataFrame) -> dict[str, str]:
    """run_labels plus what the run id does not say: conditioning, sequence objective."""
    labels = run_labels(runs)
    for _, row in runs.iterrows():
        notes = [text for text, on in (("conditioned on the lead", _flag(row.get("conditioned"))),
                                       ("sequence objective", row.get("objective") == "sequence"))
                 if on]
        if notes:
            labels[row["run_id"]] = f"{labels[row['run_id']]} · {', '.join(notes)}"
    return labels


def main() -> None:
    st.title("Listen")
    runs = load_runs_table()
    if show_no_runs(runs):
        return
    usable = usable_runs(runs)
    if usable.empty:
        st.info("No run has saved weights yet: wait for the first epoch of a run on the "
                "**Train** page, then come back.", icon=":material/hourglass_empty:")
        return
    labels = run_names(runs)

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

    decodings, errors, seed = decodings_form()

    has_conditioned = ("conditioned" in usable and
                       usable[usable["part"] == "accompaniment"]["conditioned"].map(_flag).any())
    titles = ["Side by side", "Corpus-level evaluation"]
    if has_conditioned:
        titles.append("Conditioned vs unconditioned accompaniment")
    tabs = st.tabs(titles)
    with tabs[0]:
        side_by_side(runs, chosen, labels, decodings, errors, int(seed))
    with tabs[1]:
        evaluation_section(chosen, labels, decodings, errors, int(seed))
    if has_conditioned:
        with tabs[2]:
            conditioning_section(runs, usable, chosen, labels, decodings, int(seed))


main()
