"""Corpus page: choose the music to train on, set which tracks lead, prepare it, and look at
what the models will see.

The choice (source, max pieces, chord mode, lead line) is stored in st.session_state by
views.common and is exactly what the Train page puts in TrainConfig's corpus, max_pieces,
chord_mode and lead_line. The
settings are drawn whatever the source, so uploading never resets them. The sections live in
views/corpus_source.py (bundled, upload with its check, previous uploads, deletion),
views/corpus_roles.py (each file's tracks and roles) and views/corpus_report.py (the
prepared corpus).
"""
from __future__ import annotations

from pathlib import Path

import streamlit as st

from core.data.corpus import DEFAULT_CORPUS, LEAD_LINES, CorpusError
from core.data.prepare import Progress
from core.data.symbols import CHORD_MODES
from core.nets.config import BOUNDS, TrainConfig
from views import common
from views.corpus_report import show_corpus
from views.corpus_roles import roles_section, roles_stamp
from views.corpus_source import choose_source, show_upload_result, source_kind

CHORD_LABELS = {"pitch_class": "pitch classes, octave lost (thesis)",
                "voicing": "exact voicing (MIDI numbers)"}
LEAD_LINE_LABELS = {"auto": "automatic", "top": "top line (one note at a time)",
                    "whole": "whole lead track (chords kept)"}
PROGRESS_UPDATES = 200  # at most this many redraws of the progress bar per prepare


def _persisted(widget_key: str, state_key: str, default):
    """Start a widget at the value kept in `state_key` (widget state itself is dropped when
    the user visits another page, the kept value is not)."""
    if widget_key not in st.session_state:
        st.session_state[widget_key] = st.session_state.get(state_key, default)


def _prepared() -> set:
    """Settings prepared during this server's life (shared by sessions): those are shown
    at once, anything else waits for the Prepare button (the full corpus takes ~35 s)."""
    return _prepared_store()


@st.cache_resource(show_spinner=False)
def _prepared_store() -> set:
    return set()


def settings_row() -> tuple[int, str, str]:
    defaults = TrainConfig()
    _persisted("corpus_max_pieces_w", common.MAX_PIECES_KEY, defaults.max_pieces)
    _persisted("corpus_chord_mode_w", common.CHORD_MODE_KEY, defaults.chord_mode)
    _persisted("corpus_lead_line_w", common.LEAD_LINE_KEY, defaults.lead_line)
    left, right, third = st.columns(3)
    max_pieces = left.number_input(
        "Max pieces (0 = all)", min_value=int(BOUNDS["max_pieces"].low),
        max_value=int(BOUNDS["max_pieces"].high), step=1, key="corpus_max_pieces_w",
        help="A few pieces prepare in about a second: handy for a quick demo.")
    chord_mode = right.selectbox("Chord mode", CHORD_MODES, format_func=CHORD_LABELS.get,
                                 key="corpus_chord_mode_w")
    lead_line = third.selectbox(
        "Lead line", LEAD_LINES, format_func=LEAD_LINE_LABELS.get, key="corpus_lead_line_w",
        help="The top line keeps one note at a time of the lead track (the skyline); the "
             "whole track keeps its chords, encoded as the accompaniment's are (the thesis's "
             "polyphonic lead). Automatic: the top line for the chorales and band files, the "
             "whole lead for a folder of lead/ and accompaniment/ files.")
    st.session_state[common.MAX_PIECES_KEY] = int(max_pieces)
    st.session_state[common.CHORD_MODE_KEY] = chord_mode
    st.session_state[common.LEAD_LINE_KEY] = lead_line
    return int(max_pieces), chord_mode, lead_line


class PrepareBar:
    """An st.progress bar that prepare_corpus's progress callback moves: files read of all,
    kept and skipped so far (redrawn at most PROGRESS_UPDATES times)."""

    def __init__(self, label: str) -> None:
        self.label = label
        self.bar = st.progress(0.0, text=f"Preparing {label}…")
        self.moved = False

    def __call__(self, p: Progress) -> None:
        self.moved = True
        if p.done == p.total or p.done % max(1, p.total // PROGRESS_UPDATES) == 0:
            doing = "Prepared" if p.done == p.total else "Preparing"
            self.bar.progress(p.done / p.total, text=f"{doing} {self.label}: {p.done} of "
                              f"{p.total} files read · {p.kept} kept · {p.skipped} skipped")


def prepared_corpus(source: str, max_pieces: int, chord_mode: str, lead_line: str):
    """The selected corpus once Prepare was pressed for these settings and roles (or already
    in this server's memory), else None after saying what to do."""
    label = common.corpus_label(source)
    if source != DEFAULT_CORPUS and not Path(source).is_dir():
        st.error(f"The selected upload folder `{source}` no longer exists; choose another "
                 "source.")
        return None
    prepare = st.button(f"Prepare {label}" + (f" ({max_pieces} pieces)" if max_pieces else ""),
                        type="primary", key="corpus_prepare",
                        help="Reads and encodes every file once; later prepares with the same "
                             "files, settings and roles read the cache.")
    settings = (source, max_pieces, chord_mode, lead_line,
                0 if source == DEFAULT_CORPUS else roles_stamp(Path(source)))
    if not prepare and settings not in _prepared():
        if any(s[:4] == settings[:4] for s in _prepared()):
            st.info("Roles were saved since this corpus was prepared: press **Prepare** to "
                    "use them.")
        elif source == DEFAULT_CORPUS:
            st.info("Press **Prepare** to read this corpus. The first prepare of all ~400 "
                    "chorales takes about 35 s on 2 cores; after that it is cached. Set *Max "
                    "pieces* to a few for a quick demo.")
        else:
            st.info("Press **Prepare** to read this folder with the roles above (MIDI files "
                    "are read fast; MusicXML and ABC take longer); after that it is cached.")
        return None
    bar = PrepareBar(label)
    try:
        corpus = common.load_corpus(source, max_pieces, chord_mode, lead_line, progress=bar)
    except CorpusError as exc:
        st.error(f"This corpus cannot be used: {exc}")
        return None
    finally:
        if not bar.moved:
            bar.bar.empty()          # read from a cache, or refused before reading
    _prepared().add(settings)
    common.remember_corpus_choice()
    return corpus


def main() -> None:
    st.title("Corpus")
    st.write("Choose the music the models learn from. The thesis used 62 boogie-woogie blues "
             "songs (not public); the offline default is the Bach chorales that ship with "
             "music21, soprano as the lead and the lower voices as the accompaniment. Your "
             "own MIDI files may have any number of instruments: one track leads, the others "
             "accompany, and you can change which.")
    kind = source_kind()
    show_upload_result(kind)
    max_pieces, chord_mode, lead_line = settings_row()
    choose_source(kind)
    source = common.selected_corpus()
    if source != DEFAULT_CORPUS and Path(source).is_dir():
        roles_section(Path(source))
    corpus = prepared_corpus(source, max_pieces, chord_mode, lead_line)
    if corpus is None:
        return
    st.success(f"**{common.corpus_label(source)}** is the selected corpus: the Train page "
               f"trains on it ({'all pieces' if not max_pieces else f'at most {max_pieces} pieces'}"
               f", chords as {CHORD_LABELS[chord_mode]}).")
    show_corpus(corpus, chord_mode)


main()
