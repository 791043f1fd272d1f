"""Labelled sets of MIDI files whose melody tracks are known, and how often the lead rule
(`core.data.melody` through `core.data.roles`) finds them.

A labelled set is a folder of MIDI files with a `labels.csv` beside them: one row per file
(`file` relative to the folder, then `melody`, `bass` and `non_melodic`: track numbers as
the reports number them, separated by spaces, and an optional `note`). A chosen lead is
judged *melody* when it is a melody track (a doubling counts), *non-melodic* when it is a
bass, drum, chord, pad or other non-melodic track, and *another melodic track* otherwise (an
inner voice, a counter-melody); a bass line chosen is also counted on its own.

`build_music21_set` makes such a set offline from music21's bundled multi-part works
(chorales, string quartets, trio sonatas, madrigals: real music that nobody here wrote),
turned into band arrangements: parts renamed, reordered and given General MIDI programs
(the lowest part on a bass program, often busier than the tune, named Bass or Walk or not at
all), with drums, a pad, a high arpeggio figure or a short counter-line added to some, so
the rule meets what defeated it in real files. `python -m core bench --only midi` prints
the figures for it and for any folder given with `--labelled-folder`.
"""
from __future__ import annotations

import csv
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from core.data.midi import MidiError
from core.data.roles import LEAD, proposal
from core.data.scores import ScoreError

LABELS_FILE = "labels.csv"
LABEL_COLUMNS = ("file", "melody", "bass", "non_melodic", "note")
MELODY, OTHER, NON_MELODIC = "melody", "another melodic track", "a non-melodic track"
OUTCOMES = (MELODY, OTHER, NON_MELODIC)


class LabelsError(ValueError):
    """A labels file that cannot be read; the message names the line."""


@dataclass(frozen=True)
class Label:
    """One file's known tracks (numbered from 1 as in the prepare report)."""

    file: str
    melody: frozenset[int]
    bass: frozenset[int] = frozenset()
    non_melodic: frozenset[int] = frozenset()
    note: str = ""


@dataclass(frozen=True)
class Judgement:
    """What the rule chose for one labelled file and what that track is."""

    file: str
    chosen: int
    outcome: str
    bass: bool
    confidence: float
    doubt: str


@dataclass
class Accuracy:
    """Counts over a labelled set: each outcome, bass lines chosen, uncertain choices, and
    the files that could not be read."""

    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(OUTCOMES, 0))
    bass: int = 0
    uncertain: int = 0
    unreadable: list[str] = field(default_factory=list)
    judgements: list[Judgement] = field(default_factory=list)

    @property
    def files(self) -> int:
        return sum(self.counts.values())

    @property
    def melody_share(self) -> float:
        return self.counts[MELODY] / self.files if self.files else 0.0

    @property
    def melodic_share(self) -> float:
        """Melody or another melodic track: a lead that is at least a tune of the piece."""
        return (self.counts[MELODY] + self.counts[OTHER]) / self.files if self.files else 0.0


def _numbers(text: str, shown: str, line: int) -> frozenset[int]:
    parts = text.split()
    if not all(p.isdigit() and int(p) >= 1 for p in parts):
        raise LabelsError(f"{shown}, line {line}: track numbers must be whole numbers from 1, "
                          f"separated by spaces, not {text[:30]!r}")
    return frozenset(int(p) for p in parts)


def read_labels(path: Path | str) -> list[Label]:
    """The labels of a labels CSV; LabelsError naming the line of anything unusable."""
    path = Path(path)
    try:
        with path.open(newline="", encoding="utf-8") as fh:
            rows = list(csv.DictReader(fh))
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise LabelsError(f"{path.name}: not a readable CSV file") from exc
    labels = []
    for line, row in enumerate(rows, start=2):
        file = str(row.get("file") or "").strip()
        melody = _numbers(str(row.get("melody") or ""), path.name, line)
        if not file or not melody:
            raise LabelsError(f"{path.name}, line {line}: needs a file and its melody track(s)")
        labels.append(Label(file, melody, _numbers(str(row.get("bass") or ""), path.name, line),
                            _numbers(str(row.get("non_melodic") or ""), path.name, line),
                            str(row.get("note") or "")))
    return labels


def write_labels(path: Path | str, labels: list[Label]) -> Path:
    """A labels CSV (LABEL_COLUMNS), written to a temporary name first."""
    path = Path(path)
    tmp = path.with_suffix(".tmp")
    with tmp.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(LABEL_COLUMNS)
        for label in labels:
            writer.writerow([label.file, *(" ".join(map(str, sorted(s))) for s in
                                           (label.melody, label.bass, label.non_melodic)),
                             label.note])
    tmp.replace(path)
    return path


