"""MIDI files read with symusic: the same encodings as music21 for the same music, and every
kind of messy real file handled (or refused with one plain reason).

Both readers agree on 393 of the 410 bundled chorales exported to MIDI (`python -m core bench
--only midi` counts them all). The other 17 differ for reasons a MIDI file itself imposes,
each pinned by a test below:
- whole bars of silence before the music are dropped (bwv41.6 opens with 13 quarters of
  rest while the instruments play: the MIDI reader keeps the last 1);
- a notated rest at the very end has no trace in a MIDI file (bwv261);
- notes shorter than a 16th (32nds in bwv185.6) are put on the 16th grid by the MIDI
  reader, which has no notated durations to keep;
- where the soprano splits into two notes, the MIDI lead is the top one (the skyline) while
  music21 keeps the first one written (bwv299); bwv846, a keyboard prelude, is no chorale.
"""
from __future__ import annotations

import pytest
from music21 import stream

from core.data.encoding import encode_parts
from core.data.midi import MidiError, read_midi
from core.data.pieces import read_piece
from core.data.prepare import Progress, default_corpus_files, prepare_corpus
from core.data.roles import assign_roles
from core.data.scores import chorale_voices, encode_chorale, parse_score
from tests.fixtures import (
    QUARTER,
    drum_notes,
    line,
    note_events,
    rule_encoding,
    smf_bytes,
    tempo,
    time_signature,
    track_name,
    work_parts,
    write_bytes,
    write_multitrack,
    write_piano,
)

STREAMS = ("steps", "pitch", "duration")
C_MAJOR = [60, 62, 64, 65, 67, 69, 71, 72]


def parts_of(path):
    """The file's parts' symbols (its metre left out)."""
    parts, report = read_piece(path, path.name)
    assert parts is not None, report.reason
    return {k: v for k, v in parts.items() if k != "metre"}


def reason(path) -> str:
    parts, report = read_piece(path, path.name)
    assert parts is None and report.status == "skipped"
    return report.reason


def melody_file(path, notes, **kwargs):
    return write_bytes(path, smf_bytes([note_events(notes, name="Melody")], **kwargs))


# --- the same music, the same encodings ----------------------------------------------------

def chorale(name: str):
    return next(p for p in default_corpus_files() if p.name == name)


def both_readers(name: str, tmp_path) -> tuple[dict, dict]:
    """(music21's encoding of the chorale as played, the MIDI reader's of its export)."""
    voices = chorale_voices(parse_score(str(chorale(name))))
    played = encode_chorale(stream.Score(voices).expandRepeats(), "pitch_class")[0]
    path = tmp_path / f"{name}.mid"
    stream.Score(voices).write("midi", fp=str(path))  # music21 writes repeats played out
    return played, parts_of(path)


@pytest.mark.parametrize("name", ["bwv1.6.mxl", "bwv10.7.mxl", "bwv103.6.mxl", "bwv119.9.mxl",
                                  "bwv13.6.mxl", "bwv140.7.mxl", "bwv153.1.mxl"])
def test_chorales_exported_to_midi_encode_as_the_bundled_corpus(name, tmp_path):
    """Ties (bwv10.7), repeats (bwv103.6), notated rests (bwv119.9): identical sequences."""
    music21, midi = both_readers(name, tmp_path)
    for part in ("lead", "accompaniment"):
        for s in STREAMS:
            assert midi[part][s] == music21[part][s], (part, s)


def test_silent_bars_before_the_music_are_dropped(tmp_path):
    music21, midi = both_readers("bwv41.6.mxl", tmp_path)
    assert music21["lead"]["pitch"][0] == "r" and music21["lead"]["duration"][0] == "13.0"
    assert midi["lead"]["duration"][0] == "1.0"  # three silent 4/4 bars dropped
    for part in ("lead", "accompaniment"):
        assert midi[part]["pitch"][1:] == music21[part]["pitch"][1:]
        assert midi[part]["steps"] == ["r"] + music21[part]["steps"][12 * 4 + 1:]


