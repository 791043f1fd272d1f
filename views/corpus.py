"""Corpus page: choose the music to train on, prepare it, and look at what the models will see.

The choice (source, max pieces, chord mode) is stored in st.session_state by views.common and
is exactly what the Train page puts in TrainConfig's corpus, max_pieces and chord_mode. The
settings are drawn whatever the source, so uploading never resets them; a previous upload
can be deleted (with a confirmation).
"""
from __future__ import annotations

from pathlib import Path

import streamlit as st

from core.data.corpus import DEFAULT_CORPUS, SUFFIXES, CorpusError
from core.data.notes import concat_notes, symbol_notes
from core.data.statistics import (
    corpus_counts,
    duration_histogram,
    piece_table,
    report_table,
    symbol_frequencies,
)
from core.data.symbols import CHORD_MODES
from core.data.timeline import PartSymbols
from core.nets.config import BOUNDS, TrainConfig
from core.outputs.figures import PART_COLOURS, count_figure, piano_roll
from core.runs.deletion import DeletionError, delete_upload
from views import common

SOURCE_DEFAULT, SOURCE_UPLOAD, SOURCE_PREVIOUS = "default", "upload", "previous"
SOURCE_LABELS = {SOURCE_DEFAULT: "Bach chorales (bundled with music21, offline)",
                 SOURCE_UPLOAD: "Upload MIDI / MusicXML / ABC files or a zip",
                 SOURCE_PREVIOUS: "A previous upload"}
CHORD_LABELS = {"pitch_class": "pitch classes, octave lost (thesis)",
                "voicing": "exact voicing (MIDI numbers)"}
UPLOAD_TYPES = sorted({s.lstrip(".") for s in SUFFIXES} | {"zip"})


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


def source_kind() -> str:
    """The Source radio (a fresh upload shows as the selected previous upload)."""
    pending = st.session_state.pop("corpus_pending_folder", None)
    if pending:
        st.session_state["corpus_source_kind"] = SOURCE_PREVIOUS
        st.session_state["corpus_folder_pick"] = pending
    if "corpus_source_kind" not in st.session_state:
        st.session_state["corpus_source_kind"] = (
            SOURCE_DEFAULT if common.selected_corpus() == DEFAULT_CORPUS else SOURCE_PREVIOUS)
    return st.radio("Source", list(SOURCE_LABELS), format_func=SOURCE_LABELS.get,
                    key="corpus_source_kind", horizontal=True)


def choose_source(kind: str) -> None:
    """The uploader or the folder picker of the chosen source; writes the choice to
    common.CORPUS_KEY."""
    current = common.selected_corpus()
    folders = common.upload_folders()
    if kind == SOURCE_DEFAULT:
        st.session_state[common.CORPUS_KEY] = DEFAULT_CORPUS
    elif kind == SOURCE_UPLOAD:
        upload_form()
    else:
        if not folders:
            st.info("Nothing has been uploaded yet: choose *Upload* above.")
            return
        names = [str(f) for f in folders]
        if current in names:
            st.session_state.setdefault("corpus_folder_pick", current)
        elif st.session_state.get("corpus_folder_pick") not in names:
            st.session_state["corpus_folder_pick"] = names[0]
        pick = st.selectbox("Uploaded folder", names, key="corpus_folder_pick",
                            format_func=lambda p: common.corpus_label(p))
        st.session_state[common.CORPUS_KEY] = pick
        delete_form(Path(pick))


def delete_form(folder: Path) -> None:
    """Delete the picked upload for good, after a confirmation."""
    with st.expander(f"Delete {folder.name}", icon=":material/delete:"):
        sure = st.checkbox(f"Yes, delete the uploaded corpus {folder.name} and its files for "
                           "good (runs trained on it keep their records and weights)",
                           key="corpus_delete_sure")
        if st.button("Delete this upload", key="corpus_delete", disabled=not sure,
                     icon=":material/delete:"):
            try:
                delete_upload(folder, common.uploads_dir())
            except DeletionError as exc:
                st.error(f"Not deleted: {exc}")
                return
            st.session_state[common.CORPUS_KEY] = DEFAULT_CORPUS
            for key in ("corpus_folder_pick", "corpus_delete_sure"):
                st.session_state.pop(key, None)
            if not common.upload_folders():
                st.session_state["corpus_source_kind"] = SOURCE_DEFAULT
            st.rerun()


