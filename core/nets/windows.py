"""Training samples: windows of n symbols and their targets, built lazily with tf.data.

Only the pieces' integer ids (one flat array per stream) and the valid window starts live in
memory; each batch gathers its windows on the fly, so the full corpus never exists as a
tensor of windows, let alone of one-hot vectors. Windows never cross a piece boundary.

"window" objective (the thesis's): window i..i+n-1 predicts symbol i+n, stride 1.
"sequence" objective: the same window predicts i+1..i+n at every position. An epoch draws
1/n of all windows at random (fresh each epoch), so on average every symbol is a target once
per epoch, seen under a different phase every time (fixed non-overlapping windows overfit).

A window of n symbols needs n + 1 of one piece; `check_windows` refuses a setting no
training piece can fill from the pieces' lengths alone, before any window is built.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from core.data.corpus import Corpus, Piece
from core.data.vocabulary import Vocabulary
from core.nets.config import ConfigError, TrainConfig


@dataclass
class WindowSet:
    arrays: dict[str, np.ndarray]
    starts: np.ndarray
    window: int

    def __len__(self) -> int:
        return len(self.starts)


def input_name(stream: str) -> str:
    """Inputs are named after their stream; Model 2's outputs already carry the bare names."""
    return f"{stream}_in"


def stream_names(config: TrainConfig) -> list[str]:
    """The input streams of a model, in the order its inputs are named."""
    names = ["steps"] if config.model == 1 else ["pitch", "duration"]
    return names + (["lead"] if config.conditioned else [])


def target_names(config: TrainConfig) -> list[str]:
    return ["steps"] if config.model == 1 else ["pitch", "duration"]


def piece_streams(piece: Piece, config: TrainConfig) -> dict[str, list[str]] | None:
    """A piece's symbol lists for this model and part; None if it lacks the part.

    For a conditioned model the lead is cut to the accompaniment's length (both are on the
    same 16th grid, so index t is the same moment in both)."""
    part = piece.part(config.part)
    if part is None:
        return None
    streams = {name: part.stream(name) for name in target_names(config)}
    if config.conditioned:
        length = min(len(piece.lead.steps), len(part.steps))
        streams = {"steps": part.steps[:length], "lead": piece.lead.steps[:length]}
    return streams


def corpus_vocabularies(corpus: Corpus, config: TrainConfig) -> dict[str, Vocabulary]:
    """Vocabularies over every piece (training then held-out, corpus order), so held-out
    windows can be encoded; order of first appearance as in the thesis."""
    ordered = corpus.split("train") + corpus.split("validation")
    per_piece = [s for s in (piece_streams(p, config) for p in ordered) if s]
    vocabs = {name: Vocabulary.build(s[name] for s in per_piece) for name in target_names(config)}
    if config.conditioned:  # every lead symbol, not only those under an accompaniment
        vocabs["lead"] = Vocabulary.build(p.lead.steps for p in ordered)
    return vocabs


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
            arrays[name].append(np.asarray(vocabs[name].encode(streams[name]), dtype=np.int32))
        starts.extend(range(offset, offset + length - n))
        offset += length
    flat = {k: np.concatenate(v) if v else np.zeros(0, np.int32) for k, v in arrays.items()}
    return WindowSet(flat, np.asarray(starts, dtype=np.int64), n)


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

    def gather(starts):
        index = starts[:, None] + tf.range(n + 1, dtype=tf.int64)[None, :]
        full = {k: tf.gather(v, index) for k, v in flats.items()}
        inputs = {input_name(k): full[k][:, :n] for k in targets}
        if "lead" in full:  # the lead up to and including the step being predicted
            inputs[input_name("lead")] = full["lead"][:, 1:]
        if objective == "window":
            y = {k: full[k][:, n] for k in targets}
        else:
            y = {k: full[k][:, 1:] for k in targets}
        return inputs, (y["steps"] if config.model == 1 else y)

    whole = whole_batches and windows_per_epoch(windows, objective) >= config.batch_size
    return ds.batch(config.batch_size, drop_remainder=whole) \
        .map(gather, num_parallel_calls=tf.data.AUTOTUNE).prefetch(tf.data.AUTOTUNE)
