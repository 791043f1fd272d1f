"""The thesis's two encodings (Model 1 steps, Model 2 events), their decoders, vocabularies."""
from __future__ import annotations

import json
from fractions import Fraction

import numpy as np
import pytest
from music21 import chord, note, stream

from core.data.encoding import (
    decode_events,
    decode_steps,
    encode_events,
    encode_parts,
    encode_steps,
)
from core.data.symbols import (
    HOLD,
    REST,
    EncodingError,
    duration_symbol,
    element_symbol,
    parse_duration,
    symbol_element,
)
from core.data.timeline import (
    PartSymbols,
    quarter_length,
    steps_spanned,
    to_steps,
    trim,
)
from core.data.vocabulary import Vocabulary, load_vocabularies, save_vocabularies
from core.nets.config import TrainConfig
from tests.fixtures import make_part, rule_encoding


def timeline(part: stream.Stream) -> list[tuple[Fraction, Fraction, str]]:
    """(offset, length, MIDI pitches or 'r') of every element: what a listener hears."""
    out = []
    for e in part.flatten().notesAndRests:
        what = "r" if isinstance(e, note.Rest) else ".".join(str(p.midi) for p in e.pitches)
        out.append((Fraction(e.offset), Fraction(e.quarterLength), what))
    return out


def both_round_trips(part: stream.Part, chord_mode: str = "pitch_class"):
    """Encode with both models, decode, re-encode: the symbols must come back unchanged."""
    steps = encode_steps(part, chord_mode)
    assert encode_steps(decode_steps(steps, chord_mode), chord_mode) == steps
    pitches, durations = encode_events(part, chord_mode)
    again = encode_events(decode_events(pitches, durations, chord_mode), chord_mode)
    assert again == (pitches, durations)
    return steps, pitches, durations


# --- the thesis's own examples (SUMMARY.md, Model 1) ---------------------------------------

def test_thesis_quarter_note_chord_a_d():
    part = make_part([([57, 62], 1.0)])  # A3 D4
    assert encode_steps(part) == ["9.2", "_", "_", "_"]


def test_thesis_note_c3_is_48():
    part = stream.Part([note.Note("C3", quarterLength=0.25)])
    assert encode_steps(part) == ["48"]
    assert element_symbol(note.Note("C3")) == "48"


def test_thesis_symbols_for_a_chord_of_three():
    assert element_symbol(chord.Chord(["E4", "A4", "G5"])) == "4.7.9"  # pitch classes, octave lost


# --- note arrays (MIDI files): the array encoder against the rule spelled out --------------

def random_part(rng: np.random.Generator, notes: int, low: int, high: int):
    """Notes on the 16th grid with gaps, chords, overlaps and doublings of one pitch."""
    start = np.sort(rng.integers(0, notes * 2, notes))
    end = start + rng.choice([1, 1, 2, 3, 4, 8, 16], notes)
    return start, end, rng.integers(low, high, notes)


@pytest.mark.parametrize("chord_mode", ["pitch_class", "voicing"])
def test_encode_parts_gives_the_rules_symbols(chord_mode):
    rng = np.random.default_rng(3)
    parts = [random_part(rng, n, low, high) for n, low, high in
             [(1, 60, 61), (40, 60, 72), (120, 36, 90), (200, 0, 128), (60, 21, 109)]]
    parts.append((parts[1][0] + 7, parts[1][1] + 7, parts[1][2]))  # a late start: a rest first
    together = encode_parts(parts, chord_mode)  # one time line, one table of symbols
    for part, encoded in zip(parts, together):
        assert encoded.streams() == rule_encoding(*part, chord_mode)
        assert encode_parts([part], chord_mode)[0].streams() == encoded.streams()
    assert len({id(e.symbols) for e in together}) == 1


def test_encoded_ids_round_trip_through_streams():
    start, end, pitch = np.array([0, 0, 4]), np.array([4, 2, 6]), np.array([57, 62, 60])
    encoded = encode_parts([(start, end, pitch)])[0]
    assert encoded.streams() == {"steps": ["9.2", "_", "57", "_", "60", "_"],
                                 "pitch": ["9.2", "57", "60"],
                                 "duration": ["0.5", "0.5", "0.5"]}
    again = type(encoded).of_streams(encoded.streams())
    assert again.streams() == encoded.streams()


