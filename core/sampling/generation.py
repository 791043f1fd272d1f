"""Generation: lead and/or accompaniment runs + seed pieces -> generated parts -> saved samples.

One path generates every part, for any number of seed pieces at once (`generate_parts`):
each part is one batch through its run's model, by the window or the stateful method
(`continue_ids` picks the engine), lead first, so a conditioned accompaniment can follow
the generated lead. `generate` seeds it with one piece (a batch of one) and saves a sample
per decoding; core.evidence.evaluation seeds it with many held-out pieces.
"""
from __future__ import annotations

import time
from pathlib import Path
from typing import Any, Mapping, Sequence

import numpy as np

from core.data.corpus import LEAD, PARTS, Piece
from core.data.encoding import lead_steps
from core.data.keys import transpose_symbol
from core.data.nearest import fit_to_vocabulary
from core.data.prepare import config_lead_line
from core.data.symbols import HOLD
from core.data.timeline import PartSymbols
from core.nets.windows import PITCHED, target_names
from core.runs.checkpoint import best_model
from core.runs.record import Run, open_run
from core.sampling import stateful, window
from core.sampling.context import Context, duration_quarters
from core.sampling.decoding import Decoding, GenerationError
from core.sampling.saving import Sample, save_sample
from core.sampling.seeds import (
    encode_seeds,
    run_seed,
    seed_from_corpus,
    seed_from_file,
    seed_mapped,
)

METHODS = ("auto", "window", "stateful")


MAX_STEPS = 2000  # symbols per part one call generates: ~125 bars of 16ths, minutes of work


def open_part_runs(runs: Mapping[str, Run | Path | str]) -> dict[str, Run]:
    """Lead first, then accompaniment, each opened (core.runs.record.open_run) unless it
    is already; each run must have been trained on its part."""
    unknown = sorted(set(runs) - set(PARTS))
    if unknown:
        raise GenerationError(f"runs are given per part ({', '.join(PARTS)}), not {unknown}")
    infos = {part: runs[part] if isinstance(runs[part], Run) else open_run(runs[part])
             for part in PARTS if runs.get(part)}
    if not infos:
        raise GenerationError("give a lead run, an accompaniment run, or both")
    for part, info in infos.items():
        if info.config.part != part:
            raise GenerationError(f"run {info.run_id} was trained on the {info.config.part}, "
                                  f"not the {part}")
    return infos


def load_model(run: Run):
    """The model of the run's best committed epoch (`load_best`)."""
    return load_best(run)[0]


def load_best(run: Run) -> tuple[Any, int]:
    """The model of the run's best committed epoch and that epoch
    (core.runs.checkpoint.best_model); a missing or damaged file is a GenerationError."""
    try:
        return best_model(run)
    except Exception as exc:  # keras raises many types for a missing or damaged file
        raise GenerationError(f"run {run.run_id} cannot be loaded: {exc}") from exc


def pick_method(config, decoding: Decoding, method: str = "auto") -> str:
    """"stateful" for sequence-trained networks (exact and far faster), the thesis's
    "window" otherwise; beam search always re-feeds windows."""
    if method not in METHODS:
        raise GenerationError(f"method must be one of {METHODS}, got {method!r}")
    if decoding.strategy == "beam":
        return "window"
    if method == "auto":
        return "stateful" if config.objective == "sequence" else "window"
    return method


def continue_ids(model, config, seed: dict[str, np.ndarray], steps: int, decoding: Decoding,
                 rng: np.random.Generator, context: Context | None = None,
                 method: str = "auto") -> dict[str, np.ndarray]:
    """(batch, steps) continuations of (batch, n) seed ids, by the engine `pick_method`
    chooses: the thesis's window re-feeding, or stateful stepping. `context`: what the
    network reads beside its symbols (core.sampling.context)."""
    engine = (stateful.generate_stateful if pick_method(config, decoding, method) == "stateful"
              else window.generate_ids)
    return engine(model, config, seed, steps, decoding, rng, context)