def judge(folder: Path | str, labels: list[Label] | None = None) -> Accuracy:
    """The rule's lead for every labelled file of `folder` (labels default to its
    labels.csv), judged against the labels."""
    from core.data.pieces import read_tracks

    folder = Path(folder)
    labels = read_labels(folder / LABELS_FILE) if labels is None else labels
    result = Accuracy()
    for label in labels:
        try:
            notes = read_tracks(folder / label.file)
        except (MidiError, ScoreError):
            result.unreadable.append(label.file)
            continue
        roles, choice = proposal(notes, None)
        chosen = next(i for i, role in roles.items() if role == LEAD)
        outcome = (MELODY if chosen in label.melody else
                   NON_MELODIC if chosen in label.bass | label.non_melodic else OTHER)
        confidence, doubt = (choice.confidence, choice.doubt) if choice else (1.0, "")
        result.counts[outcome] += 1
        result.bass += chosen in label.bass
        result.uncertain += bool(doubt)
        result.judgements.append(Judgement(label.file, chosen, outcome, chosen in label.bass,
                                           confidence, doubt))
    return result


# --- a labelled set from music21's corpus ----------------------------------------------------

# (work, measures): music21's bundled multi-part works, the tune in the first part
MUSIC21_WORKS = (
    ("bach/bwv66.6", 0), ("bach/bwv244.3", 0), ("bach/bwv269", 0), ("bach/bwv57.8", 0),
    ("bach/bwv84.5", 0), ("bach/bwv40.3", 0), ("bach/bwv26.6", 0),
    ("haydn/opus74no1/movement3", 24),
    ("beethoven/opus18no1/movement2", 24), ("mozart/k80/movement1", 24),
    ("mozart/k155/movement2", 24), ("mozart/k156/movement1", 24),
    ("corelli/opus3no1/1grave", 0), ("monteverdi/madrigal.3.1.mxl", 24),
    ("monteverdi/madrigal.4.1.mxl", 24), ("monteverdi/madrigal.5.3.mxl", 24),
    ("schumann_robert/opus41no1/movement2", 24),
)
TUNE_PROGRAMS = (0, 40, 56, 65, 71, 73, 80, 4, 25)
INNER_PROGRAMS = (0, 4, 24, 26, 41, 42, 48, 61)
BASS_NAMES = ("Bass", "Walk", "Walking bass", "Bajo", "")
GENERIC = "Track {}"

Note = tuple[float, float, int]  # onset and length in quarters, MIDI pitch


def work_parts(work: str, measures: int = 0) -> list[tuple[str, list[Note]]]:
    """(part name, notes) of a work in music21's corpus (its first `measures`; 0: all),
    parts in score order, ties merged."""
    from music21 import corpus, stream

    from core.data.scores import CHORALE_VOICES

    score = corpus.parse(work)
    voices = [p for p in score.parts if (p.partName or "").lower() in CHORALE_VOICES]
    if len(voices) == len(CHORALE_VOICES):  # a chorale's instrumental doublings left out
        score = stream.Score(voices)
    if measures:
        score = score.measures(1, measures)
    parts = []
    for part in score.parts:
        flat = part.stripTies().flatten()
        notes = [(float(n.getOffsetBySite(flat)), float(n.quarterLength), p.midi)
                 for n in flat.notes if n.quarterLength > 0 for p in n.pitches]
        if notes:
            parts.append((part.partName or "", notes))
    return parts


def band_arrangement(parts: list[tuple[str, list[Note]]], rng: np.random.Generator
                     ) -> tuple[list[tuple[str, int, bool, list[Note]]], Label]:
    """A work's parts (tune first, bass last) as a band arrangement and its label: tracks of
    (name, program, drums, notes), shuffled; the label's file is left empty."""
    named = rng.random() < 0.5
    tune, inner, bass = parts[0], parts[1:-1], parts[-1]
    length = max(o + d for _, notes in parts for o, d, _ in notes)
    tracks: list[tuple[str, int, bool, list[Note], str]] = []
    tracks.append((tune[0] if named else "", int(rng.choice(TUNE_PROGRAMS)), False, tune[1],
                   "melody"))
    for name, notes in inner:
        tracks.append((name if named else "", int(rng.choice(INNER_PROGRAMS)), False, notes,
                       "other"))
    walking = rng.random() < 0.6  # the bass in eighths: busier than the tune
    bass_notes = [(o + h, d / 2, p) for o, d, p in bass[1] for h in (0, d / 2)] if walking \
        else bass[1]
    tracks.append((str(rng.choice(BASS_NAMES)) if rng.random() < 0.7 else "",
                   int(rng.integers(32, 40)), False, bass_notes, "bass"))
    extras = rng.random(4) < (0.6, 0.4, 0.4, 0.4)
    if extras[0]:
        tracks.append(("Drums" if named else "", 0, True, _drums(length), "non"))
    if extras[1] and inner:
        tracks.append(("Pad" if named else "", int(rng.choice([48, 49, 89, 91])), False,
                       _pad(parts[1:], length), "non"))
    if extras[2]:
        tracks.append(("Arpeggio" if named else "", int(rng.choice([8, 11, 46])), False,
                       _arpeggio(parts, length), "non"))
    if extras[3] and inner:
        tracks.append(("Counter" if named else "", int(rng.choice([68, 71, 73])), False,
                       _counter(inner[0][1], length), "other"))
    tracks = [t for t in tracks if t[3]]  # a track without notes is not written
    order = rng.permutation(len(tracks))
    shuffled = [tracks[i] for i in order]
    roles: dict[str, set[int]] = {"melody": set(), "bass": set(), "non": set()}
    out = []
    for number, (name, program, drums, notes, role) in enumerate(shuffled, start=1):
        out.append((name or GENERIC.format(number), program, drums, notes))
        if role in roles:
            roles[role].add(number)
    return out, Label("", frozenset(roles["melody"]), frozenset(roles["bass"]),
                      frozenset(roles["non"]))


