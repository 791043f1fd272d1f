"""Rendering: the score and every file made from it, checked by reading the files back."""
from __future__ import annotations

import re
import shutil
import wave
from fractions import Fraction
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from music21 import chord, converter, meter, note, stream, tempo

from core.data.notes import note_table
from core.rendering import audio
from core.rendering.audio import (
    PEAK_DBFS,
    find_soundfont,
    match_lengths,
    normalise_peak,
    peak_dbfs,
    render_wav,
)
from core.rendering.engraving import render_svg, scalable_svg
from core.rendering.piece import render_all
from core.rendering.score import RenderError, combine_parts, write_midi, write_musicxml

TEMPO = 90
SCALE = [60, 62, 64, 65, 67, 69, 71, 72]  # C4 .. C5, one quarter each: two 4/4 bars
CHORDS = [([48, 52, 55], 4.0), ([53, 57, 60], 2.0), (None, 1.0), ([43, 47, 50, 53], 1.0)]


def scale_part(midis=SCALE, length=1.0) -> stream.Part:
    part = stream.Part()
    for midi in midis:
        part.append(note.Note(midi, quarterLength=length))
    return part


def chord_part() -> stream.Part:
    part = stream.Part()
    for midis, length in CHORDS:
        part.append(note.Rest(quarterLength=length) if midis is None
                    else chord.Chord(midis, quarterLength=length))
    return part


def rows(table: pd.DataFrame) -> list[tuple]:
    return [(r.start, r.end, r.pitch) for r in table.itertuples()]


@pytest.fixture(scope="module")
def score() -> stream.Score:
    return combine_parts(scale_part(), chord_part(), tempo_bpm=TEMPO)


@pytest.fixture(scope="module")
def rendered(score, tmp_path_factory) -> dict[str, Path]:
    return render_all(score, tmp_path_factory.mktemp("piece"), "piece")


# --- score ---------------------------------------------------------------------------------


def test_combine_parts_names_tempo_meter_and_common_length(score):
    assert [p.partName for p in score.parts] == ["Lead", "Accompaniment"]
    marks = list(score.recurse().getElementsByClass(tempo.MetronomeMark))
    assert [m.number for m in marks] == [TEMPO]
    signatures = {ts.ratioString for ts in score.recurse().getElementsByClass(meter.TimeSignature)}
    assert signatures == {"4/4"}
    assert all(len(p.getElementsByClass(stream.Measure)) == 2 for p in score.parts)


def test_combine_parts_pads_the_shorter_part_and_leaves_inputs_alone():
    lead, accompaniment = scale_part(length=0.5), chord_part()  # 4 beats against 8
    combined = combine_parts(lead, accompaniment)
    assert [p.highestTime for p in combined.parts] == [8.0, 8.0]
    assert not lead.hasMeasures() and lead.highestTime == 4.0
    assert [n.pitch.midi for n in lead.notes] == SCALE


def test_combine_parts_without_accompaniment():
    combined = combine_parts(scale_part(), None)
    assert [p.partName for p in combined.parts] == ["Lead"]


# --- note table ----------------------------------------------------------------------------


def test_note_table_expands_chords(score):
    table = note_table(score)
    assert list(table.columns) == ["part", "start", "end", "pitch", "name"]
    assert len(table) == len(SCALE) + 3 + 3 + 4
    first_chord = table[(table.part == "accompaniment") & (table.start == 0.0)]
    assert first_chord.pitch.tolist() == [48, 52, 55]
    assert first_chord.name.tolist() == ["C3", "E3", "G3"]
    assert set(first_chord.end) == {4.0}
    last = table[(table.part == "accompaniment") & (table.start == 7.0)]
    assert last.pitch.tolist() == [43, 47, 50, 53] and set(last.end) == {8.0}
    lead = table[table.part == "lead"]
    assert lead.pitch.tolist() == SCALE and lead.start.tolist() == [float(i) for i in range(8)]


