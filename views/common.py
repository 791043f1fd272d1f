"""Shared UI helpers for every page: where the files are, cached loaders, the corpus choice,
the glossary in the sidebar, and tables without "None" in them.

Pages import from here so that every page reads the same folders (core.folders: overridable
with the environment variables MUSIC_RUNS_DIR / MUSIC_CACHE_DIR / MUSIC_UPLOADS_DIR /
MUSIC_REPORTS_DIR / MUSIC_SWEEPS_DIR, which the tests point at temporary folders, and read by
the command line too) and sees the same corpus selection (kept in st.session_state).
Loaders are cached with a key built from file modification times, so they are cheap on every
rerun yet refresh as soon as a background training run writes a new epoch.
"""
from __future__ import annotations

import math
from pathlib import Path
from typing import Any, Callable, Iterable

import numpy as np
import pandas as pd
import streamlit as st

from core.data.cache import cached_corpora
from core.data.corpus import DEFAULT_CORPUS, Corpus, is_default_corpus
from core.data.prepare import Progress
from core.data.recent import recent_corpus
from core.evidence.baselines import Baseline, BaselineError, run_baseline, run_baselines
from core.evidence.metrics import METRIC_TITLES  # noqa: F401 - how the pages title metrics
from core.files import file_stamp, read_json, write_json
from core.folders import (  # noqa: F401 - every page reads its folders from here
    cache_dir,
    reports_dir,
    runs_dir,
    sweeps_dir,
    uploads_dir,
)
from core.glossary import GLOSSARY
from core.nets.config import TrainConfig
from core.runs.listing import list_runs, run_labels, runs_signature, runs_table
from core.runs.record import CONFIG, Run
from core.runs.status import USABLE

CORPUS_KEY = "corpus_source"            # session_state: DEFAULT_CORPUS or an upload folder
MAX_PIECES_KEY = "corpus_max_pieces"    # session_state: 0 = every piece
CHORD_MODE_KEY = "corpus_chord_mode"    # session_state: "pitch_class" (thesis) or "voicing"
LEAD_LINE_KEY = "corpus_lead_line"      # session_state: "auto", "top" or "whole"
NO_RUNS_MESSAGE = ("No runs yet: train one on the **Train** page, or queue the small thesis "
                   "preset there (four runs that finish in minutes).")
CHOICE_FILE = ".corpus-choice.json"      # in the uploads folder: the corpus last prepared
CHOICE_KEY = "corpus_choice_saved"       # session_state: what this session read or wrote there
MISSING = "–"                            # a value a table cannot show (never "None")


@st.cache_data(show_spinner=False, max_entries=8)
def _runs_table(root: str, signature: tuple) -> pd.DataFrame:
    return list_runs(Path(root))


def load_runs_table(root: Path | None = None) -> pd.DataFrame:
    """core.runs.listing.list_runs, cached until a run's files change (see `runs_signature`).

    Empty (with the setting columns) when there are no runs; `NO_RUNS_MESSAGE` says what
    to do then.
    """
    root = Path(root) if root is not None else runs_dir()
    return _runs_table(str(root.resolve()), runs_signature(root))


@st.cache_data(show_spinner=False, max_entries=8)
def _settings_table(root: str, signature: tuple) -> pd.DataFrame:
    """core.runs.listing.runs_table (list_runs plus every TrainConfig field), cached until a
    run's files change; `signature` is runs_signature."""
    return runs_table(root)


def settings_table() -> pd.DataFrame:
    """Every run with all its settings (seed groups, the verdict, baselines, estimates)."""
    root = runs_dir()
    return _settings_table(str(root.resolve()), runs_signature(root))


@st.cache_data(show_spinner=False, max_entries=256)
def _baseline(run_dir: str, stamp: int, cache: str) -> Baseline | str:
    """core.evidence.baselines.run_baseline of one run (or why there is none), cached on its
    config.json's modification time."""
    try:
        return run_baseline(run_dir, cache)
    except BaselineError as exc:
        return str(exc)


def _cached_baseline(run_dir: Path, cache: Path | str) -> Baseline:
    found = _baseline(str(run_dir), file_stamp(run_dir, CONFIG), str(cache))
    if isinstance(found, str):
        raise BaselineError(found)
    return found


def load_baselines(run_ids: Iterable[str]) -> dict[str, Baseline | str]:
    """{run_id: its data's trivial baseline, or why none} (core.evidence.baselines), each
    data measured once and cached."""
    ids = list(run_ids)
    return run_baselines([runs_dir() / r for r in ids], settings_table(), cache_dir(),
                         measure=_cached_baseline)


