"""Metrics on small hand-made pieces whose values are known by construction."""
from __future__ import annotations

import math
import random

import numpy as np
import pandas as pd
import pytest
from music21 import chord, note, stream, tie

from core.data.notes import (
    NOTE_COLUMNS,
    concat_notes,
    empty_notes,
    note_table,
    part_name,
    read_notes,
    symbol_notes,
)
from core.data.timeline import PartSymbols
from core.evidence.distributions import compare_distributions, overlapping_area
from core.evidence.metrics import (
    INDEX_METRICS,
    NOTE_METRICS,
    SYMBOL_METRICS,
    consonance,
    empty_beat_rate,
    groove_consistency,
    longest_repeated_suffix,
    loop_share,
    n_pitch_classes_used,
    piece_metrics,
    pitch_class_entropy,
    pitch_range,
    polyphony,
    polyphony_rate,
    scale_consistency,
)
from core.evidence.ngrams import NgramIndex

C_MAJOR = ["60", "62", "64", "65", "67", "69", "71", "72"]


def steps_of(pitches: list[str], length: int = 4) -> list[str]:
    """Each symbol held for `length` 16ths."""
    out: list[str] = []
    for p in pitches:
        out += [p] + ["_"] * (length - 1)
    return out


def notes_from_steps(steps: list[str], part: str, chord_mode: str = "pitch_class"):
    """Note table of one part's Model 1 symbols."""
    return symbol_notes(PartSymbols({"steps": steps}, 1, chord_mode), part)


def lead(steps: list[str]) -> pd.DataFrame:
    return notes_from_steps(steps, "lead")


def piece(lead_steps: list[str], acc_steps: list[str]) -> pd.DataFrame:
    return concat_notes([notes_from_steps(lead_steps, "lead"),
                           notes_from_steps(acc_steps, "accompaniment")])


def random_symbols(n: int, seed: int = 0, alphabet: int = 24) -> list[str]:
    rng = random.Random(seed)
    return [str(48 + rng.randrange(alphabet)) for _ in range(n)]


# ------------------------------------------------------------------ note tables

def test_notes_from_steps_rows_and_chord_voicing():
    table = notes_from_steps(["60", "_", "r", "0.4.7", "_", "_", "_", "9.2"], "lead")
    assert list(table.columns) == list(NOTE_COLUMNS)
    rows = list(table.itertuples(index=False, name=None))
    assert rows[0] == ("lead", 0.0, 0.5, 60, "C4")
    assert sorted(r[3] for r in rows if r[1] == 0.75) == [48, 52, 55]  # upward from octave 3
    assert sorted(r[3] for r in rows if r[1] == 1.75) == [57, 62]  # A3 then D above it
    assert table.attrs["length"] == 2.0


def test_notes_from_steps_voicing_mode_keeps_pitches():
    table = notes_from_steps(["48.64.67", "_"], "accompaniment", chord_mode="voicing")
    assert sorted(table["pitch"]) == [48, 64, 67]
    assert set(table["end"]) == {0.5}


def test_note_table_of_a_score_and_of_a_part():
    upper, lower = stream.Part(), stream.Part()
    upper.partName, lower.partName = "lead", "accompaniment"
    upper.append([note.Note(72, quarterLength=1), note.Rest(quarterLength=1),
                  note.Note(74, quarterLength=2)])
    lower.append(chord.Chord([48, 52, 55], quarterLength=4))
    table = note_table(stream.Score([upper, lower]))
    assert len(table) == 5
    assert set(table["part"]) == {"lead", "accompaniment"}
    assert table[table["pitch"] == 74]["start"].item() == 2.0
    assert consonance(table) == 0.5  # C, then D: a second against the C below
    assert len(note_table(upper)) == 2
    assert set(note_table(lower, part="accompaniment")["part"]) == {"accompaniment"}


def test_note_table_merges_ties():
    p = stream.Part()
    first, second = note.Note(60, quarterLength=2), note.Note(60, quarterLength=2)
    first.tie, second.tie = tie.Tie("start"), tie.Tie("stop")
    p.append([first, second])
    table = note_table(p)
    assert len(table) == 1 and table["end"].item() == 4.0
    # a note across a barline, split and tied by makeNotation, is one note again
    p = stream.Part()
    p.append([note.Note(60, quarterLength=2), note.Note(62, quarterLength=4),
              note.Note(64, quarterLength=2)])
    table = note_table(p.makeNotation())
    assert list(table.itertuples(index=False, name=None)) == [
        ("lead", 0.0, 2.0, 60, "C4"), ("lead", 2.0, 6.0, 62, "D4"), ("lead", 6.0, 8.0, 64, "E4")]


