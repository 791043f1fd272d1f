"""Corpus page, the prepared corpus: how much there is, what became of each file (kept with
the tracks that became its lead and accompaniment, or skipped and why), the symbols and
durations the models will predict, a piano roll of any piece and the piece lengths.
"""
from __future__ import annotations

import streamlit as st

from core.data.notes import concat_notes, symbol_notes
from core.data.statistics import (
    corpus_counts,
    duration_histogram,
    piece_table,
    report_table,
    symbol_frequencies,
)
from core.data.timeline import PartSymbols
from core.outputs.figures import PART_COLOURS, count_figure, piano_roll

REPORT_COLUMNS = {
    "status": st.column_config.TextColumn("status", width="small"),
    "reason": st.column_config.TextColumn("why skipped", width=280),
    "lead": st.column_config.TextColumn("lead tracks", help="The track(s) whose top line "
                                        "became the lead (#: track number)."),
    "accompaniment": st.column_config.TextColumn("accompaniment tracks",
                                                 help="The tracks merged into the "
                                                      "accompaniment."),
    "moved_onsets": st.column_config.NumberColumn(
        "onsets moved", format="percent", width="small",
        help="Share of the file's onsets the 16th grid moved by more than a 64th note "
             "(triplets, swing, a played performance)."),
    "capped_notes": st.column_config.NumberColumn(
        "notes cut", width="small", help="Notes longer than four bars, cut to that length."),
    "confidence": st.column_config.ProgressColumn(
        "lead confidence", min_value=0.0, max_value=1.0, format="%.2f", width="small",
        help="How sure the melody rule is of the lead it chose (1: no other track could "
             "lead, or the roles file chose it)."),
    "doubt": st.column_config.TextColumn(
        "why uncertain", width=280,
        help="Set when the lead may be wrong: check the file in Tracks and roles above."),
}


# A piece's split as every page says it: "held-out", never the cache's "validation".
SPLIT_WORDS = {"train": "training", "validation": "held-out"}
# the lead's confidence beside the lead, before the wide accompaniment column
REPORT_ORDER = ["file", "status", "reason", "lead", "confidence", "doubt", "accompaniment",
                "moved_onsets", "capped_notes"]


def piece_notes(piece, chord_mode: str):
    """The note table of a corpus piece's parts (Model 1 steps read back as notes)."""
    return concat_notes(symbol_notes(PartSymbols({"steps": data.steps}, 1, chord_mode), part)
                        for part in ("accompaniment", "lead")
                        if (data := piece.part(part)) is not None)


def show_corpus(corpus, chord_mode: str) -> None:
    """The prepared corpus: counts, then one tab each for the file report, frequent
    symbols, durations, a piano roll and the pieces."""
    counts = corpus_counts(corpus)
    report = report_table(corpus)
    if "accompaniment" not in set(counts["part"]):
        st.info("No piece of this corpus has an accompaniment (each file is one line): lead "
                "runs can train on it, accompaniment runs cannot.", icon=":material/info:")
    skipped = int((report["status"] == "skipped").sum())
    uncertain = sum(r.uncertain for r in corpus.report)
    lead = counts.set_index("part").loc["lead"]
    cols = st.columns(6)
    cols[0].metric("Pieces", len(corpus.pieces))
    cols[1].metric("Held-out pieces", len(corpus.split("validation")))
    cols[2].metric("Files skipped", skipped)
    cols[3].metric("Uncertain leads", uncertain, help="Kept files whose lead the melody rule "
                   "is unsure of: listed first in the file report, with why.")
    cols[4].metric("Lead steps (model 1)", f"{int(lead['steps (model 1)']):,}")
    cols[5].metric("Lead steps vocabulary", int(lead["steps vocabulary"]))
    if uncertain:
        st.warning(f"The lead of {uncertain} file(s) is uncertain (two similar tracks, or no "
                   "track that plays a melody): they come first in the **File report** with "
                   "why. Check them in **Tracks and roles** and save the right lead; the next "
                   "Prepare uses it.", icon=":material/help:")
    st.caption(f"Corpus `{corpus.corpus_id}` · cache key `{corpus.key[:12]}` · "
               "vocabulary sizes are counted over training and held-out pieces, as a run "
               "builds them.")
    st.dataframe(counts, hide_index=True, width="stretch")

    tabs = st.tabs(["File report", "Frequent symbols", "Durations (model 2)", "Piano roll",
                    "Pieces"])
    with tabs[0]:
        st.write(f"{len(report) - skipped} kept, {skipped} skipped, {uncertain} with an "
                 "uncertain lead" +
                 (" — skipped and uncertain files come first, with the reason."
                  if skipped or uncertain else ".") +
                 " Each kept file says which tracks became its lead and its accompaniment, "
                 "and how sure the melody rule is of the lead.")
        st.dataframe(report, hide_index=True, width="stretch", column_config=REPORT_COLUMNS,
                     column_order=REPORT_ORDER, height=min(400, 38 + 35 * len(report)))
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
        st.caption(f"{SPLIT_WORDS.get(piece.split, piece.split)} piece · "
                   f"{len(piece.lead.steps)} steps · "
                   + ("lead and accompaniment" if piece.accompaniment else "lead only"))
        st.plotly_chart(piano_roll(piece_notes(piece, chord_mode), plot_px=340),
                        width="stretch")
        if chord_mode == "pitch_class":
            st.caption("Pitch-class chords have no octave: they are drawn voiced upwards "
                       "from C3, as they sound when a piece is written out.")
    with tabs[4]:
        pieces = piece_table(corpus)
        st.dataframe(pieces.assign(split=pieces["split"].map(SPLIT_WORDS).fillna(
            pieces["split"])), hide_index=True, width="stretch")