def upload_form() -> None:
    """Save the chosen files into a fresh folder under uploads/ and select it."""
    with st.form("corpus_upload", clear_on_submit=True):
        files = st.file_uploader(
            "Score files or a zip of them (at most 20 MB each)", type=UPLOAD_TYPES,
            accept_multiple_files=True,
            help="Pieces with one or two instruments are used (drums are dropped); "
                 "the higher-sounding instrument is the lead unless a part is named "
                 "lead/melody/soprano/voice.")
        label = st.text_input("Name for this corpus", value="my-corpus", max_chars=60)
        submitted = st.form_submit_button("Save upload", type="primary")
    if submitted:
        if not files:
            st.warning("Choose at least one file first.")
            return
        result = common.save_uploaded_files(((f.name, f.getvalue()) for f in files), label)
        st.session_state["corpus_upload_result"] = result   # shown after the rerun
        if result.folder is not None:
            st.session_state[common.CORPUS_KEY] = str(result.folder)
            # widgets already drawn in this run cannot be changed: done before the next one
            st.session_state["corpus_pending_folder"] = str(result.folder)
        st.rerun()
    st.caption(f"Until an upload is saved, the selected corpus stays "
               f"**{common.corpus_label()}**.")
    st.stop()


def show_upload_result() -> None:
    """What the last upload kept, left out and refused (shown once, after its rerun)."""
    result = st.session_state.pop("corpus_upload_result", None)
    if result is None:
        return
    if result.folder is not None:
        st.success(f"Saved {len(result.saved)} file(s) in `{result.folder.name}`; it is now "
                   "the selected corpus.")
    for name, reason in result.refused:
        st.error(f"Refused **{name}**: {reason}")
    if result.skipped:
        st.warning("Left out of the zip: " + "; ".join(f"{n} ({r})" for n, r in result.skipped[:10])
                   + (" …" if len(result.skipped) > 10 else ""))


def settings_row() -> tuple[int, str]:
    defaults = TrainConfig()
    _persisted("corpus_max_pieces_w", common.MAX_PIECES_KEY, defaults.max_pieces)
    _persisted("corpus_chord_mode_w", common.CHORD_MODE_KEY, defaults.chord_mode)
    left, right = st.columns(2)
    max_pieces = left.number_input(
        "Max pieces (0 = all)", min_value=int(BOUNDS["max_pieces"].low),
        max_value=int(BOUNDS["max_pieces"].high), step=1, key="corpus_max_pieces_w",
        help="A few pieces prepare in about a second: handy for a quick demo.")
    chord_mode = right.selectbox("Chord mode", CHORD_MODES, format_func=CHORD_LABELS.get,
                                 key="corpus_chord_mode_w")
    st.session_state[common.MAX_PIECES_KEY] = int(max_pieces)
    st.session_state[common.CHORD_MODE_KEY] = chord_mode
    return int(max_pieces), chord_mode


def piece_notes(piece, chord_mode: str):
    """The note table of a corpus piece's parts (Model 1 steps read back as notes)."""
    return concat_notes(symbol_notes(PartSymbols({"steps": data.steps}, 1, chord_mode), part)
                        for part in ("accompaniment", "lead")
                        if (data := piece.part(part)) is not None)