def test_note_table_merges_notes_tied_over_a_barline():
    lead = stream.Part([note.Note(60, quarterLength=3), note.Note(62, quarterLength=3),
                        chord.Chord([64, 67], quarterLength=2)])
    table = note_table(combine_parts(lead, None))
    assert rows(table) == [(0.0, 3.0, 60), (3.0, 6.0, 62), (6.0, 8.0, 64), (6.0, 8.0, 67)]


def test_note_table_of_an_empty_score_has_the_columns():
    table = note_table(stream.Score())
    assert table.empty and list(table.columns) == ["part", "start", "end", "pitch", "name"]


# --- MIDI and MusicXML ---------------------------------------------------------------------


def test_midi_round_trip_keeps_pitches_and_timing(score, tmp_path):
    path = write_midi(score, tmp_path / "out" / "piece.mid")
    assert path.is_file() and path.read_bytes()[:4] == b"MThd"
    parsed = converter.parse(path)
    assert len(parsed.parts) == 2
    for original, back in zip(score.parts, parsed.parts):
        assert rows(note_table(stream.Score([back]))) == rows(note_table(stream.Score([original])))
    marks = list(parsed.recurse().getElementsByClass(tempo.MetronomeMark))
    assert marks and marks[0].number == TEMPO


def test_musicxml_parses_back_with_part_names(score, tmp_path):
    path = write_musicxml(score, tmp_path / "piece.musicxml")
    parsed = converter.parse(path)
    pd.testing.assert_frame_equal(note_table(parsed), note_table(score))


# --- SVG -----------------------------------------------------------------------------------


def test_render_svg_one_page_for_a_short_score(score, tmp_path):
    xml = write_musicxml(score, tmp_path / "piece.musicxml")
    pages = render_svg(xml, tmp_path / "piece.svg")
    assert pages == [tmp_path / "piece.svg"]
    assert "<svg" in pages[0].read_text()
    head = pages[0].read_text().split(">", 1)[0]    # shrinks to a column: it has a viewBox
    width, height = (float(v) for v in re.findall(r'(?:width|height)="([\d.]+)px"', head))
    assert f'viewBox="0 0 {width:g} {height:g}"' in head


def test_scalable_svg_adds_a_viewbox_once():
    page = '<svg width="840px" height="346px" version="1.1"><g/></svg>'
    scaled = scalable_svg(page)
    assert scaled.startswith('<svg width="840px" height="346px" viewBox="0 0 840 346"')
    assert scalable_svg(scaled) == scaled


def test_render_svg_several_pages_for_a_long_score_and_no_stale_pages(score, tmp_path):
    long_score = combine_parts(scale_part(SCALE * 32), scale_part([48] * 64, 4.0))  # 64 bars
    xml = write_musicxml(long_score, tmp_path / "long.musicxml")
    pages = render_svg(xml, tmp_path / "long.svg")
    assert len(pages) >= 2
    assert pages[:2] == [tmp_path / "long.svg", tmp_path / "long-2.svg"]
    assert all(p.read_text().lstrip().startswith("<svg") for p in pages)

    short = write_musicxml(score, tmp_path / "short.musicxml")
    assert render_svg(short, tmp_path / "long.svg") == [tmp_path / "long.svg"]
    assert sorted(p.name for p in tmp_path.glob("long*.svg")) == ["long.svg"]


def test_render_svg_refuses_a_file_that_is_not_music(tmp_path):
    bad = tmp_path / "bad.musicxml"
    bad.write_text("not music")
    with pytest.raises(RenderError, match="verovio"):
        render_svg(bad, tmp_path / "bad.svg")


# --- sound font and WAV --------------------------------------------------------------------


def test_find_soundfont_prefers_the_environment_variable(monkeypatch, tmp_path):
    font = tmp_path / "mine.sf2"
    font.write_bytes(b"RIFF\0\0\0\0sfbk")
    monkeypatch.setenv("MUSIC_SOUNDFONT", str(font))
    assert find_soundfont() == font