# --- notes, chords, rests ------------------------------------------------------------------

def test_notes_round_trip_exactly():
    part = make_part([(60, 1.0), (62, 0.5), (64, 0.5), (65, 2.0)])
    steps, pitches, durations = both_round_trips(part)
    assert steps == ["60", "_", "_", "_", "62", "_", "64", "_", "65"] + ["_"] * 7
    assert pitches == ["60", "62", "64", "65"]
    assert durations == ["1.0", "0.5", "0.5", "2.0"]
    assert timeline(decode_steps(steps)) == timeline(part)
    assert timeline(decode_events(pitches, durations)) == timeline(part)


def test_chords_pitch_class_mode_lose_octave_but_keep_classes():
    part = make_part([([60, 64, 67], 1.0), ([57, 62], 0.5), ([43, 59, 62, 65], 0.5)])
    steps, pitches, durations = both_round_trips(part, "pitch_class")
    assert pitches == ["0.4.7", "9.2", "11.2.5.7"]  # normal order: the most compact
    assert steps == ["0.4.7", "_", "_", "_", "9.2", "_", "11.2.5.7", "_"]
    decoded = decode_events(pitches, durations)
    for original, back in zip(part.notes, decoded.notes):
        assert sorted(p.pitchClass for p in back.pitches) == \
            sorted(p.pitchClass for p in original.pitches)
        assert back.pitches[0].octave == 3  # voiced upwards from octave 3


def test_chords_voicing_mode_keep_every_midi_pitch():
    part = make_part([([43, 59, 62, 65], 1.0), ([57, 62], 1.0), (60, 1.0)])
    steps, pitches, durations = both_round_trips(part, "voicing")
    assert pitches == ["43.59.62.65", "57.62", "60"]
    assert timeline(decode_steps(steps, "voicing")) == timeline(part)
    assert timeline(decode_events(pitches, durations, "voicing")) == timeline(part)


def test_rests_between_notes():
    part = make_part([(60, 1.0), (None, 0.5), (62, 0.5), (None, 1.0), (64, 1.0)])
    steps, pitches, durations = both_round_trips(part)
    assert steps == ["60", "_", "_", "_", "r", "_", "62", "_", "r", "_", "_", "_",
                     "64", "_", "_", "_"]
    assert pitches == ["60", "r", "62", "r", "64"]
    assert timeline(decode_steps(steps)) == timeline(part)


def test_leading_rest_and_gaps_are_filled_with_rests():
    part = make_part([(1.0, 60, 1.0), (3.0, 62, 0.5)])  # nothing before 1.0, a gap 2.0-3.0
    steps, pitches, durations = both_round_trips(part)
    assert steps == ["r", "_", "_", "_", "60", "_", "_", "_", "r", "_", "_", "_", "62", "_"]
    assert pitches == ["r", "60", "r", "62"]
    assert durations == ["1.0", "1.0", "1.0", "0.5"]
    assert [t[:2] for t in timeline(decode_events(pitches, durations))] == \
        [(0, 1), (1, 1), (2, 1), (3, Fraction(1, 2))]


def test_a_leading_hold_decodes_as_a_rest():
    part = decode_steps([HOLD, HOLD, "60", HOLD])
    assert timeline(part) == [(0, Fraction(1, 2), "r"), (Fraction(1, 2), Fraction(1, 2), "60")]


def test_triplets_are_exact_in_model_2():
    third = Fraction(1, 3)
    part = make_part([(60, third), (62, third), (64, third), (65, 1.0)])
    pitches, durations = encode_events(part)
    assert durations == ["1/3", "1/3", "1/3", "1.0"]
    decoded = decode_events(pitches, durations)
    assert [n.quarterLength for n in decoded.notes] == [third, third, third, 1.0]
    assert [Fraction(n.offset) for n in decoded.notes] == [0, third, 2 * third, 1]
    assert encode_events(decoded) == (pitches, durations)