def selected_corpus() -> str:
    """The corpus chosen on the Corpus page (DEFAULT_CORPUS or an upload folder path)."""
    return st.session_state.get(CORPUS_KEY, DEFAULT_CORPUS)


def remember_corpus_choice() -> None:
    """The corpus just prepared (with its max pieces, chord mode and lead line) becomes the choice a
    new session starts on: a reload or a new tab would otherwise fall back to the chorales
    while the user's own music is what they work on."""
    choice = corpus_settings()
    if st.session_state.get(CHOICE_KEY) == choice:
        return  # the page redraws a prepared corpus on every rerun: write once per change
    st.session_state[CHOICE_KEY] = choice
    try:
        uploads_dir().mkdir(parents=True, exist_ok=True)
        write_json(uploads_dir() / CHOICE_FILE, choice)
    except OSError:
        pass  # a convenience only: the prepared corpus and this session are unaffected


def restore_corpus_choice() -> None:
    """Start a new session on the corpus last prepared, if it is the chorales or an upload
    that still exists (a deleted upload, or a file that does not read, leaves the default)."""
    if CORPUS_KEY in st.session_state or CHOICE_KEY in st.session_state:
        return  # chosen already, or the file was read once in this session
    st.session_state[CHOICE_KEY] = None
    try:
        saved = read_json(uploads_dir() / CHOICE_FILE)
        chosen = TrainConfig(**{k: saved[k] for k in ("corpus", "max_pieces", "chord_mode")},
                             lead_line=saved.get("lead_line", TrainConfig.lead_line)
                             ).validate()
    except (OSError, ValueError, KeyError, TypeError):
        return
    if chosen.corpus != DEFAULT_CORPUS and \
            chosen.corpus not in {str(f) for f in upload_folders()}:
        return
    st.session_state.update({CORPUS_KEY: chosen.corpus, MAX_PIECES_KEY: chosen.max_pieces,
                             CHORD_MODE_KEY: chosen.chord_mode,
                             LEAD_LINE_KEY: chosen.lead_line})


def corpus_settings() -> dict[str, Any]:
    """The selected corpus as TrainConfig fields: corpus, max_pieces, chord_mode, lead_line.

    `TrainConfig(**corpus_settings())` trains on exactly what the Corpus page showed.
    """
    defaults = TrainConfig()
    return {"corpus": selected_corpus(),
            "max_pieces": int(st.session_state.get(MAX_PIECES_KEY, defaults.max_pieces)),
            "chord_mode": st.session_state.get(CHORD_MODE_KEY, defaults.chord_mode),
            "lead_line": st.session_state.get(LEAD_LINE_KEY, defaults.lead_line)}


def corpus_label(source: str | None = None) -> str:
    """A short human name for a corpus source (the upload folder's name, not its path)."""
    source = selected_corpus() if source is None else source
    return "Bach chorales (music21)" if is_default_corpus(source) else Path(source).name


def upload_folders() -> list[Path]:
    """Previously uploaded corpora, newest first (folder names start with a timestamp)."""
    root = uploads_dir()
    if not root.is_dir():
        return []
    return sorted((p for p in root.iterdir() if p.is_dir() and not p.name.startswith(".")),
                  reverse=True)


def load_corpus(source: str | None = None, max_pieces: int | None = None,
                chord_mode: str | None = None, lead_line: str | None = None,
                progress: Callable[[Progress], None] | None = None) -> Corpus:
    """The corpus with these settings (each defaults to the session's selection), kept in
    memory across reruns and sessions (core.data.recent.recent_corpus). The first prepare
    of the full default corpus parses ~400 files (~35 s on 2 cores); afterwards it is
    instant. Raises core.data.corpus.CorpusError for an unusable corpus. Treat the result
    as read-only: it is shared between sessions."""
    chosen = {k: v for k, v in (("corpus", source and str(source)),
                                ("max_pieces", max_pieces), ("chord_mode", chord_mode),
                                ("lead_line", lead_line)) if v is not None}
    settings = TrainConfig(**{**corpus_settings(), **chosen})
    return recent_corpus(settings, cache_dir(), progress)


def is_conditioned(value) -> bool:
    """A runs table's `conditioned` cell: True, or 1 when a missing value made it a float."""
    return value is True or (isinstance(value, (int, float, np.bool_)) and value == 1)


def usable_runs(runs: pd.DataFrame) -> pd.DataFrame:
    """Runs with saved weights (at least one finished epoch), newest first: those Listen
    and the listening test can generate from."""
    root = runs_dir()
    ok = runs["state"].isin(USABLE) & runs["run_id"].map(lambda r: Run(root / r).has_model)
    return runs[ok].sort_values("run_id", ascending=False)


