"""Window generation, the thesis's "iterative feed-forward": predict the next symbol, append
it, slide the window, repeat (the whole window is re-fed for every symbol); beam search too.
"""
from __future__ import annotations

import numpy as np

from core.nets.windows import input_name
from core.sampling.context import Context
from core.sampling.decoding import Decoding, choose


def _predict(model, config, windows: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Next-symbol distributions for a batch of windows (last position for sequence models)."""
    from core.nets.models import by_stream, compiled_forward  # Keras loads on first use

    outputs = compiled_forward(model)({input_name(k): v.astype(np.int32)
                                       for k, v in windows.items()})
    result = {}
    for name, probs in by_stream(config, outputs).items():
        probs = np.asarray(probs, dtype=np.float64)
        result[name] = probs[:, -1, :] if probs.ndim == 3 else probs
    return result


def generate_ids(model, config, seed: dict[str, np.ndarray], steps: int, decoding: Decoding,
                 rng: np.random.Generator, context: Context | None = None
                 ) -> dict[str, np.ndarray]:
    """Window method: `seed` maps each target stream to (batch, n) ids; returns the
    (batch, steps) continuation of each. `context` gives what the network reads beside its
    symbols (a conditioned accompaniment's lead, bar positions), each window's ending with
    the symbol being predicted."""
    context = context or Context(config.model)
    if decoding.strategy == "beam":
        rows = [_beam(model, config, {k: v[i:i + 1] for k, v in seed.items()}, steps,
                      decoding.beam_width, context, i)
                for i in range(next(iter(seed.values())).shape[0])]
        return {k: np.concatenate([r[k] for r in rows]) for k in rows[0]}
    n = config.window
    history = {k: v.copy() for k, v in seed.items()}
    for t in range(steps):
        windows = {k: v[:, -n:] for k, v in history.items()}
        windows.update(context.inputs(history, t, t + n))
        probs = _predict(model, config, windows)
        for name in history:
            chosen = choose(probs[name], decoding.for_stream(name), rng, context.hold_of(name))
            history[name] = np.concatenate([history[name], chosen[:, None]], axis=1)
    return {k: v[:, n:] for k, v in history.items()}


def _beam(model, config, seed, steps, width, context: Context,
          row: int) -> dict[str, np.ndarray]:
    """Keep the `width` continuations of highest total log-probability (one sequence: row
    `row` of the batch; joint over pitch and duration for Model 2)."""
    names = list(seed)
    n = config.window
    beams = [({k: list(seed[k][0]) for k in names}, 0.0)]
    for t in range(steps):
        history = {k: np.asarray([b[0][k] for b in beams]) for k in names}
        windows = {k: v[:, -n:] for k, v in history.items()}
        windows.update(context.row(row, len(beams)).inputs(history, t, t + n))
        logp = {k: np.log(np.clip(v, 1e-12, 1)) for k, v in _predict(model, config, windows).items()}
        candidates = []
        for i, (_, score) in enumerate(beams):
            top = {k: np.argsort(-logp[k][i])[:width] for k in names}
            grids = np.array(np.meshgrid(*[top[k] for k in names])).reshape(len(names), -1).T
            for ids in grids:
                total = score + sum(logp[k][i][c] for k, c in zip(names, ids))
                candidates.append((total, i, ids))
        candidates.sort(key=lambda c: -c[0])
        beams = [({k: beams[i][0][k] + [int(c)] for k, c in zip(names, ids)}, total)
                 for total, i, ids in candidates[:width]]
    return {k: np.asarray([beams[0][0][k][n:]]) for k in names}
