"""The melody rule (core.data.melody): what rules a track out as the melody, which melodic
track leads, and how sure the rule is; and the labelled sets that measure it
(core.data.labelled). Every file is a small band arrangement written here with symusic."""
from __future__ import annotations

import numpy as np
import pytest

from core.data.labelled import (
    MELODY,
    NON_MELODIC,
    OTHER,
    Label,
    LabelsError,
    build_music21_set,
    judge,
    read_labels,
    write_band,
    write_labels,
)
from core.data.melody import choose_lead, name_kind
from core.data.midi import read_midi

SCALE = [0, 2, 4, 5, 7, 9, 11, 12]


ODE = [2, 2, 3, 4, 4, 3, 2, 1, 0, 0, 1, 2, 2, 1, 1, 1, 2, 2, 3, 4, 4, 3, 2, 1, 0, 0, 1, 2, 1, 0,
       0, 0]  # degrees of a major scale: a tune everyone knows, a rest closing each phrase


def tune(bars: int = 8, low: int = 67, shift: int = 0, length: float = 0.5):
    """Ode to joy in eighths (degrees moved by `shift`: 2 is a second voice a third above),
    a rest closing every phrase."""
    degrees = [d + shift for d in ODE * (bars * 8 // len(ODE) + 1)][:bars * 8]
    return [(i * length, length, low + 12 * (d // 7) + SCALE[d % 7]) for i, d in
            enumerate(degrees) if i % 16 < 15]


def walking_bass(bars: int = 8):
    """Quarter notes leaping round the roots, twice as many onsets as a sparse tune."""
    return [(beat + h, 0.5, 36 + (0, 7, 12, 7)[beat % 4]) for beat in range(bars * 4)
            for h in (0, 0.5)]


def block_chords(bars: int = 8, low: int = 60):
    return [(bar * 4.0, 4.0, low + p) for bar in range(bars) for p in (0, 4, 7)]


def drums(bars: int = 8):
    return [(beat * 0.5, 0.25, 36 if beat % 2 == 0 else 42) for beat in range(bars * 8)]


def arpeggio(bars: int = 8, low: int = 84):
    return [(i * 0.25, 0.25, low + (0, 4, 7, 12, 7, 4)[i % 6]) for i in range(bars * 16)]


def choose(tmp_path, tracks):
    """The lead choice of a band file of (name, program, drums, notes) tracks."""
    notes = read_midi(write_band(tmp_path / "band.mid", tracks))
    return choose_lead(notes, [t for t in notes.tracks if t.notes and not t.is_drum])


def test_a_busy_bass_named_bass_never_leads_over_an_unnamed_tune(tmp_path):
    choice = choose(tmp_path, [("Drums", 0, True, drums()), ("Bass", 33, False, walking_bass()),
                               ("Track 3", 0, False, tune()), ("Keys", 4, False, block_chords())])
    assert choice.track == 3 and choice.confidence == 1.0 and choice.doubt == ""
    assert choice.kinds == {2: "bass", 3: "melodic", 4: "chords"}


@pytest.mark.parametrize("name, program", [("Walk", 0), ("", 33), ("Foot", 19)])
def test_a_bass_line_is_known_by_name_program_or_register(tmp_path, name, program):
    # the bass an octave above its usual place, as busy as can be, on a piano program
    bass = [(o, d, p + 12) for o, d, p in walking_bass()]
    choice = choose(tmp_path, [(name or "Track 1", program, False, bass),
                               ("Track 2", 0, False, tune(low=72))])
    assert choice.track == 2
    assert choice.kinds[1] == "bass" if name or program else True


def test_a_bass_program_played_high_is_a_lead_sound(tmp_path):
    choice = choose(tmp_path, [("Track 1", 38, False, tune(low=72)),
                               ("Track 2", 32, False, walking_bass())])
    assert choice.track == 1 and choice.kinds == {1: "melodic", 2: "bass"}


def test_a_short_counter_line_a_high_arpeggio_and_a_pad_do_not_lead(tmp_path):
    counter = [(o, d, p + 7) for o, d, p in tune(shift=2) if o < 4]  # one bar and a half
    choice = choose(tmp_path, [("Counter", 73, False, counter), ("Track 2", 0, False, arpeggio()),
                               ("Track 3", 89, False, block_chords(low=79)),
                               ("Track 4", 0, False, tune()),
                               ("Track 5", 117, False, tune(low=79))])
    assert choice.track == 4
    assert choice.kinds == {1: "short", 2: "arpeggio", 3: "chords", 4: "melodic",
                            5: "percussive"}


def test_a_name_that_says_melody_wins_and_one_that_says_accompaniment_loses(tmp_path):
    choice = choose(tmp_path, [("Backing vocal", 52, False, tune(low=74)),
                               ("Melody", 0, False, tune(low=62, shift=1))])
    assert choice.track == 2
    assert [name_kind(n) for n in ("Lead Vocal", "Melody 2", "Chord-Piano", "Bassoon",
                                   "Fingered Bass", "Acc 1", "Accordion")] == \
        ["lead", "melody", "accompaniment", "", "bass", "accompaniment", ""]


def test_two_similar_tunes_are_uncertain_and_a_doubling_is_not(tmp_path):
    twins = choose(tmp_path, [("Track 1", 0, False, tune()),
                              ("Track 2", 0, False, tune(shift=2))])
    assert twins.confidence < 0.5
    assert twins.doubt.startswith("two similar candidates: Track ")
    octave = [(o, d, p - 12) for o, d, p in tune()]
    doubled = choose(tmp_path, [("Track 1", 0, False, tune()),
                                ("Track 2", 0, False, octave)])
    assert (doubled.track, doubled.confidence, doubled.doubt) == (1, 1.0, "")


def test_without_a_melodic_track_the_chords_lead_not_the_bass_and_it_is_said(tmp_path):
    choice = choose(tmp_path, [("Bass", 33, False, walking_bass()),
                               ("Keys", 4, False, block_chords())])
    assert choice.track == 2 and choice.confidence == 0.0
    assert choice.doubt == "no melodic track (bass, chords, pads or short lines only): " \
                           "took Keys (#2)"


# --- labelled sets ---------------------------------------------------------------------------

def test_labels_round_trip_and_plain_errors(tmp_path):
    labels = [Label("a.mid", frozenset({2}), frozenset({1}), frozenset({3, 4}), "tune on 2"),
              Label("sub/b.mid", frozenset({1, 5}))]
    path = write_labels(tmp_path / "labels.csv", labels)
    assert path.read_text().splitlines()[1] == "a.mid,2,1,3 4,tune on 2"
    assert read_labels(path) == labels
    path.write_text("file,melody\na.mid,two\n")
    with pytest.raises(LabelsError, match="line 2: track numbers must be whole numbers"):
        read_labels(path)
    path.write_text("file,melody\na.mid,\n")
    with pytest.raises(LabelsError, match="line 2: needs a file and its melody"):
        read_labels(path)


def test_judge_counts_melody_other_melodic_non_melodic_and_bass(tmp_path):
    tracks = [("Bass", 33, False, walking_bass()), ("Track 2", 0, False, tune()),
              ("Keys", 4, False, block_chords())]
    write_band(tmp_path / "a.mid", tracks)
    (tmp_path / "broken.mid").write_bytes(b"not midi")
    labels = [Label("a.mid", frozenset({2}), frozenset({1}), frozenset({3})),   # melody
              Label("a.mid", frozenset({3}), frozenset(), frozenset({2})),      # non-melodic
              Label("a.mid", frozenset({3}), frozenset({1})),                   # another
              Label("broken.mid", frozenset({1}))]
    accuracy = judge(tmp_path, labels)
    assert accuracy.counts == {MELODY: 1, OTHER: 1, NON_MELODIC: 1}
    assert (accuracy.bass, accuracy.unreadable, accuracy.files) == (0, ["broken.mid"], 3)
    assert accuracy.melody_share == pytest.approx(1 / 3)


def test_a_labelled_set_from_music21_finds_the_tune_in_band_arrangements(tmp_path):
    folder = build_music21_set(tmp_path, works=(("bach/bwv66.6", 0),), variants=2, seed=1)
    labels = read_labels(folder / "labels.csv")
    assert [label.file for label in labels] == ["bach_bwv66.6-0.mid", "bach_bwv66.6-1.mid"]
    notes = read_midi(folder / labels[0].file)
    assert len(labels[0].melody) == 1 and len(labels[0].bass) == 1
    assert len(notes.tracks) >= 4 and labels[0].melody != {1}  # reordered: the tune moves
    accuracy = judge(folder)
    assert accuracy.counts[MELODY] == 2 and accuracy.bass == 0