def run_names(runs: pd.DataFrame) -> dict[str, str]:
    """run_labels plus what the run id does not say: conditioning, the thesis's window
    objective (the demo recipe trains the sequence objective)."""
    labels = run_labels(runs)
    for _, row in runs.iterrows():
        notes = [text for text, on in
                 (("conditioned on the lead", is_conditioned(row.get("conditioned"))),
                  ("window objective", row.get("objective") == "window")) if on]
        if notes:
            labels[row["run_id"]] = f"{labels[row['run_id']]} · {', '.join(notes)}"
    return labels


def show_no_runs(runs: pd.DataFrame | None = None) -> bool:
    """Show NO_RUNS_MESSAGE when there are no runs; returns True when it did."""
    runs = load_runs_table() if runs is None else runs
    if runs.empty:
        st.info(NO_RUNS_MESSAGE, icon=":material/model_training:")
        return True
    return False


def glossary() -> None:
    """core.glossary's terms in a sidebar expander: every page shows it (app.py)."""
    with st.sidebar.expander("Glossary", icon=":material/menu_book:"):
        st.markdown("\n".join(f"- **{term}**: {text}" for term, text in GLOSSARY))


def readable(frame: pd.DataFrame, digits: int = 3) -> pd.DataFrame:
    """A result table as text for st.dataframe, which shows a missing number as "None":
    floats rounded to `digits`, and a dash wherever a value is missing."""
    def cell(value: Any) -> Any:
        if value is None or (isinstance(value, float) and math.isnan(value)):
            return MISSING
        return f"{value:.{digits}f}" if isinstance(value, float) else value
    return frame.astype(object).map(cell)


def prepared_corpora() -> int:
    """How many corpora have been prepared and cached (any settings)."""
    return len(cached_corpora(cache_dir()))


CHECKLIST_ROWS = 10      # a checklist longer than this scrolls inside its box
CHECKLIST_PX = 330       # that box's height: about ten rows


def _checklist_keys(key: str) -> tuple[str, int]:
    return f"{key}_round", st.session_state.get(f"{key}_round", 0)


def checklist(labels: dict[str, str], key: str, placeholder: str) -> list[str]:
    """Every item of `labels` ({id: label}) as a checkbox, narrowed by a filter box (each
    typed word must be in the label); returns the ticked ids, those the filter hides too.

    A picker for deleting: it draws every item, where a multiselect's dropdown draws only its
    first ten. Its boxes are new widgets after `forget_checklist`, since a widget whose key is
    popped keeps showing its old value in the browser (a deleted run's chip, "delete the 0
    runs")."""
    _, round_ = _checklist_keys(key)
    words = st.text_input("Filter", key=f"{key}_filter", placeholder=placeholder,
                          help="Each word must appear in the name, in any order.")
    shown = [i for i, label in labels.items()
             if all(w in f"{label} {i}".lower() for w in words.lower().split())]
    boxes = {i: f"{key}_{round_}_{i}" for i in labels}
    left, right = st.columns([4, 1], vertical_alignment="center")
    left.caption(f"{len(shown)} of {len(labels)} shown")
    right.button("Tick all shown", key=f"{key}_all_{round_}", disabled=not shown,
                 on_click=lambda: st.session_state.update({boxes[i]: True for i in shown}))
    with st.container(height=CHECKLIST_PX if len(shown) > CHECKLIST_ROWS else "content"):
        for item in shown:
            st.checkbox(labels[item], key=boxes[item], persist_state="page")
    return [i for i in labels if st.session_state.get(boxes[i])]


def confirm_delete(place, key: str, picked: int, what: str) -> bool:
    """The confirmation box under a checklist: it names how many `what` are picked ("Yes,
    delete the 3 run(s) ... for good"), asks for a tick first while none is (never "delete
    the 0 run(s)"), and starts afresh with the checklist's boxes after a delete."""
    label = (f"Yes, delete the {picked} {what} for good" if picked
             else "Tick what to delete above first")
    return place.checkbox(label, key=f"{key}_sure_{_checklist_keys(key)[1]}",
                          disabled=not picked)


def forget_checklist(key: str) -> None:
    """Start the checklist afresh on the next run: nothing ticked, its confirmation unticked."""
    counter, round_ = _checklist_keys(key)
    st.session_state[counter] = round_ + 1


# Widget options for a choice that outlives its page, Streamlit's own (no file of ours): kept
# for the session when the user goes to another page and back, and in the address where it
# differs from the default, so a reload or a shared link opens on it (an address naming a
# deleted run or an option that no longer exists is ignored). Needs a key. Every page's
# remembered choices (Compare's runs and options, the Train form, Listen, the listening
# test) use this and nothing else.
KEEP = {"persist_state": "session", "bind": "query-params"}