def test_find_soundfont_falls_back_to_the_second_candidate(monkeypatch, tmp_path):
    second = tmp_path / "default-GM.sf2"
    second.write_bytes(b"RIFF\0\0\0\0sfbk")
    monkeypatch.delenv("MUSIC_SOUNDFONT", raising=False)
    monkeypatch.setattr(audio, "SOUNDFONT_CANDIDATES", (tmp_path / "FluidR3_GM.sf2", second))
    assert find_soundfont() == second


def test_find_soundfont_says_what_to_install(monkeypatch, tmp_path):
    monkeypatch.delenv("MUSIC_SOUNDFONT", raising=False)
    monkeypatch.setattr(audio, "SOUNDFONT_CANDIDATES", (tmp_path / "a.sf2", tmp_path / "b.sf2"))
    with pytest.raises(RenderError, match="fluid-soundfont-gm"):
        find_soundfont()


def test_find_soundfont_does_not_ignore_a_wrong_variable(monkeypatch, tmp_path):
    monkeypatch.setenv("MUSIC_SOUNDFONT", str(tmp_path / "missing.sf2"))
    with pytest.raises(RenderError, match="MUSIC_SOUNDFONT"):
        find_soundfont()


def test_render_wav_without_fluidsynth(monkeypatch, score, tmp_path):
    midi = write_midi(score, tmp_path / "piece.mid")
    monkeypatch.setattr(shutil, "which", lambda *args, **kwargs: None)
    with pytest.raises(RenderError, match="fluidsynth"):
        render_wav(midi, tmp_path / "piece.wav")
    assert not (tmp_path / "piece.wav").exists()


def test_render_all_without_fluidsynth_still_writes_the_rest(monkeypatch, score, tmp_path):
    monkeypatch.setattr(shutil, "which", lambda *args, **kwargs: None)
    with pytest.raises(RenderError, match="apt-get install fluidsynth"):
        render_all(score, tmp_path, "piece")
    names = sorted(p.name for p in tmp_path.iterdir())
    assert names == ["piece.mid", "piece.musicxml", "piece.svg", "piece_notes.csv"]


def test_render_wav_refuses_a_file_that_is_not_a_soundfont(score, tmp_path):
    midi = write_midi(score, tmp_path / "piece.mid")
    fake = tmp_path / "fake.sf2"
    fake.write_text("not a sound font")
    with pytest.raises(RenderError, match="not a SoundFont"):
        render_wav(midi, tmp_path / "piece.wav", soundfont=fake)


def test_render_wav_of_a_file_that_is_not_midi(tmp_path):
    bad = tmp_path / "bad.mid"
    bad.write_text("not midi")
    stale = tmp_path / "bad.wav"
    stale.write_bytes(b"\0" * 1000)  # an old render must not pass for a new one
    with pytest.raises(RenderError, match="no audio"):
        render_wav(bad, stale)


def test_render_all_returns_every_file(rendered):
    assert set(rendered) == {"midi", "musicxml", "wav", "svg", "notes"}
    assert [rendered[k].name for k in ("midi", "musicxml", "wav", "svg", "notes")] == [
        "piece.mid", "piece.musicxml", "piece.wav", "piece.svg", "piece_notes.csv"]
    assert all(p.is_file() and p.stat().st_size > 0 for p in rendered.values())
    svg = rendered["svg"].read_text()
    assert "<svg" in svg
    assert svg.count('class="note"') == len(SCALE) + 3 + 3 + 4  # every pitch engraved
    assert svg.count('class="rest"') == 1


def test_notes_csv_matches_the_table(rendered, score):
    pd.testing.assert_frame_equal(pd.read_csv(rendered["notes"]), note_table(score),
                                  check_dtype=False)


def test_fluidsynth_prints_nothing_into_our_output(rendered, capfd, tmp_path):
    capfd.readouterr()
    print("before")
    render_wav(rendered["midi"], tmp_path / "again.wav")
    print("after")
    assert (tmp_path / "again.wav").stat().st_size > 44
    assert capfd.readouterr() == ("before\nafter\n", "")  # no banner, and fds 1, 2 restored