def test_a_notated_final_rest_is_not_in_the_midi_file(tmp_path):
    music21, midi = both_readers("bwv261.mxl", tmp_path)
    for part in ("lead", "accompaniment"):
        assert music21[part]["pitch"][-1] == "r"
        assert midi[part]["pitch"] == music21[part]["pitch"][:-1]
        assert midi[part]["duration"] == music21[part]["duration"][:-1]


def test_notes_shorter_than_a_16th_land_on_the_grid(tmp_path):
    music21, midi = both_readers("bwv185.6.mxl", tmp_path)
    assert "0.125" in music21["lead"]["duration"]
    assert all(float(d) * 4 == int(float(d) * 4) for d in midi["lead"]["duration"])
    assert midi["lead"]["steps"] == music21["lead"]["steps"]


# --- type 0 and type 1, drums, tempo and time signatures -----------------------------------

@pytest.fixture(scope="module")
def chorale_parts():
    return work_parts("bach/bwv66.6", measures=4)


def test_type_0_and_type_1_give_the_same_piece(chorale_parts, tmp_path):
    one = parts_of(write_multitrack(tmp_path / "type1.mid", chorale_parts))
    zero = parts_of(write_multitrack(tmp_path / "type0.mid", chorale_parts, fmt=0))
    assert zero == one
    tracks = read_midi(tmp_path / "type0.mid").tracks  # one per channel, named by instrument
    assert [t.name for t in tracks] == ["Violin", "Viola", "Violoncello", "Contrabass"]
    assert [t.is_drum for t in tracks] == [False] * 4


def test_drum_tracks_are_dropped(chorale_parts, tmp_path):
    plain = parts_of(write_multitrack(tmp_path / "plain.mid", chorale_parts))
    band = tmp_path / "band.mid"
    write_multitrack(band, chorale_parts, drums=True)
    assert [t.is_drum for t in read_midi(band).tracks][-1]
    assert parts_of(band) == plain
    zero = write_multitrack(tmp_path / "band0.mid", chorale_parts, drums=True, fmt=0)
    assert parts_of(zero) == plain  # channel 10 inside a type 0 file too


def test_tempo_and_time_signature_changes_move_no_note(tmp_path):
    notes = line(C_MAJOR * 3, 0.5)
    plain = parts_of(melody_file(tmp_path / "plain.mid", notes))
    meta = [tempo(0, 90), tempo(4 * QUARTER, 140), time_signature(0, 3, 4),
            time_signature(6 * QUARTER, 4, 4), tempo(9 * QUARTER, 60)]
    changing = write_bytes(tmp_path / "changes.mid",
                           smf_bytes([meta, note_events(notes, name="Melody")]))
    assert parts_of(changing) == plain


def test_a_pickup_keeps_its_place_and_silent_bars_before_it_are_dropped(tmp_path):
    pickup = line([67] + C_MAJOR, 1.0, start=3.0)  # one beat before the first bar line
    first = parts_of(melody_file(tmp_path / "pickup.mid", pickup))
    assert first["lead"]["pitch"][:2] == ["r", "67"] and first["lead"]["duration"][0] == "3.0"
    late = parts_of(melody_file(tmp_path / "late.mid", line([67] + C_MAJOR, 1.0, start=11.0)))
    assert late == first  # two silent bars (a count-in) dropped, the pickup kept


@pytest.mark.parametrize("division", [7, 97, 96, 1000])
def test_odd_ticks_per_quarter(division, tmp_path):
    notes = line(C_MAJOR, 1.0)
    events = note_events(notes, name="Melody", ticks=division)
    odd = write_bytes(tmp_path / "odd.mid", smf_bytes([events], division=division))
    assert parts_of(odd) == parts_of(melody_file(tmp_path / "plain.mid", notes))


# --- messy timing: triplets, swing, overlaps, missing note-offs, absurd lengths ------------

