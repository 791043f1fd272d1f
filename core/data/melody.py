"""Which track carries the tune: per-track statistics, the tests that rule a track out as a
melody, the melody score among the rest, and how sure the choice is.

A transparent scored rule, in the spirit of Rizo et al. (ISMIR 2006: pitch range, intervals,
occupation and polyphony per track) and of Bernardo & Langlois (2008: melody, bass, harmony
and drum tracks told apart), kept as plain arithmetic so every choice can be explained.

1. A track is *not a melody* (`not_melodic` names why) when it is
   - **percussive**: a General MIDI percussive or sound-effect program (112-127);
   - **bass**: a bass-like name (bass but not bassoon, walk, foot), a General MIDI bass
     program (32-39) below MIDI 55, or a low register against the other tracks (mean pitch
     below MIDI 50 and an octave or more under the highest track's);
   - **chords**: block chords or a pad, on average CHORDAL_POLYPHONY notes or more at once;
   - **arpeggio**: one note at a time but almost never a step (under ARPEGGIO_STEPS of its
     moves are a repeat, a semitone or a tone: a repeated-leap figure), or seldom a step
     (under TUNE_STEPS) while cycling through a few notes (ARPEGGIO_CYCLES of its notes
     repeat the one 2, 3 or 4 before: a broken chord);
   - **short**: a stray line, sounding over less than a quarter of the piece (first onset to
     last end) or with under a sixth of the onsets of the busiest track not ruled out above
     that moves like a tune (TUNE_STEPS of its moves are steps: not a busy figure).
2. Among the tracks left, the lead is the one with the highest melody score
       name + monophony + (register + onsets + span + steps + program) / 2
   name: 1 for a name that says melody (melody, tune, theme), 0.7 for another lead word
   (lead, vocal, voice, soprano, solo, canto...), -0.7 for a word of accompaniment (chord,
   pad, arpeggio, rhythm, comp, backing, harmony, counter...); monophony: the share of its
   sounding 16ths with one note; register: its mean pitch above the lowest of the tracks
   left, over their spread (at least an octave: 0 lowest, 1 highest); onsets: its onsets
   over the most of any track left; span: its share of the piece; steps: the share of its
   top line's moves that are steps or repeats; program: +0.5 for a solo instrument's
   General MIDI program (violin, viola, brass, reeds, pipes, synth leads: 40-41, 56-87),
   -0.5 for a pad or synth effect (88-103).
3. When no track is a melody, the lead is the best of the short lines, else of the chords
   and pads, else of the arpeggios (FALLBACK: a bass line only when nothing else sounds),
   and the choice is uncertain.

Confidence: 1 when one track is left after step 1; else the score margin between the lead
and the next track, over SURE_MARGIN, capped at 1. A next track that doubles the lead (the
same onsets and pitch classes) is the same tune and does not count. A choice under
UNCERTAIN is reported with why, so the user can check it in the roles editor.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from core.data.tracks import GridNotes, Track

MELODY_WORDS = ("melod", "tune", "theme")
LEAD_WORDS = ("lead", "vocal", "voice", "voz", "soprano", "solo", "canto", "cantus", "sing")
ACCOMPANIMENT_WORDS = (r"chord", r"\bpad", r"arpegg", r"rh?ythm", r"\bacc\b", r"accomp",
                       r"\bcomp\b", r"backing", r"backup", r"harmony", r"counter", r"strum",
                       r"plectrum")
BASS_WORDS = (r"bass(?!oon)", r"\bwalk", r"\bfoot", r"\bbajo")

PERCUSSIVE_PROGRAMS = range(112, 128)   # tinkle bell ... gunshot
BASS_PROGRAMS = range(32, 40)
SOLO_PROGRAMS = (*range(40, 42), *range(56, 88))   # violin, viola, brass, reeds, pipes, leads
PAD_PROGRAMS = range(88, 104)            # synth pads and effects

BASS_PROGRAM_BELOW = 55       # a bass program played this high is a lead sound
LOW_REGISTER = 50             # mean pitch under D3 ...
LOW_GAP = 12                  # ... an octave or more under the highest track
SHORT_SPAN = 0.25             # of the piece
SHORT_ONSETS = 1 / 6          # of the busiest track's onsets
CHORDAL_POLYPHONY = 2.8       # notes at once, on average
ARPEGGIO_STEPS = 0.2          # share of moves that are steps or repeats
ARPEGGIO_CYCLES = 0.6         # share of notes that repeat the one 2, 3 or 4 before
TUNE_STEPS = 0.4              # a track moving by steps this often is the measure of "short"
REGISTER_SPAN = 12            # semitones: tracks closer than an octave are nearly level
SURE_MARGIN = 0.6             # score points between the lead and the next track
UNCERTAIN = 0.5               # confidence under which a choice is reported
DOUBLING = 0.8                # shared onsets and pitch classes that make two tracks one tune

_NAME_PATTERNS = {kind: re.compile("|".join(words)) for kind, words in
                  (("melody", MELODY_WORDS), ("lead", LEAD_WORDS),
                   ("accompaniment", ACCOMPANIMENT_WORDS), ("bass", BASS_WORDS))}
# the order a fallback takes when no track is a melody: best first
FALLBACK = ("short", "chords", "arpeggio", "bass", "percussive")


@dataclass(frozen=True)
class TrackFeatures:
    """What the rule reads of one track (and the Corpus page shows)."""

    track: int
    name: str
    program: int
    drums: bool
    notes: int
    mean_pitch: float
    polyphony: float   # notes sounding together, on average over the 16ths it sounds
    monophony: float   # share of its sounding 16ths with a single note
    onsets: int
    span: float        # share of the piece from its first onset to its last end
    steps: float       # share of its top line's moves that are repeats, semitones or tones


@dataclass(frozen=True)
class LeadChoice:
    """The lead track the rule chose, how sure it is (0-1) and, when unsure, why."""

    track: int
    confidence: float
    doubt: str
    kinds: dict[int, str]      # every candidate: 'melodic' or why it is not a melody
    scores: dict[int, float]


@lru_cache(maxsize=1024)
def name_kind(name: str) -> str:
    """What a track's name says it plays: melody, lead, accompaniment, bass or ''."""
    lowered = name.lower()
    for kind in ("bass", "melody", "accompaniment", "lead"):
        if _NAME_PATTERNS[kind].search(lowered):
            return kind
    return ""


