"""Training samples: windows of n symbols and their targets, built lazily with tf.data.

Only the pieces' integer ids (one flat array per stream) and the valid window starts live in
memory; each batch gathers its windows on the fly, so the full corpus never exists as a
tensor of windows, let alone of one-hot vectors. Windows never cross a piece boundary.

"window" objective (the thesis's): window i..i+n-1 predicts symbol i+n, stride 1.
"sequence" objective: the same window predicts i+1..i+n at every position. An epoch draws
1/n of all windows at random (fresh each epoch), so on average every symbol is a target once
per epoch, seen under a different phase every time (fixed non-overlapping windows overfit).

What a network reads of a piece is decided here, in `piece_streams`, for training, the
held-out measure, baselines and generation alike: its part's streams, moved to C major /
A minor when the run normalises keys (core.data.keys), with the lead beside a conditioned
accompaniment. Inputs that are not predicted sit beside the symbols, aligned with the
symbol being predicted: a conditioned accompaniment's lead, and the bar position of the
predicted symbol (core.data.metre) when the run reads it. Transposition augmentation moves
each training window by a random number of semitones as its batch is gathered; held-out
windows are never moved.

A window of n symbols needs n + 1 of one piece; `check_windows` refuses a setting no
training piece can fill from the pieces' lengths alone, before any window is built.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from core.data.corpus import Corpus, Piece
from core.data.keys import key_shift, transpose
from core.data.metre import Metre
from core.data.timeline import boundaries, to_steps
from core.data.vocabulary import Vocabulary
from core.nets.config import ConfigError, TrainConfig

POSITION = "position"
PITCHED = ("steps", "pitch", "lead")  # the streams a transposition moves ("duration" stays)


@dataclass
class WindowSet:
    """Every input and target stream of one split as flat id arrays, the valid window
    starts, and for augmented training windows the id tables of each transposition
    (stream -> (shifts, vocabulary) array; empty when windows are not moved)."""

    arrays: dict[str, np.ndarray]
    starts: np.ndarray
    window: int
    shifts: dict[str, np.ndarray] | None = None

    def __len__(self) -> int:
        return len(self.starts)


def input_name(stream: str) -> str:
    """Inputs are named after their stream; Model 2's outputs already carry the bare names."""
    return f"{stream}_in"


def stream_names(config: TrainConfig) -> list[str]:
    """The input streams of a model, in the order its inputs are named."""
    return target_names(config) + context_names(config)


def context_names(config: TrainConfig) -> list[str]:
    """The inputs read beside the symbols and never predicted: a conditioned
    accompaniment's lead, the bar position. Each is aligned with the predicted symbol."""
    return (["lead"] if config.conditioned else []) + \
        ([POSITION] if config.bar_position else [])


def target_names(config: TrainConfig) -> list[str]:
    return ["steps"] if config.model == 1 else ["pitch", "duration"]


def piece_shift(piece: Piece, config: TrainConfig) -> int:
    """Semitones a run moves a piece by: to C major / A minor from the key of both its
    parts when the run normalises keys (0 where a note would leave MIDI's range), else 0.
    Generation moves what it makes back by the same amount."""
    if not config.key_normalisation:
        return 0
    parts = [p for p in (piece.lead, piece.accompaniment) if p is not None]
    shift = key_shift(p.steps for p in parts)
    fits = all(transpose(p.stream(name), shift, config.chord_mode) is not None
               for p in parts for name in ("steps", "pitch"))
    return shift if fits else 0


def piece_streams(piece: Piece, config: TrainConfig) -> dict[str, list[str]] | None:
    """A piece's symbol lists for this model and part, as the run reads them (moved by
    `piece_shift`); None if it lacks the part.

    For a conditioned model the lead is cut to the accompaniment's length (both are on the
    same 16th grid, so index t is the same moment in both)."""
    part = piece.part(config.part)
    if part is None:
        return None
    streams = {name: part.stream(name) for name in target_names(config)}
    if config.conditioned:
        length = min(len(piece.lead.steps), len(part.steps))
        streams = {"steps": part.steps[:length], "lead": piece.lead.steps[:length]}
    return moved(streams, piece_shift(piece, config), config.chord_mode)


def moved(streams: dict[str, list[str]], semitones: int,
          chord_mode: str) -> dict[str, list[str]]:
    """Streams with their pitched ones moved by `semitones` (which must fit MIDI's range)."""
    if not semitones:
        return streams
    return {name: transpose(symbols, semitones, chord_mode) if name in PITCHED else symbols
            for name, symbols in streams.items()}