def test_model_2_symbols_and_their_table():
    part = PartSymbols({"pitch": ["60", "r", "0.4.7"], "duration": ["1/3", "2/3", "1.0"]}, 2,
                       "pitch_class")
    table = symbol_notes(part, "accompaniment")
    assert table["start"].tolist() == [0.0, 1.0, 1.0, 1.0]
    assert table["pitch"].tolist() == [60, 48, 52, 55] and table.attrs["length"] == 2.0


def test_part_names_have_one_spelling(tmp_path):
    upper, lower = stream.Part([note.Note(72)]), stream.Part([note.Note(48)])
    upper.partName, lower.partName = "Lead", "Accompaniment"  # a rendered score's staves
    assert set(note_table(stream.Score([upper, lower]))["part"]) == {"lead", "accompaniment"}
    assert [part_name(n) for n in ("Lead", "accompaniment", "Piano")] == [
        "lead", "accompaniment", "Piano"]
    old = tmp_path / "piece_notes.csv"  # a sample written before parts had one spelling
    old.write_text("part,start,end,pitch,name\nLead,0.0,1.0,72,C5\nAccompaniment,0.0,1.0,48,C3\n")
    assert read_notes(old)["part"].tolist() == ["lead", "accompaniment"]
    empty = tmp_path / "empty.csv"
    empty.write_text("part,start,end,pitch,name\n")
    assert read_notes(empty).empty and list(read_notes(empty).columns) == list(NOTE_COLUMNS)


# ------------------------------------------------------------------ pitch metrics

def test_c_major_scale():
    notes = lead(steps_of(C_MAJOR))
    assert scale_consistency(notes) == 1.0
    assert n_pitch_classes_used(notes) == 7
    assert pitch_range(notes) == 12


def test_chromatic_entropy_and_scale():
    notes = lead(steps_of([str(p) for p in range(60, 72)]))
    assert pitch_class_entropy(notes) == pytest.approx(math.log2(12))
    assert scale_consistency(notes) == pytest.approx(7 / 12)
    assert pitch_class_entropy(lead(steps_of(["60", "72"]))) == 0.0


# ------------------------------------------------------------------ time metrics

def test_monophonic_line():
    notes = lead(steps_of(C_MAJOR, 2))
    assert polyphony(notes) == 1.0
    assert polyphony_rate(notes) == 0.0
    assert empty_beat_rate(notes) == 0.0


def test_held_triad():
    notes = lead(["0.4.7"] + ["_"] * 15)
    assert polyphony(notes) == 3.0
    assert polyphony_rate(notes) == 1.0


def test_half_polyphonic():
    notes = piece(["60"] + ["_"] * 15, ["48"] + ["_"] * 7 + ["r"] + ["_"] * 7)
    assert polyphony(notes) == pytest.approx(1.5)
    assert polyphony_rate(notes) == pytest.approx(0.5)


def test_doubled_pitch_counts_once():
    notes = piece(["60", "_"], ["60", "_"])
    assert polyphony(notes) == 1.0


def test_empty_beats_with_a_rest_bar():
    bar = steps_of(["60", "62", "64", "65"])
    rest_bar = ["r"] + ["_"] * 15
    assert empty_beat_rate(lead(bar + rest_bar + bar)) == pytest.approx(4 / 12)
    # a trailing rest bar counts too: its length travels with the table
    assert empty_beat_rate(lead(bar + rest_bar)) == pytest.approx(0.5)
    # half a beat of sound leaves the beat non-empty
    assert empty_beat_rate(lead(["60", "_", "r", "_"])) == 0.0


def test_one_bar_repeated():
    bar = ["60", "_", "64", "67", "_", "_", "72", "r", "67", "_", "64", "_", "62", "60", "_", "_"]
    symbols = bar * 8
    notes = lead(symbols)
    assert groove_consistency(notes) == 1.0
    assert loop_share(symbols) == pytest.approx(1.0)
    assert longest_repeated_suffix(symbols) == len(bar) * 7