def test_odd_tuplet_length_17_3_survives_model_2():
    part = make_part([(60, Fraction(17, 3)), (None, Fraction(1, 3)), (62, 1.5)])
    pitches, durations = encode_events(part)
    assert durations == ["17/3", "1/3", "1.5"]
    assert duration_symbol(Fraction(17, 3)) == "17/3"
    assert parse_duration("17/3") == Fraction(17, 3)
    decoded = decode_events(pitches, durations)
    assert decoded.highestTime == Fraction(17, 3) + Fraction(1, 3) + Fraction(3, 2)
    assert encode_events(decoded) == (pitches, durations)


def test_triplets_in_model_1_snap_to_the_16th_grid_without_losing_time():
    third = Fraction(1, 3)
    part = make_part([(60, third), (62, third), (64, third), (65, 1.0)])
    steps = encode_steps(part)
    assert len(steps) == 8  # two quarter notes of 16ths: the total length is kept
    assert [s for s in steps if s != HOLD] == ["60", "62", "64", "65"]
    assert steps[4:] == ["65", "_", "_", "_"]
    assert encode_steps(decode_steps(steps)) == steps


def test_time_of_each_symbol_in_either_model():
    m1, m2 = TrainConfig(model=1), TrainConfig(model=2)
    steps = {"steps": ["60", "_", "_", "_", "62", "_"]}
    events = {"pitch": ["60", "62", "64", "65"], "duration": ["1/3", "1/3", "1/3", "1.0"]}
    assert quarter_length(m1, steps) == 1.5 and quarter_length(m2, events) == 2.0
    assert PartSymbols(events, 2, "pitch_class").time_at(3) == 1.0  # triplets sum exactly
    assert PartSymbols(events, 2, "pitch_class").time_at(9) == 2.0  # past the end: the end
    assert trim(m2, events, 1.0) == {"pitch": ["60", "62", "64"],
                                     "duration": ["1/3", "1/3", "1/3"]}
    assert trim(m1, steps, 1.0) == {"steps": ["60", "_", "_", "_"]}
    assert trim(m2, events, 0.5)["pitch"] == ["60", "62"]  # what starts before the cut
    assert PartSymbols(events, 2, "pitch_class").between(1.0) == ["65"]
    assert to_steps([0.0, 0.26, 1 / 3]).tolist() == [0, 1, 1] and steps_spanned(1.01) == 5


def test_unison_and_octave_chords():
    unison = chord.Chord([60, 60], quarterLength=1.0)
    octave = chord.Chord([48, 60], quarterLength=1.0)
    assert element_symbol(unison) == "60"
    assert element_symbol(octave) == "48"  # one pitch class: kept as its lowest note
    assert element_symbol(octave, "voicing") == "48.60"
    part = make_part([([60, 60], 1.0), ([48, 60], 1.0)])
    steps, pitches, _ = both_round_trips(part)
    assert pitches == ["60", "48"]
    _, voiced, durations = both_round_trips(part, "voicing")
    assert voiced == ["60", "48.60"]
    assert timeline(decode_events(voiced, durations, "voicing"))[1][2] == "48.60"


def test_overlapping_notes_a_later_onset_cuts_the_earlier_short():
    part = make_part([(0.0, 60, 2.0), (1.0, 64, 2.0)])
    steps, pitches, durations = both_round_trips(part)
    assert pitches == ["60", "64"]
    assert durations == ["1.0", "2.0"]
    assert steps == ["60", "_", "_", "_", "64"] + ["_"] * 7


def test_a_second_voice_starting_together_is_dropped_and_no_time_is_encoded_twice():
    part = make_part([(0.0, 60, 1.0), (0.0, 67, 2.0), (1.0, 62, 1.0)])
    pitches, durations = encode_events(part)
    assert pitches == ["60", "62"]
    assert sum(parse_duration(d) for d in durations) == 2


