"""The MIDI files the MIDI figures read: the bundled chorales exported by music21 (as a
user would export them) and made-up band arrangements (melody, bass, chords, a pad, drums),
mixed into a folder of any size."""
from __future__ import annotations

from pathlib import Path

import numpy as np


def export_chorales(folder: Path, count: int) -> list[Path]:
    """The sung voices of the first `count` bundled chorales, written as MIDI by music21 (as
    a user would export them; repeats come out played)."""
    from music21 import stream

    from core.data.prepare import default_corpus_files
    from core.data.scores import ScoreError, chorale_voices, parse_score

    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for source in default_corpus_files(count):
        try:
            voices = chorale_voices(parse_score(str(source)))
        except ScoreError:
            continue
        path = folder / f"{source.stem}.mid"
        stream.Score(voices).write("midi", fp=str(path))
        paths.append(path)
    return paths


def _track(name: str, program: int, notes: np.ndarray, drums: bool = False):
    """A symusic track from (onset tick, length tick, pitch) rows."""
    import symusic

    track = symusic.Track(name, program, drums)
    rows = np.asarray(notes, np.int64).reshape(-1, 3)
    track.notes = symusic.Note.from_numpy(rows[:, 0].astype(np.int32),
                                          rows[:, 1].astype(np.int32),
                                          rows[:, 2].astype(np.int8),
                                          np.full(len(rows), 90, np.int8))
    return track


def _drums(bars: int, ticks: int) -> np.ndarray:
    beats = np.arange(bars * 4)
    kick = np.c_[beats * ticks, np.full(len(beats), ticks // 4), np.where(beats % 2, 38, 36)]
    hats = np.c_[beats * ticks + ticks // 2, np.full(len(beats), ticks // 4),
                 np.full(len(beats), 42)]
    return np.r_[kick, hats]


def synthetic_song(rng: np.random.Generator, ticks: int = 480):
    """A made-up band arrangement: a stepwise melody of eighths and quarters, a bass on the
    roots, block chords, sometimes a pad, and drums, 16 to 64 bars of 4/4."""
    import symusic

    bars, key = int(rng.integers(16, 65)), int(rng.integers(0, 12))
    scale = np.array([0, 2, 4, 5, 7, 9, 11])
    roots = rng.choice([0, 3, 4, 5], size=bars)
    lengths = rng.choice([ticks // 2, ticks], size=bars * 8)
    onsets = np.cumsum(np.r_[0, lengths[:-1]])
    onsets, lengths = onsets[onsets < bars * 4 * ticks], lengths[onsets < bars * 4 * ticks]
    degrees = np.clip(np.cumsum(rng.integers(-2, 3, size=len(onsets))) + 7, 0, 13)
    melody = 60 + key + 12 * (degrees // 7) + scale[degrees % 7]
    bar = np.arange(bars) * 4 * ticks
    bass = np.c_[bar, np.full(bars, 4 * ticks), 36 + key + scale[roots]]
    chords = np.concatenate([np.c_[bar, np.full(bars, 4 * ticks),
                                   48 + key + scale[(roots + step) % 7]] for step in (0, 2, 4)])
    score = symusic.Score(ticks)
    score.tracks.append(_track("Melody" if rng.random() < 0.5 else "Track 1",
                               int(rng.integers(0, 80)), np.c_[onsets, lengths, melody]))
    score.tracks.append(_track("Bass", 33, bass))
    score.tracks.append(_track("Keys", 4, chords))
    if rng.random() < 0.5:
        score.tracks.append(_track("Pad", 89, chords + [0, 0, 24]))
    score.tracks.append(_track("Drums", 0, _drums(bars, ticks), drums=True))
    return score


def build_midi_folder(folder: Path, files: int, chorales: list[Path], seed: int = 0) -> Path:
    """`files` MIDI files: half exported chorales transposed, some with a drum kit and an
    extra instrument added, half synthetic band arrangements."""
    import symusic

    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    bases = [symusic.Score(str(p)) for p in chorales]
    for i in range(files):
        if i % 2 and bases:
            score = bases[int(rng.integers(len(bases)))].shift_pitch(int(rng.integers(-5, 7)))
            if rng.random() < 0.5:
                ticks = score.ticks_per_quarter
                bars = score.end() // (4 * ticks) + 1
                score.tracks.append(_track("Drums", 0, _drums(bars, ticks), drums=True))
                score.tracks.append(_track("Organ", 19, np.c_[0, 4 * ticks, 84]))
        else:
            score = synthetic_song(rng)
        score.dump_midi(str(folder / f"song{i:05d}.mid"))
    return folder