def track_features(notes: GridNotes, tracks: list[Track] | None = None) -> list[TrackFeatures]:
    """The features of `tracks` (default: every track of the file), worked out for all of
    them at once; a track's span is of the piece its tracks make together."""
    if tracks is None:
        tracks, track, start, end, pitch = (notes.tracks, notes.track, notes.start, notes.end,
                                            notes.pitch)
    else:
        track = np.arange(len(tracks)).repeat([t.notes for t in tracks])
        start, end, pitch = (np.concatenate([getattr(t, k) for t in tracks])
                             for k in ("start", "end", "pitch"))
    count = len(tracks)
    sizes = np.bincount(track, minlength=count)
    means = np.bincount(track, weights=pitch, minlength=count) / np.maximum(sizes, 1)
    busy, layered, single, onsets = _sounding(track, start, end, count)
    spans = _spans(track, start, end, count, [not t.is_drum for t in tracks])
    steps = _steps(track, start, pitch, count)
    return [TrackFeatures(t.index, t.name, t.program, t.is_drum, size,
                          mean if size else float("nan"), lay / max(b, 1), one / max(b, 1),
                          onset, span, step)
            for t, size, mean, b, lay, one, onset, span, step in zip(
                tracks, sizes.tolist(), means.tolist(), busy.tolist(), layered.tolist(),
                single.tolist(), onsets.tolist(), spans.tolist(), steps.tolist())]