def _drums(length: float) -> list[Note]:
    """Kick and snare on the beats, hi-hat on the off-beats."""
    return [n for beat in range(int(length))
            for n in ((beat, 0.25, 36 if beat % 2 == 0 else 38), (beat + 0.5, 0.25, 42))]


def _sounding(parts: list[tuple[str, list[Note]]], at: float) -> list[int]:
    return sorted({p for _, notes in parts for o, d, p in notes if o <= at < o + d})


def _pad(parts: list[tuple[str, list[Note]]], length: float) -> list[Note]:
    """The inner parts' harmony held a bar at a time, an octave up (a string pad)."""
    return [(bar, 4.0, p + 12) for bar in range(0, int(length), 4)
            for p in _sounding(parts, bar)[:3]]


def _arpeggio(parts: list[tuple[str, list[Note]]], length: float) -> list[Note]:
    """The harmony broken into 16ths two octaves up, over the first half of the piece (the
    high arpeggio figure of a hymn arrangement): each beat's chord tones a third or more
    apart (a fifth and an octave added to fill a triad), up and down."""
    notes = []
    for beat in range(int(length) // 2):
        chord: list[int] = []
        for pitch in _sounding(parts, beat) or [60]:
            if not chord or pitch - chord[-1] >= 3:
                chord.append(pitch)
        chord += [chord[0] + 7, chord[0] + 12][:max(0, 3 - len(chord))]
        figure = (chord + chord[-2:0:-1]) * 4
        notes += [(beat + i / 4, 0.25, figure[i] + 24) for i in range(4)]
    return notes


def _counter(notes: list[Note], length: float) -> list[Note]:
    """A few bars of an inner part an octave up: a short counter-line."""
    return [(o, d, p + 12) for o, d, p in notes if o < length * 0.15]


def write_band(path: Path, tracks: list[tuple[str, int, bool, list[Note]]]) -> Path:
    """A MIDI file of (name, program, drums, notes) tracks, written with symusic."""
    import symusic

    ticks = 480
    score = symusic.Score(ticks)
    for name, program, drums, notes in tracks:
        track = symusic.Track(name, program, drums)
        rows = np.array([(round(o * ticks), max(1, round(d * ticks)), p) for o, d, p in notes],
                        np.int64).reshape(-1, 3)
        track.notes = symusic.Note.from_numpy(rows[:, 0].astype(np.int32),
                                              rows[:, 1].astype(np.int32),
                                              rows[:, 2].astype(np.int8),
                                              np.full(len(rows), 90, np.int8))
        score.tracks.append(track)
    path.parent.mkdir(parents=True, exist_ok=True)
    score.dump_midi(str(path))
    return path


def build_music21_set(folder: Path | str, works=MUSIC21_WORKS, variants: int = 2,
                      seed: int = 0) -> Path:
    """`variants` band arrangements of each work (`band_arrangement`) as MIDI files in
    `folder`, with their labels.csv; returns the folder."""
    folder = Path(folder)
    rng = np.random.default_rng(seed)
    labels = []
    for work, measures in works:
        parts = work_parts(work, measures)
        if len(parts) < 2:
            continue
        stem = work.replace("/", "_").replace(".mxl", "")
        for variant in range(variants):
            tracks, label = band_arrangement(parts, rng)
            name = f"{stem}-{variant}.mid"
            write_band(folder / name, tracks)
            labels.append(Label(name, label.melody, label.bass, label.non_melodic, work))
    write_labels(folder / LABELS_FILE, labels)
    return folder
