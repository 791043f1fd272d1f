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

from core.data.corpus import LEAD, PARTS, PartData
from core.data.encoding import lead_steps
from core.data.timeline import PartSymbols
from core.runs.checkpoint import best_model
from core.runs.record import Run, open_run
from core.runs.samples import Sample, save_sample
from core.sampling import stateful, window
from core.sampling.decoding import Decoding, GenerationError
from core.sampling.seeds import (
    encode_seed,
    encode_seeds,
    fit_seed,
    seed_from_corpus,
    seed_from_file,
    seed_streams,
)

METHODS = ("auto", "window", "stateful")
SeedPiece = Mapping[str, PartData | None]  # a seed piece's parts by name (None: it lacks one)


MAX_STEPS = 2000  # symbols per part one call generates: ~125 bars of 16ths, minutes of work


def open_part_runs(runs: Mapping[str, Path | str]) -> dict[str, Run]:
    """Lead first, then accompaniment; each run must have been trained on its part."""
    unknown = sorted(set(runs) - set(PARTS))
    if unknown:
        raise GenerationError(f"runs are given per part ({', '.join(PARTS)}), not {unknown}")
    infos = {part: open_run(runs[part]) for part in PARTS if runs.get(part)}
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
                 rng: np.random.Generator, lead: np.ndarray | None = None,
                 method: str = "auto") -> dict[str, np.ndarray]:
    """(batch, steps) continuations of (batch, n) seed ids, by the engine `pick_method`
    chooses: the thesis's window re-feeding, or stateful stepping. `lead` (batch, >= n +
    steps) conditions an accompaniment: position j of the seed reads lead[:, j + 1]."""
    engine = (stateful.generate_stateful if pick_method(config, decoding, method) == "stateful"
              else window.generate_ids)
    return engine(model, config, seed, steps, decoding, rng, lead)


def generate_parts(infos: Mapping[str, Run], models: Mapping[str, Any],
                   pieces: Sequence[SeedPiece], steps: int, decoding: Decoding, seed: int,
                   method: str = "auto") -> list[dict[str, PartSymbols]]:
    """Each seed piece's first window + `steps` generated symbols, per part of `infos`.

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
        streams = [_seed_window(info, piece.get(part)) for piece in pieces]
        encoded = [encode_seed(info, s, n) for s in streams]
        seed_ids = {s: np.concatenate([e[s] for e in encoded]) for s in streams[0]}
        part_steps, lead = steps, None
        if config.conditioned:
            leads = ([lead_steps(p.symbols, p.model, p.chord_mode, config.chord_mode)
                      for p in out[LEAD]] if LEAD in out
                     else [piece[LEAD].steps for piece in pieces])
            part_steps = min(steps, min(len(x) for x in leads) - n)
            if part_steps < 1:
                raise GenerationError(f"run {info.run_id} is conditioned on the lead, which is "
                                      f"not longer than its window of {n}")
            lead = encode_seeds(info, "lead", leads, n + part_steps)
        ids = continue_ids(models[part], config, seed_ids, part_steps, decoding,
                           np.random.default_rng(seed), lead, method)
        out[part] = [PartSymbols({s: x[s][:n] + info.vocabs[s].decode(ids[s][i]) for s in x},
                                 config.model, config.chord_mode)
                     for i, x in enumerate(streams)]
    return [{part: out[part][i] for part in out} for i in range(len(pieces))]


def _seed_window(run: Run, part_data: PartData | None) -> dict[str, list[str]]:
    """A seed piece's symbols of the run's part, by stream; a piece without the part is a
    GenerationError."""
    if part_data is None:
        raise GenerationError(f"the seed piece has no {run.config.part} part")
    return seed_streams(part_data, run.config)


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
        seed_parts, source = seed_from_file(seed_file, first.config.chord_mode)
    else:
        seed_parts, source = seed_from_corpus(first, seed_piece, cache_dir)
    seed_parts, mapped = fit_seed(seed_parts, infos, steps)
    loaded = {part: load_best(info) for part, info in infos.items()}
    models = {part: model for part, (model, _) in loaded.items()}
    samples = []
    for decoding in decodings:
        started = time.perf_counter()
        parts = generate_parts(infos, models, [seed_parts], steps, decoding, seed, method)[0]
        timing = {"seconds": round(time.perf_counter() - started, 4),
                  "methods": {p: pick_method(i.config, decoding, method) for p, i in infos.items()},
                  "epochs": {part: epoch for part, (_, epoch) in loaded.items()}}
        symbols = {part: generated.symbols for part, generated in parts.items()}
        samples.append(save_sample(infos, symbols, decoding, seed, source, steps, render, timing))
        samples[-1].seed_mapped = mapped
    return samples