def show_corpus(corpus, chord_mode: str) -> None:
    counts = corpus_counts(corpus)
    report = report_table(corpus)
    if "accompaniment" not in set(counts["part"]):
        st.info("No piece of this corpus has an accompaniment (one instrument each): lead "
                "runs can train on it, accompaniment runs cannot.", icon=":material/info:")
    skipped = int((report["status"] == "skipped").sum())
    lead = counts.set_index("part").loc["lead"]
    cols = st.columns(5)
    cols[0].metric("Pieces", len(corpus.pieces))
    cols[1].metric("Held-out pieces", len(corpus.split("validation")))
    cols[2].metric("Files skipped", skipped)
    cols[3].metric("Lead steps (model 1)", f"{int(lead['steps (model 1)']):,}")
    cols[4].metric("Lead steps vocabulary", int(lead["steps vocabulary"]))
    st.caption(f"Corpus `{corpus.corpus_id}` · cache key `{corpus.key[:12]}` · "
               "vocabulary sizes are counted over training and held-out pieces, as a run "
               "builds them.")
    st.dataframe(counts, hide_index=True, width="stretch")

    tabs = st.tabs(["File report", "Frequent symbols", "Durations (model 2)", "Piano roll",
                    "Pieces"])
    with tabs[0]:
        st.write(f"{len(report) - skipped} kept, {skipped} skipped" +
                 (" — skipped files come first, with the reason." if skipped else "."))
        st.dataframe(report, hide_index=True, width="stretch",
                     height=min(400, 38 + 35 * len(report)))
    with tabs[1]:
        a, b, c, d = st.columns(4)
        part = a.selectbox("Part", counts["part"].tolist(), key="corpus_freq_part")
        stream_name = b.selectbox("Stream", ["steps", "pitch", "duration"],
                                  format_func={"steps": "steps (model 1)",
                                               "pitch": "pitch (model 2)",
                                               "duration": "duration (model 2)"}.get,
                                  key="corpus_freq_stream")
        top = c.slider("How many", 5, 60, 25, key="corpus_freq_top")
        hold = d.checkbox("Include hold `_`", value=False, key="corpus_freq_hold",
                          help="Model 1's hold symbol is usually most of the steps.")
        freq = symbol_frequencies(corpus, part, stream_name, top=top, include_hold=hold)
        st.plotly_chart(count_figure(freq["symbol"], freq["count"], PART_COLOURS[part],
                                     "symbol", "count", shares=freq["share"]), width="stretch")
    with tabs[2]:
        part = st.selectbox("Part", counts["part"].tolist(), key="corpus_dur_part")
        hist = duration_histogram(corpus, part)
        st.plotly_chart(count_figure(hist["duration"], hist["count"], PART_COLOURS[part],
                                     "duration (quarter notes), shortest first", "events"),
                        width="stretch")
    with tabs[3]:
        names = [p.name for p in corpus.pieces]
        name = st.selectbox("Piece", names, key="corpus_roll_piece")
        piece = corpus.piece(name)
        st.caption(f"{piece.split} piece · {len(piece.lead.steps)} steps · "
                   + ("lead and accompaniment" if piece.accompaniment else "lead only"))
        st.plotly_chart(piano_roll(piece_notes(piece, chord_mode), plot_px=340),
                        width="stretch")
        if chord_mode == "pitch_class":
            st.caption("Pitch-class chords have no octave: they are drawn voiced upwards "
                       "from C3, as they sound when a piece is written out.")
    with tabs[4]:
        st.dataframe(piece_table(corpus), hide_index=True, width="stretch")


def prepared_corpus(source: str, max_pieces: int, chord_mode: str):
    """The selected corpus once Prepare was pressed for these settings (or already in this
    server's memory), else None after saying what to do; stops the page when unusable."""
    label = common.corpus_label(source)
    if source != DEFAULT_CORPUS and not Path(source).is_dir():
        st.error(f"The selected upload folder `{source}` no longer exists; choose another "
                 "source.")
        return None
    prepare = st.button(f"Prepare {label}" + (f" ({max_pieces} pieces)" if max_pieces else ""),
                        type="primary", key="corpus_prepare",
                        help="Parses and encodes every file once; later prepares with the same "
                             "files and settings read the cache.")
    settings = (source, max_pieces, chord_mode)
    if not prepare and settings not in _prepared():
        st.info("Press **Prepare** to read this corpus. The first prepare of all ~400 "
                "chorales takes about 35 s on 2 cores; after that it is cached. Set *Max "
                "pieces* to a few for a quick demo.")
        return None
    try:
        with st.spinner(f"Preparing {label}… (parsing with music21; cached afterwards)"):
            corpus = common.load_corpus(source, max_pieces, chord_mode)
    except CorpusError as exc:
        st.error(f"This corpus cannot be used: {exc}")
        return None
    _prepared().add(settings)
    return corpus


def main() -> None:
    st.title("Corpus")
    st.write("Choose the music the models learn from. The thesis used 62 boogie-woogie blues "
             "songs (not public); the offline default is the Bach chorales that ship with "
             "music21, soprano as the lead and the lower voices as the accompaniment.")
    kind = source_kind()
    show_upload_result()
    max_pieces, chord_mode = settings_row()
    choose_source(kind)
    source = common.selected_corpus()
    corpus = prepared_corpus(source, max_pieces, chord_mode)
    if corpus is None:
        return
    st.success(f"**{common.corpus_label(source)}** is the selected corpus: the Train page "
               f"trains on it ({'all pieces' if not max_pieces else f'at most {max_pieces} pieces'}"
               f", chords as {CHORD_LABELS[chord_mode]}).")
    show_corpus(corpus, chord_mode)


main()