def bar_positions(streams: dict[str, list[str]], metre: Metre, model: int) -> np.ndarray:
    """The bar position (core.data.metre) of each symbol of a piece's streams: each 16th
    for Model 1, each event's onset for Model 2."""
    if model == 1:
        return metre.positions(np.arange(len(streams["steps"])))
    return metre.positions(to_steps(boundaries(2, streams)[:-1]))


def corpus_vocabularies(corpus: Corpus, config: TrainConfig) -> dict[str, Vocabulary]:
    """Vocabularies over every piece (training then held-out, corpus order), so held-out
    windows can be encoded; order of first appearance as in the thesis. With transposition
    augmentation, the training symbols moved by each shift follow (those MIDI can hold)."""
    ordered = corpus.split("train") + corpus.split("validation")
    per_piece = [s for s in (piece_streams(p, config) for p in ordered) if s]
    vocabs = {name: Vocabulary.build(s[name] for s in per_piece) for name in target_names(config)}
    if config.conditioned:  # every lead symbol, not only those under an accompaniment
        vocabs["lead"] = Vocabulary.build(
            moved({"lead": p.lead.steps}, piece_shift(p, config), config.chord_mode)["lead"]
            for p in ordered)
    for name, vocab in vocabs.items():
        if name in PITCHED:
            vocabs[name] = Vocabulary.build(
                [vocab.symbols, *([_moved_symbol(s, k, config) for s in vocab.symbols]
                                  for k in augment_shifts(config))])
    return vocabs


def _moved_symbol(symbol: str, semitones: int, config: TrainConfig) -> str:
    """A symbol moved by `semitones`, or itself where MIDI cannot hold the moved note."""
    return (transpose([symbol], semitones, config.chord_mode) or [symbol])[0]


def augment_shifts(config: TrainConfig) -> list[int]:
    """The transpositions a training window may get: -k..+k semitones (none for k = 0)."""
    k = config.transpose_augment
    return list(range(-k, k + 1)) if k else []


def shift_tables(vocabs: dict[str, Vocabulary], config: TrainConfig) -> dict[str, np.ndarray]:
    """For each pitched input stream, (shifts, vocabulary) ids: row i maps every id to the
    id of its symbol moved by augment_shifts(config)[i] (to itself where MIDI cannot hold
    the moved note)."""
    shifts = augment_shifts(config)
    tables = {}
    for name in stream_names(config):
        if name not in PITCHED or not shifts:
            continue
        index, symbols = vocabs[name].index, vocabs[name].symbols
        tables[name] = np.array([[index.get(_moved_symbol(s, k, config), i)
                                  for i, s in enumerate(symbols)] for k in shifts], np.int32)
    return tables


def build_windows(corpus: Corpus, config: TrainConfig, vocabs: dict[str, Vocabulary],
                  split: str, window: int = 0) -> WindowSet:
    """Every window start (stride 1) of one split; a piece of L symbols gives L - n windows
    (each needs the symbol after it), so one of n symbols or fewer adds none. n is `window`
    when given (training: config.train_window), else config.window."""
    n = window or config.window
    arrays: dict[str, list[np.ndarray]] = {name: [] for name in stream_names(config)}
    starts, offset = [], 0
    for piece in corpus.split(split):
        streams = piece_streams(piece, config)
        if not streams:
            continue
        length = len(next(iter(streams.values())))
        for name in arrays:
            ids = (bar_positions(streams, piece.metre, config.model) if name == POSITION
                   else vocabs[name].encode(streams[name]))
            arrays[name].append(np.asarray(ids, dtype=np.int32))
        starts.extend(range(offset, offset + length - n))
        offset += length
    flat = {k: np.concatenate(v) if v else np.zeros(0, np.int32) for k, v in arrays.items()}
    moves = shift_tables(vocabs, config) if split == "train" else None
    return WindowSet(flat, np.asarray(starts, dtype=np.int64), n, moves)


HELD_OUT_WINDOWS = 4096  # held-out windows a run is measured on each epoch, at most


def held_out_windows(corpus: Corpus, config: TrainConfig,
                     vocabs: dict[str, Vocabulary]) -> WindowSet:
    """The held-out windows a run is measured on (core.runs.training) and its baselines
    counted on (core.evidence.baselines): every window of the held-out pieces, or a fixed
    draw of HELD_OUT_WINDOWS of them (seeded by the split) where there are more. Measuring
    all of them each epoch cost more than training the epoch (the chorales' 7,644 windows:
    1.0 s against 1.1 s of training, 1x128 LSTM; 4,096 take 0.5 s). On that run the draw
    measured loss 0.436, accuracy 0.868, note accuracy 0.465 where all windows gave 0.442,
    0.865, 0.457; every run of a corpus is measured on the same draw, every epoch."""
    windows = build_windows(corpus, config, vocabs, "validation")
    if len(windows) <= HELD_OUT_WINDOWS:
        return windows
    rng = np.random.default_rng([config.split_seed, HELD_OUT_WINDOWS])
    keep = np.sort(rng.choice(len(windows), HELD_OUT_WINDOWS, replace=False))
    return WindowSet(windows.arrays, windows.starts[keep], windows.window)