def _sounding(track: np.ndarray, start: np.ndarray, end: np.ndarray,
              count: int) -> tuple[np.ndarray, ...]:
    """Per track: 16ths with a note sounding, note-16ths (a chord of three counts three),
    16ths with exactly one note, and distinct onsets, from notes sorted by track and onset.

    Every track is moved to its own stretch of time, so one pass covers them all. Taken in
    onset order, a note sounds alone from where the notes before it have all ended; the
    part of it under an earlier note (up to where they end) is layered, and those layered
    stretches, again in onset order, give the 16ths with two notes or more the same way.
    """
    offset = track * (int(end.max()) + 1 if len(end) else 1)
    start, end = start + offset, end + offset
    before = _latest_before(end)
    under = np.minimum(end, before)  # the layered stretch is [start, under)
    busy = np.maximum(end - np.maximum(start, before), 0)
    double = np.maximum(under - np.maximum(start, _latest_before(under)), 0)
    first = np.ones(len(start), bool)
    first[1:] = start[1:] != start[:-1]
    busy = np.bincount(track, weights=busy, minlength=count)
    layered = np.bincount(track, weights=end - start, minlength=count)
    return (busy, layered, busy - np.bincount(track, weights=double, minlength=count),
            np.bincount(track[first], minlength=count))


def _latest_before(end: np.ndarray) -> np.ndarray:
    """The latest end of the notes before each one (-1 for the first)."""
    latest = np.empty_like(end)
    latest[:1] = -1
    np.maximum.accumulate(end[:-1], out=latest[1:])
    return latest


def _spans(track: np.ndarray, start: np.ndarray, end: np.ndarray, count: int,
           pitched: list[bool]) -> np.ndarray:
    """Each track's first onset to last end, as a share of the pitched tracks' piece (notes
    sorted by track and onset)."""
    spans = np.zeros(count)
    if not len(track):
        return spans
    cuts = np.flatnonzero(np.concatenate(([True], track[1:] != track[:-1])))
    which = track[cuts]
    first, last = start[cuts], np.maximum.reduceat(end, cuts)
    sounding = np.asarray(pitched)[which]
    if not sounding.any():
        return spans
    piece = last[sounding].max() - first[sounding].min()
    spans[which] = (last - first) / max(int(piece), 1)
    return spans


def _steps(track: np.ndarray, start: np.ndarray, pitch: np.ndarray, count: int) -> np.ndarray:
    """Per track, the share of its top line's moves (highest note of one onset to that of
    the next) of at most two semitones; notes come sorted by track, onset and pitch."""
    if len(track) < 2:
        return np.zeros(count)
    top = np.ones(len(track), bool)
    top[:-1] = (track[1:] != track[:-1]) | (start[1:] != start[:-1])
    line_track, line_pitch = track[top], pitch[top]
    same = line_track[1:] == line_track[:-1]
    small = same & (np.abs(np.diff(line_pitch)) <= 2)
    moves = np.maximum(np.bincount(line_track[1:][same], minlength=count), 1)
    return np.bincount(line_track[1:][small], minlength=count) / moves


def cycles(track: Track) -> float:
    """Of a track's top line, repeated notes taken as one, the share of notes that repeat
    the pitch 2, 3 or 4 notes before (the best of the three: a broken chord cycles through
    its notes, a tune seldom does for long)."""
    line = _top_line(track)[1]
    line = line[np.concatenate(([True], line[1:] != line[:-1]))]
    return max((float(np.mean(line[lag:] == line[:-lag])) for lag in (2, 3, 4)
                if len(line) > lag), default=0.0)


def kinds_of(features: list[TrackFeatures], tracks: list[Track]) -> dict[int, str]:
    """Each candidate track's kind: 'melodic', or why it is not a melody (rule 1). A short
    line is short against the busiest track that moves like a tune (TUNE_STEPS), so a busy
    accompaniment figure does not make the tune look short."""
    by_index = {t.index: t for t in tracks}
    kinds = {f.track: _own_kind(f, [o for o in features if o is not f], by_index[f.track])
             for f in features}
    plausible = [f for f in features if not kinds[f.track]]
    tunes = [f for f in plausible if f.steps >= TUNE_STEPS] or plausible or features
    busiest = max(f.onsets for f in tunes)
    for f in features:
        if not kinds[f.track] and (f.span < SHORT_SPAN or f.onsets < SHORT_ONSETS * busiest):
            kinds[f.track] = "short"
    return {track: kind or "melodic" for track, kind in kinds.items()}