def test_triplets_and_swing_are_put_on_the_16th_grid_and_counted(tmp_path):
    triplets = line(C_MAJOR + C_MAJOR[:4], 1 / 3)  # 12 triplet eighths
    path = melody_file(tmp_path / "triplets.mid", triplets)
    parts, report = read_piece(path, "triplets.mid")
    assert report.moved_onsets == pytest.approx(8 / 12, abs=1e-3)  # 2 in 3 off the grid
    assert parts["lead"]["steps"][:4] == ["60", "62", "_", "64"]  # beats 0, 1/3, 2/3: 16ths 0, 1, 3
    swing = [(beat + off, 0.5, 60 + i % 7) for i, (beat, off) in
             enumerate((b, o) for b in range(8) for o in (0.0, 2 / 3))]
    parts, report = read_piece(melody_file(tmp_path / "swing.mid", swing), "swing.mid")
    assert report.moved_onsets == pytest.approx(0.5, abs=1e-3)
    assert all(d in ("0.5", "0.75", "0.25") for d in parts["lead"]["duration"])


def test_played_timing_with_a_constant_delay_is_moved_back_on_the_grid(tmp_path):
    late = [(o + 0.1, d, p) for o, d, p in line(C_MAJOR, 0.5)]  # every note 0.1 beat late
    parts, report = read_piece(melody_file(tmp_path / "late.mid", late), "late.mid")
    assert report.moved_onsets == 0.0
    assert parts["lead"]["steps"][:2] == ["60", "_"]