def test_wav_is_audible_and_as_long_as_the_score(rendered):
    with wave.open(str(rendered["wav"]), "rb") as wav:  # wave refuses a file that is not RIFF
        rate, channels, width = wav.getframerate(), wav.getnchannels(), wav.getsampwidth()
        frames = wav.readframes(wav.getnframes())
    assert rate == 22050 and width == 2
    samples = np.abs(np.frombuffer(frames, dtype="<i2").reshape(-1, channels).astype(int))
    loudness = samples.max(axis=1)
    seconds = len(loudness) / rate
    score_seconds = 8 * 60 / TEMPO  # 8 quarter notes
    assert score_seconds - 0.1 <= seconds <= score_seconds + 4.0  # FluidSynth adds a tail
    assert loudness.max() > 1000  # of 32767: clearly not silence
    audible = np.flatnonzero(loudness > loudness.max() * 0.01) / rate
    assert audible[0] < 0.1  # the piece starts at once
    assert score_seconds - 0.5 <= audible[-1] <= score_seconds + 1.5  # ... and ends on time
    assert 20 * np.log10(loudness.max() / 32767) == pytest.approx(PEAK_DBFS, abs=0.05)


def _write_wav(path: Path, samples: np.ndarray, rate: int = 22050) -> Path:
    with wave.open(str(path), "wb") as wav:
        wav.setnchannels(samples.shape[1])
        wav.setsampwidth(2)
        wav.setframerate(rate)
        wav.writeframes(samples.astype("<i2").tobytes())
    return path


def test_normalise_peak_brings_a_quiet_wav_to_minus_1_dbfs_and_keeps_silence(tmp_path):
    quiet = (np.sin(np.linspace(0, 200, 4000)) * 2000).astype(np.int16)[:, None].repeat(2, 1)
    path = _write_wav(tmp_path / "quiet.wav", quiet)
    before, after = normalise_peak(path)
    assert before == pytest.approx(20 * np.log10(2000 / 32767), abs=0.01)   # about -24 dBFS
    assert after == pytest.approx(-1.0, abs=0.01)
    with wave.open(str(path)) as wav:
        assert wav.getframerate() == 22050 and wav.getsampwidth() == 2
        data = np.frombuffer(wav.readframes(wav.getnframes()), "<i2").reshape(-1, 2)
    assert np.corrcoef(data[:, 0], quiet[:, 0])[0, 1] > 0.9999            # only louder
    silent = _write_wav(tmp_path / "silent.wav", np.zeros((100, 2), np.int16))
    assert normalise_peak(silent) == (-np.inf, -np.inf)
    assert peak_dbfs(np.zeros(3, np.int16)) == -np.inf


def test_match_lengths_pads_the_shorter_wav_with_silence(tmp_path):
    short = _write_wav(tmp_path / "a.wav", np.full((100, 2), 500, np.int16))
    long = _write_wav(tmp_path / "b.wav", np.full((160, 2), 500, np.int16))
    assert match_lengths(short, long) == 160
    with wave.open(str(short)) as wav:
        assert wav.getnframes() == 160
        tail = np.frombuffer(wav.readframes(160), "<i2")[-120:]
    assert not tail.any()


def test_model_2_durations_engrave_and_keep_their_timing(tmp_path):
    """Model 2 generates any duration of its vocabulary ('17/3', '1/3'); all must engrave."""
    lengths = [Fraction(17, 3), Fraction(1, 3), Fraction(1, 3), 0.25, 0.75, 2.5]
    lead = stream.Part([note.Note(60 + i, quarterLength=q) for i, q in enumerate(lengths)])
    combined = combine_parts(lead, None)
    ends = note_table(combined).end.tolist()
    assert ends == pytest.approx(np.cumsum([float(q) for q in lengths]).tolist())
    pages = render_svg(write_musicxml(combined, tmp_path / "odd.musicxml"), tmp_path / "odd.svg")
    svg = pages[0].read_text()
    assert svg.count('class="note"') > len(lengths)  # notes over a barline are split ...
    assert 'class="tie"' in svg  # ... and tied