def _own_kind(f: TrackFeatures, others: list[TrackFeatures], track: Track) -> str:
    """Why a track is not a melody whatever the busiest track: percussive, bass, chords or
    arpeggio (rule 1), or ''."""
    if f.program in PERCUSSIVE_PROGRAMS:
        return "percussive"
    highest = max((o.mean_pitch for o in others), default=f.mean_pitch)
    if (name_kind(f.name) == "bass"
            or (f.program in BASS_PROGRAMS and f.mean_pitch < BASS_PROGRAM_BELOW)
            or (f.mean_pitch < LOW_REGISTER and f.mean_pitch <= highest - LOW_GAP)):
        return "bass"
    if f.polyphony >= CHORDAL_POLYPHONY:
        return "chords"
    if f.monophony > 0.5 and (f.steps < ARPEGGIO_STEPS or (
            f.steps < TUNE_STEPS and cycles(track) >= ARPEGGIO_CYCLES)):
        return "arpeggio"
    return ""


def melody_scores(candidates: list[TrackFeatures]) -> dict[int, float]:
    """The melody score of each candidate track (rule 2)."""
    means = np.array([c.mean_pitch for c in candidates])
    register = (means - means.min()) / max(means.max() - means.min(), REGISTER_SPAN)
    most = max(c.onsets for c in candidates) or 1
    return {c.track: _name_score(c.name) + c.monophony
            + (r + c.onsets / most + c.span + c.steps + _program_score(c.program)) / 2
            for c, r in zip(candidates, register.tolist())}


def _name_score(name: str) -> float:
    return {"melody": 1.0, "lead": 0.7, "accompaniment": -0.7}.get(name_kind(name), 0.0)


def _program_score(program: int) -> float:
    return 0.5 if program in SOLO_PROGRAMS else -0.5 if program in PAD_PROGRAMS else 0.0


def choose_lead(notes: GridNotes, candidates: list[Track]) -> LeadChoice:
    """The lead among `candidates` (pitched tracks with notes), with its confidence."""
    if len(candidates) == 1:
        only = candidates[0].index
        return LeadChoice(only, 1.0, "", {only: "melodic"}, {only: 0.0})
    features = track_features(notes, candidates)
    kinds = kinds_of(features, candidates)
    melodic = [f for f in features if kinds[f.track] == "melodic"]
    pool = melodic or _fallback(features, kinds)
    scores = melody_scores(pool)
    ranked = sorted(scores, key=lambda i: (-scores[i], i))
    lead = ranked[0]
    labels = {t.index: t.label for t in candidates}
    if not melodic:
        return LeadChoice(lead, 0.0, f"no melodic track (bass, chords, pads or short lines "
                                     f"only): took {labels[lead]}", kinds, scores)
    by_index = {t.index: t for t in candidates}
    rival = next((i for i in ranked[1:] if not doubles(by_index[lead], by_index[i])), None)
    if rival is None:
        return LeadChoice(lead, 1.0, "", kinds, scores)
    confidence = min(1.0, (scores[lead] - scores[rival]) / SURE_MARGIN)
    doubt = (f"two similar candidates: {labels[lead]} and {labels[rival]}"
             if confidence < UNCERTAIN else "")
    return LeadChoice(lead, round(confidence, 2), doubt, kinds, scores)


def _fallback(features: list[TrackFeatures], kinds: dict[int, str]) -> list[TrackFeatures]:
    """The tracks to choose from when none is a melody: the best kind there is (FALLBACK)."""
    for kind in FALLBACK:
        pool = [f for f in features if kinds[f.track] == kind]
        if pool:
            return pool
    return features


def doubles(a: Track, b: Track) -> bool:
    """Whether two tracks play the same tune (in unison or octaves): most of either's onsets
    are shared and the top notes there have the same pitch class."""
    top_a, top_b = _top_line(a), _top_line(b)
    shared, at_a, at_b = np.intersect1d(top_a[0], top_b[0], assume_unique=True,
                                        return_indices=True)
    if len(shared) < DOUBLING * max(len(top_a[0]), len(top_b[0])):
        return False
    same = (top_a[1][at_a] % 12) == (top_b[1][at_b] % 12)
    return bool(same.mean() >= DOUBLING)


def _top_line(track: Track) -> tuple[np.ndarray, np.ndarray]:
    """(onsets, the highest pitch at each) of a track's notes (sorted by onset and pitch)."""
    top = np.ones(track.notes, bool)
    top[:-1] = track.start[1:] != track.start[:-1]
    return track.start[top], track.pitch[top]