def test_overlapping_notes_of_one_pitch_play_one_after_the_other(tmp_path):
    events = [track_name("Melody"), (0, b"\x90\x3c\x5a"), (QUARTER // 2, b"\x90\x3c\x5a"),
              (QUARTER, b"\x80\x3c\x00"), (2 * QUARTER, b"\x80\x3c\x00")]
    parts = parts_of(write_bytes(tmp_path / "overlap.mid", smf_bytes([events])))
    assert parts["lead"]["pitch"] == ["60", "60"]
    assert parts["lead"]["duration"] == ["0.5", "1.5"]


def test_a_note_on_without_note_off_is_dropped_and_a_file_of_them_refused(tmp_path):
    notes = line(C_MAJOR, 1.0)
    events = note_events(notes, name="Melody")
    events.append((8 * QUARTER, b"\x90\x48\x5a"))  # one more note that never ends
    parts = parts_of(write_bytes(tmp_path / "stuck.mid", smf_bytes([events])))
    assert parts["lead"]["pitch"] == [str(p) for p in C_MAJOR]
    never = write_bytes(tmp_path / "never.mid",
                        smf_bytes([note_events(notes, name="Melody", ends=False)]))
    assert reason(never) == "notes never end (note-ons without note-offs)"


def test_absurdly_long_notes_are_capped_and_counted(tmp_path):
    notes = [(0.0, 1000.0, 48)] + line(C_MAJOR, 1.0)
    parts, report = read_piece(melody_file(tmp_path / "long.mid", notes), "long.mid")
    assert report.capped_notes == 1
    assert parts["accompaniment"]["duration"] == ["16.0"]  # four 4/4 bars, not 1000 quarters
    assert len(parts["lead"]["steps"]) == 8 * 4


def test_a_thirty_minute_file_reads_in_one_go(tmp_path):
    quarters = 30 * 120  # thirty minutes at 120 beats per minute
    melody = line([72, 74, 76, 77] * (quarters // 4), 1.0)
    bass = line([36, 43] * (quarters // 4), 2.0)
    tracks = [note_events(melody, 1, name="Lead"), note_events(bass, 2, 33, name="Bass"),
              note_events(drum_notes(quarters), 10, name="Drums")]
    parts = parts_of(write_bytes(tmp_path / "long.mid", smf_bytes(tracks)))
    assert len(parts["lead"]["steps"]) == quarters * 4
    assert len(parts["lead"]["pitch"]) == quarters
    assert len(parts["accompaniment"]["pitch"]) == quarters // 2


# --- the array encoder on real files: the rule's symbols, both chord modes -----------------

@pytest.mark.parametrize("chord_mode", ["pitch_class", "voicing"])
def test_every_kind_of_file_encodes_to_the_rules_symbols(chord_mode, tmp_path):
    """Band with drums and pad, type 0, one piano track (split into top line and rest),
    triplets over a bass, overlapping notes: each part's streams are the rule's."""
    quartet = work_parts("haydn/opus74no1/movement3", 6)
    madrigal = work_parts("monteverdi/madrigal.3.1.mxl", 4)
    swung = [(b + o, 1 / 3, 60 + (3 * b) % 14) for b in range(8) for o in (0, 1 / 3, 2 / 3)]
    files = [write_multitrack(tmp_path / "band.mid", quartet, drums=True, pad=True),
             write_multitrack(tmp_path / "type0.mid", madrigal, fmt=0),
             write_piano(tmp_path / "piano.mid", quartet),
             write_bytes(tmp_path / "triplets.mid", smf_bytes([
                 note_events(swung, name="Melody"),
                 note_events([(o, 3.0, 36 + o % 5) for o in range(0, 24, 2)], 2, name="Bass"),
                 note_events([(o, 4.0, 48) for o in range(0, 24, 3)], 3, name="Organ")]))]
    for path in files:
        roles = assign_roles(read_midi(path))
        parts = [roles.lead, roles.accompaniment]
        for notes, encoded in zip(parts, encode_parts(parts, chord_mode)):
            assert encoded.streams() == rule_encoding(*notes, chord_mode), path.name


# --- refused files: one plain reason each ---------------------------------------------------

def test_unusable_files_have_one_plain_reason(tmp_path):
    notes = note_events(line(C_MAJOR, 1.0), name="Melody")
    cases = {
        "text.mid": (b"this is not music at all", "not a MIDI file"),
        "empty.mid": (b"", "empty file"),
        "cut.mid": (smf_bytes([notes])[:-20], "damaged MIDI file (cut short or malformed)"),
        "zero.mid": (smf_bytes([notes], division=0), "broken timing (0 ticks per quarter note)"),
        "smpte.mid": (smf_bytes([notes], division=0xE728), "timed in SMPTE frames"),
        "drums.mid": (smf_bytes([note_events(drum_notes(8), 10)]), "no pitched notes (drums only)"),
        "silent.mid": (smf_bytes([[track_name("Nothing")]]), "no notes"),
    }
    for name, (data, why) in cases.items():
        said = reason(write_bytes(tmp_path / name, data))
        assert said.startswith(why), (name, said)
        assert "MiniMidi" not in said and "Error" not in said and "\\x" not in said
    with pytest.raises(MidiError, match="not a MIDI file"):
        read_midi(tmp_path / "text.mid")


# --- prepare: both cores, progress, the report, the cache ----------------------------------

def test_prepare_reports_progress_roles_and_reads_its_cache(chorale_parts, tmp_path):
    folder = tmp_path / "songs"
    for i in range(9):  # enough files for the worker processes
        write_multitrack(folder / f"song{i}.mid", chorale_parts, drums=i % 2 == 1)
    write_bytes(folder / "broken.mid", b"nothing")
    seen: list[Progress] = []
    corpus = prepare_corpus(folder, cache_dir=tmp_path / "cache", workers=2,
                            progress=seen.append)
    assert [p.done for p in seen] == list(range(1, 11)) and seen[-1].total == 10
    assert (seen[-1].kept, seen[-1].skipped) == (9, 1)
    report = {r.file: r for r in corpus.report}
    assert report["song1.mid"].lead == "Soprano (#1)"
    assert report["song1.mid"].accompaniment == "Alto (#2) + Tenor (#3) + Bass (#4)"
    assert report["broken.mid"].reason == "not a MIDI file"
    again = prepare_corpus(folder, cache_dir=tmp_path / "cache", workers=2,
                           progress=seen.append)
    assert again == corpus and len(seen) == 10  # read from the cache: no file read again


def test_a_latin_1_track_name_reads_as_written(tmp_path):
    """Older files write track names in Latin-1, which is not UTF-8: the name comes back as
    written, not with replacement characters."""
    name = "Spür Harfe".encode("latin-1")
    events = note_events(line([72, 74, 76, 77]), channel=1)
    events.insert(0, (0, b"\xff\x03" + bytes([len(name)]) + name))
    path = write_bytes(tmp_path / "old.mid", smf_bytes([events, note_events(line([48, 50]),
                                                                              channel=2)]))
    assert read_midi(path).tracks[0].name == "Spür Harfe"