def test_groove_consistency_changing_rhythm():
    # bar 1 has onsets on the 4 beats, bar 2 on all 16 steps: 12 differing positions
    notes = lead(steps_of(["60"] * 4) + ["62"] * 16)
    assert groove_consistency(notes) == pytest.approx(1 - 12 / 16)
    assert math.isnan(groove_consistency(lead(["60"] * 16)))  # one bar: no neighbours


def test_consonance_chord_tones_and_clashes():
    acc = ["0.4.7"] + ["_"] * 15
    assert consonance(piece(steps_of(["72", "76", "79", "84"]), acc)) == 1.0
    assert consonance(piece(steps_of(["66", "73", "78", "61"]), acc)) == 0.0
    # D against C-E-G is a second: one of four onsets clashes
    assert consonance(piece(steps_of(["72", "74", "79", "84"]), acc)) == pytest.approx(0.75)


def test_consonance_excludes_silent_accompaniment():
    acc = ["0.4.7", "_", "_", "_"] + ["r"] + ["_"] * 11
    notes = piece(steps_of(["72", "73", "73", "73"]), acc)
    assert consonance(notes) == 1.0  # only the first onset has accompaniment
    assert math.isnan(consonance(piece(steps_of(["72"]), ["r", "_", "_", "_"])))
    assert math.isnan(consonance(lead(steps_of(["72"]))))


# ------------------------------------------------------------------ loops

def test_random_sequence_has_no_loops():
    symbols = random_symbols(2000, seed=1)
    assert loop_share(symbols) < 0.02
    assert longest_repeated_suffix(symbols) < 6


def test_greedy_loop_after_free_start():
    loop = random_symbols(16, seed=2)
    symbols = random_symbols(48, seed=3) + loop * 4
    assert loop_share(symbols) == pytest.approx(64 / 112, abs=0.05)
    assert longest_repeated_suffix(symbols) >= 48


def test_loop_edge_cases():
    assert longest_repeated_suffix(list("aaaa")) == 3
    assert longest_repeated_suffix(list("abcd")) == 0
    assert longest_repeated_suffix([]) == 0
    assert math.isnan(loop_share([]))
    assert loop_share(list("abc")) == 0.0
    assert loop_share(list("abcabc"), min_length=3) == 1.0
    with pytest.raises(ValueError):
        loop_share(list("abc"), min_length=0)


# ------------------------------------------------------------------ training overlap

@pytest.fixture(scope="module")
def training() -> list[list[str]]:
    return [random_symbols(200, seed=10 + i) for i in range(5)]


def test_novelty(training):
    index = NgramIndex(training)
    assert index.novelty(training[2], 4) == 0.0
    assert index.novelty(training[0], 8) == 0.0
    unseen = [f"x{i}" for i in range(30)]
    assert index.novelty(unseen, 4) == 1.0
    half = training[1][:40] + unseen[:20] + ["y"] * 20
    assert 0.0 < index.novelty(half, 8) < 1.0
    assert math.isnan(index.novelty(["60"] * 3, 4))


def test_memorisation(training):
    index = NgramIndex(training)
    copied = training[3][50:87]
    piece_symbols = [f"x{i}" for i in range(20)] + copied + [f"y{i}" for i in range(20)]
    assert index.longest_copy(piece_symbols) == 37
    assert index.longest_copy(training[4]) == 200
    assert index.longest_copy(["z"] * 10) == 0
    # a run spanning two training pieces is not one copy
    spanning = training[0][-10:] + training[1][:10]
    assert index.longest_copy(spanning) < 20


def test_index_over_a_corpus_sized_training_set():
    corpus = [random_symbols(200, seed=i, alphabet=40) for i in range(400)]
    index = NgramIndex(corpus)
    assert index.longest_copy(corpus[7][:150]) == 150
    assert index.novelty(corpus[7], 8) == 0.0


def test_index_rejects_bad_training():
    with pytest.raises(ValueError, match="no training"):
        NgramIndex([])
    with pytest.raises(ValueError, match="list of symbol sequences"):
        NgramIndex(["60", "62", "64"])
    with pytest.raises(ValueError):
        NgramIndex([["60"]]).novelty(["60"], 0)


# ------------------------------------------------------------------ piece_metrics