def test_a_rest_under_a_sounding_note_is_ignored():
    part = make_part([(0.0, 60, 2.0), (1.0, None, 1.0), (2.0, 62, 1.0)])
    assert encode_events(part) == (["60", "62"], ["2.0", "1.0"])


def test_low_midi_numbers_decode_as_midi_not_pitch_classes():
    assert symbol_element("5", 1.0).pitch.midi == 5
    assert [p.midi for p in symbol_element("0.4", 1.0, "voicing").pitches] == [0, 4]
    assert [p.midi for p in symbol_element("9.2", 1.0).pitches] == [57, 62]


# --- bad symbols ---------------------------------------------------------------------------

@pytest.mark.parametrize("symbol", ["x", "", "9.x", "1.2.", "-1", "+5", " 60", "128", "300",
                                    "1_0", "9.12", "60.64"])
def test_bad_pitch_symbols_raise_encoding_error(symbol):
    with pytest.raises(EncodingError) as info:
        decode_steps(["60", symbol])
    assert repr(symbol) in str(info.value)


def test_voicing_mode_accepts_midi_chords_but_not_out_of_range():
    assert len(symbol_element("60.64", 1.0, "voicing").pitches) == 2
    with pytest.raises(EncodingError):
        symbol_element("60.128", 1.0, "voicing")


@pytest.mark.parametrize("duration", ["abc", "", "1/0", "0", "0.0", "-1", "-1/3", "nan", "inf",
                                      "1e400", "1e-9"])
def test_bad_duration_symbols_raise_encoding_error(duration):
    with pytest.raises(EncodingError) as info:
        decode_events(["60"], [duration])
    assert repr(duration) in str(info.value)


def test_pitch_and_duration_streams_must_have_equal_length():
    with pytest.raises(EncodingError, match="2 pitches but 1 durations"):
        decode_events(["60", "62"], ["1.0"])


def test_unpitched_elements_cannot_be_encoded():
    with pytest.raises(EncodingError):
        element_symbol(note.Unpitched())


# --- vocabularies --------------------------------------------------------------------------

def test_vocabulary_numbers_symbols_in_order_of_first_appearance():
    vocab = Vocabulary.build([["60", "_", "_", "9.2"], ["r", "60", "48", "_"]])
    assert vocab.symbols == ("60", "_", "9.2", "r", "48")
    assert vocab.index == {"60": 0, "_": 1, "9.2": 2, "r": 3, "48": 4}
    assert len(vocab) == 5
    assert vocab.encode(["48", "60", "_"]) == [4, 0, 1]
    assert vocab.decode([4, 0, 1]) == ["48", "60", "_"]


def test_vocabulary_is_deterministic():
    sequences = [["b", "a", "c"], ["c", "d", "a"], ["e"]]
    assert Vocabulary.build(sequences) == Vocabulary.build([list(s) for s in sequences])
    assert Vocabulary.build(iter(sequences)).symbols == ("b", "a", "c", "d", "e")


def test_vocabularies_json_round_trip(tmp_path):
    part = make_part([(60, 1.0), ([57, 62], 0.5), (None, 0.5), (48, Fraction(1, 3))])
    pitches, durations = encode_events(part)
    vocabs = {"steps": Vocabulary.build([encode_steps(part)]),
              "pitch": Vocabulary.build([pitches]), "duration": Vocabulary.build([durations])}
    path = tmp_path / "vocab.json"
    save_vocabularies(vocabs, path)
    assert json.loads(path.read_text()) == {k: list(v.symbols) for k, v in vocabs.items()}
    loaded = load_vocabularies(path)
    assert loaded == vocabs
    assert loaded["duration"].symbols == ("1.0", "0.5", "1/3")
    assert loaded["steps"].encode(encode_steps(part)) == vocabs["steps"].encode(encode_steps(part))


def test_encoding_unknown_symbols_names_them():
    vocab = Vocabulary.build([["60", "62"]])
    with pytest.raises(EncodingError) as info:
        vocab.encode(["60", "99", "9.2", "99"])
    assert "99" in str(info.value) and "9.2" in str(info.value)
    assert REST not in vocab.symbols