def generate_parts(infos: Mapping[str, Run], models: Mapping[str, Any],
                   pieces: Sequence[Piece], steps: int, decoding: Decoding, seed: int,
                   method: str = "auto") -> list[dict[str, PartSymbols]]:
    """Each seed piece's first window + `steps` generated symbols, per part of `infos`, in
    the piece's own key (a run that normalises keys generates in its common key and its
    output is moved back).

    Each part is one batch through its model that draws from its own generator seeded with
    `seed` (the pieces of a batch share that random stream, so a row is reproduced by the
    same call). The lead comes first: a conditioned accompaniment follows the generated lead
    (the seed piece's own lead when no lead run is given), its length capped by the
    shortest such lead.
    """
    if steps < 1:
        raise GenerationError(f"steps must be >= 1, got {steps}")
    decoding.validate()
    if not pieces:
        return []
    out: dict[str, list[PartSymbols]] = {}
    for part, info in infos.items():
        config, n = info.config, info.config.window
        seeds = [run_seed(info, piece, steps, LEAD not in out) for piece in pieces]
        seed_ids = {s: encode_seeds(info, s, [x.window[s] for x in seeds], n)
                    for s in target_names(config)}
        part_steps, context = steps, _context(info, pieces)
        if config.conditioned:
            leads = ([_followed_lead(info, generated, x.shift)
                      for generated, x in zip(out[LEAD], seeds)] if LEAD in out
                     else [x.lead for x in seeds])
            part_steps = min(steps, min(len(x) for x in leads) - n)
            if part_steps < 1:
                raise GenerationError(f"run {info.run_id} is conditioned on the lead, which is "
                                      f"not longer than its window of {n}")
            context.lead = encode_seeds(info, LEAD, leads, n + part_steps)
        ids = continue_ids(models[part], config, seed_ids, part_steps, decoding,
                           np.random.default_rng(seed), context, method)
        out[part] = [PartSymbols(_restored({s: x.window[s] + info.vocabs[s].decode(ids[s][i])
                                            for s in x.window}, x.shift, config.chord_mode),
                                 config.model, config.chord_mode)
                     for i, x in enumerate(seeds)]
    return [{part: out[part][i] for part in out} for i in range(len(pieces))]


def _context(info: Run, pieces: Sequence[Piece]) -> Context:
    """The context a run reads beside its symbols (its lead is added by the caller)."""
    config = info.config
    durations = (duration_quarters(info.vocabs["duration"].symbols) if config.model == 2
                 else None)
    hold = info.vocabs["steps"].index.get(HOLD) if config.model == 1 else None
    return Context(config.model, metres=[p.metre for p in pieces] if config.bar_position
                   else None, durations=durations, hold=hold)


def _followed_lead(info: Run, generated: PartSymbols, shift: int) -> list[str]:
    """A generated lead as a conditioned accompaniment run reads it: Model 1 steps in its
    chord mode, moved by its key shift, mapped into its lead vocabulary."""
    config = info.config
    steps = lead_steps(generated.symbols, generated.model, generated.chord_mode,
                       config.chord_mode)
    steps = [transpose_symbol(s, shift, config.chord_mode) or s for s in steps]
    return fit_to_vocabulary(steps, info.vocabs[LEAD].symbols, LEAD, config.chord_mode)[0]


def _restored(streams: dict[str, list[str]], shift: int, chord_mode: str) -> dict[str, list[str]]:
    """Generated streams moved back by a run's key shift into the seed's key (a note MIDI
    cannot hold there stays where it was)."""
    return {name: [transpose_symbol(s, -shift, chord_mode) or s for s in symbols]
            if name in PITCHED else symbols for name, symbols in streams.items()}


def generate(runs: dict[str, Path | str], steps: int, decodings: list[Decoding], seed: int = 0,
             seed_piece: str | None = None, seed_file: Path | str | None = None,
             render: bool = True, cache_dir: Path | str = "cache",
             method: str = "auto") -> list[Sample]:
    """One sample per decoding, all from the same seed window, saved under the first run.

    `runs` maps "lead" and/or "accompaniment" to run directories. Seed symbols a run never
    saw are mapped to the nearest it knows; each sample's `seed_mapped` says how many, its
    `epochs` which epoch's model each part came from (its best committed one).
    """
    if not 1 <= steps <= MAX_STEPS:
        raise GenerationError(f"steps must be in [1, {MAX_STEPS}], got {steps}")
    infos = open_part_runs(runs)
    first = next(iter(infos.values()))
    if seed_file:
        piece, source = seed_from_file(seed_file, first.config.chord_mode,
                                       config_lead_line(first.config))
    else:
        piece, source = seed_from_corpus(first, seed_piece, cache_dir)
    mapped = seed_mapped(piece, infos, steps)
    loaded = {part: load_best(info) for part, info in infos.items()}
    models = {part: model for part, (model, _) in loaded.items()}
    samples = []
    for decoding in decodings:
        started = time.perf_counter()
        parts = generate_parts(infos, models, [piece], steps, decoding, seed, method)[0]
        timing = {"seconds": round(time.perf_counter() - started, 4),
                  "methods": {p: pick_method(i.config, decoding, method) for p, i in infos.items()},
                  "epochs": {part: epoch for part, (_, epoch) in loaded.items()}}
        symbols = {part: generated.symbols for part, generated in parts.items()}
        samples.append(save_sample(infos, symbols, decoding, seed, source, steps, render, timing))
        samples[-1].seed_mapped = mapped
    return samples