def test_piece_metrics_keys_and_values(training):
    bar = steps_of(["72", "76", "79", "84"])
    notes = piece(bar * 2, (["0.4.7"] + ["_"] * 15) * 2)
    basic = piece_metrics(notes)
    assert list(basic) == list(NOTE_METRICS)
    assert basic["consonance"] == 1.0
    full = piece_metrics(notes, symbols=bar * 2, ngram_index=NgramIndex(training))
    assert list(full) == list(NOTE_METRICS + SYMBOL_METRICS + INDEX_METRICS)
    assert full["novelty_4"] == 1.0 and full["memorisation"] == 0.0
    assert full["loop_share"] == 1.0
    assert all(isinstance(v, float) for v in full.values())


def test_empty_note_table():
    values = piece_metrics(empty_notes(), length=4.0)
    assert values["n_pitch_classes_used"] == 0.0
    assert values["empty_beat_rate"] == 1.0
    for key in ("pitch_range", "pitch_class_entropy", "scale_consistency", "polyphony",
                "polyphony_rate", "groove_consistency", "consonance"):
        assert math.isnan(values[key]), key
    assert math.isnan(empty_beat_rate(notes_from_steps([], "lead")))


def test_bad_note_tables():
    with pytest.raises(ValueError, match="lacks column"):
        piece_metrics(pd.DataFrame({"start": [0.0], "pitch": [60]}))
    with pytest.raises(ValueError, match="end before"):
        polyphony(pd.DataFrame({"part": ["lead"], "start": [1.0], "end": [0.5],
                                  "pitch": [60]}))
    with pytest.raises(ValueError, match="DataFrame"):
        polyphony([("lead", 0, 1, 60)])
    with pytest.raises(ValueError, match="symbols"):
        piece_metrics(empty_notes(), ngram_index=NgramIndex([["60"]]))
    with pytest.raises(ValueError, match="not one string"):
        notes_from_steps("60 _ _", "lead")


# ------------------------------------------------------------------ distributions

def test_overlapping_area():
    rng = np.random.default_rng(0)
    sample = rng.normal(size=200)
    assert overlapping_area(sample, sample) == pytest.approx(1.0, abs=1e-3)
    assert overlapping_area(sample, sample + 50) == pytest.approx(0.0, abs=1e-6)
    partial = overlapping_area(sample, rng.normal(1.0, 1.0, size=200))
    assert 0.4 < partial < 0.8  # two unit normals one sd apart overlap ~0.62
    assert overlapping_area(sample, sample[::-1]) == pytest.approx(1.0, abs=1e-3)


def test_overlapping_area_degenerate():
    assert overlapping_area([2.0, 2.0, 2.0], [2.0, 2.0]) == 1.0
    assert overlapping_area([0.0], [1.0]) == 0.0
    assert math.isnan(overlapping_area([], [1.0, 2.0]))
    assert math.isnan(overlapping_area([math.nan], [1.0, 2.0]))
    point_in_spread = overlapping_area([0.0] * 10, np.linspace(-1, 1, 50))
    assert 0.0 < point_in_spread <= 1.0
    assert overlapping_area([100.0] * 10, np.linspace(-1, 1, 50)) < 1e-6


def test_compare_distributions():
    rng = np.random.default_rng(1)
    generated = pd.DataFrame({"piece": [f"g{i}" for i in range(30)],
                              "polyphony": rng.normal(2, 0.2, 30),
                              "loop_share": rng.uniform(0.8, 1.0, 30)})
    reference = pd.DataFrame({"polyphony": rng.normal(2, 0.2, 40),
                              "loop_share": rng.uniform(0.0, 0.2, 40),
                              "novelty_4": np.zeros(40)})
    table = compare_distributions(generated, reference)
    assert list(table.index) == ["polyphony", "loop_share"]
    assert list(table.columns) == ["generated_mean", "generated_std", "reference_mean",
                                   "reference_std", "overlapping_area"]
    assert table.loc["polyphony", "overlapping_area"] > 0.6
    assert table.loc["loop_share", "overlapping_area"] < 0.05
    assert table.loc["loop_share", "reference_mean"] == pytest.approx(
        reference["loop_share"].mean())
    with pytest.raises(ValueError, match="lacks metric"):
        compare_distributions(generated, reference, metrics=["novelty_4"])
    with pytest.raises(ValueError, match="share no"):
        compare_distributions(generated[["piece"]], reference)
    with pytest.raises(ValueError, match="DataFrame"):
        compare_distributions([1, 2], reference)