def piece_lengths(corpus: Corpus, config: TrainConfig, split: str) -> list[int]:
    """Symbols per piece of one split for this model, pieces lacking its part left out:
    what `build_windows` cuts into windows, counted without encoding anything."""
    streams = (piece_streams(p, config) for p in corpus.split(split))
    return [len(next(iter(s.values()))) for s in streams if s]


def check_windows(corpus: Corpus, config: TrainConfig) -> None:
    """Refuse, before any window is built, a setting no training piece can give a window
    to: a window of n symbols needs a piece of n + 1 (n to read, the next to predict)."""
    n, part = max(config.window, config.train_window), config.part
    lengths = piece_lengths(corpus, config, "train")
    longest = max(lengths, default=0)
    if longest > n:
        return
    if not corpus.sequences(part, "steps"):
        raise ConfigError("part", f"this corpus has no {part} parts")
    if not lengths:
        raise ConfigError("part", f"no training piece has the {part} part (only held-out "
                                  "pieces do)")
    name = "sequence_window" if config.train_window > config.window else "window"
    fix = f"choose a {name} of at most {longest - 1}" if longest > 1 else \
        "too short for any window"
    raise ConfigError(name, f"{name} {n} needs a training piece of {n + 1} symbols ({n} "
                            f"to read, 1 to predict), but the longest {part} of a "
                            f"training piece has {longest}: {fix}")


def windows_per_epoch(windows: WindowSet, objective: str) -> int:
    """All windows for the thesis's objective; 1/n of them for "sequence", whose windows
    each teach n targets."""
    return len(windows) if objective == "window" else max(1, len(windows) // windows.window)


def batches_per_epoch(windows: WindowSet, config: TrainConfig, whole: bool = True) -> int:
    """Training steps per epoch: whole batches only (see `to_dataset`), or one smaller batch
    when an epoch has fewer windows than a batch; `whole` False: the last batch partial."""
    count = windows_per_epoch(windows, config.objective)
    if whole and count >= config.batch_size:
        return count // config.batch_size
    return -(-count // config.batch_size)


def to_dataset(windows: WindowSet, config: TrainConfig, objective: str, shuffle: bool,
               seed: int = 0, whole_batches: bool = False):
    """A tf.data pipeline of (inputs, targets) batches, reshuffled every epoch.

    `whole_batches` (training): every batch holds batch_size windows; the epoch's partial
    last batch is left out (a different draw every epoch), so Keras traces its training
    step for one shape only: a second shape costs a second trace, seconds on 2 cores."""
    import tensorflow as tf

    n = windows.window
    flats = {k: tf.constant(v) for k, v in windows.arrays.items()}
    targets = target_names(config)
    ds = tf.data.Dataset.from_tensor_slices(windows.starts)
    if shuffle:
        ds = ds.shuffle(len(windows), seed=seed, reshuffle_each_iteration=True)
    ds = ds.take(windows_per_epoch(windows, objective))

    tables = {k: tf.constant(v) for k, v in (windows.shifts or {}).items()} if shuffle else {}

    def gather(starts):
        index = starts[:, None] + tf.range(n + 1, dtype=tf.int64)[None, :]
        full = {k: tf.gather(v, index) for k, v in flats.items()}
        if tables:  # one random transposition per window, drawn from the epoch's seed
            count = next(iter(tables.values())).shape[0]
            shift = tf.random.stateless_uniform(
                tf.shape(starts), [seed % 2**31, tf.cast(starts[0], tf.int32)], 0, count,
                dtype=tf.int32)
            for k, table in tables.items():
                full[k] = tf.gather(tf.gather(table, shift), full[k], batch_dims=1)
        inputs = {input_name(k): full[k][:, :n] for k in targets}
        for k in context_names(config):  # read with the symbol being predicted
            inputs[input_name(k)] = full[k][:, 1:]
        if objective == "window":
            y = {k: full[k][:, n] for k in targets}
        else:
            y = {k: full[k][:, 1:] for k in targets}
        return inputs, (y["steps"] if config.model == 1 else y)

    whole = whole_batches and windows_per_epoch(windows, objective) >= config.batch_size
    return ds.batch(config.batch_size, drop_remainder=whole) \
        .map(gather, num_parallel_calls=tf.data.AUTOTUNE).prefetch(tf.data.AUTOTUNE)
