"""Bench figures of generation: the thesis's window re-feeding against stateful stepping."""
from __future__ import annotations

import time

import numpy as np

from core.bench.figure import Figure
from core.nets.config import TrainConfig


def bench_generation(window: int, units: int, layers: int, steps: int) -> list[Figure]:
    """Window re-feeding vs stateful stepping on the same (untrained) network: speed does
    not depend on the weights' values."""
    from core.nets.models import build_model
    from core.sampling.decoding import Decoding
    from core.sampling.stateful import generate_stateful
    from core.sampling.window import generate_ids

    config = TrainConfig(model=1, units=units, layers=layers, dropout_layers=0, window=window,
                         objective="sequence", bar_position=False).validate()  # symbols only
    model = build_model(config, {"steps": 120})
    decoding = Decoding("temperature", temperature=1.0)
    figures, window_rate = [], {}
    for batch, stateful_steps in ((1, steps), (1, 4 * steps), (8, steps)):
        seed = {"steps": np.random.default_rng(0).integers(0, 120, size=(batch, window))}
        rates = {}
        for name, run, count in (("window", generate_ids, max(4, steps // 8)),
                                 ("stateful", generate_stateful, stateful_steps)):
            run(model, config, seed, 2, decoding, np.random.default_rng(0))  # compile first
            started = time.perf_counter()
            run(model, config, seed, count, decoding, np.random.default_rng(0))
            rates[name] = batch * count / (time.perf_counter() - started)
        shape = f"n={window} {layers}x{units} LSTM batch {batch}"
        figures += [Figure(f"generation {shape}, window", rates["window"], "symbols/s"),
                    Figure(f"generation {shape}, stateful, {stateful_steps} symbols "
                           "(seed priming included)", rates["stateful"], "symbols/s",
                           ">= 50x window" if batch == 1 else "",
                           rates["stateful"] / rates["window"])]
        window_rate.setdefault(batch, rates["window"])
    figures.append(Figure(f"generation n={window} {layers}x{units} LSTM: stateful at batch 8 "
                          "(all 8 pieces' symbols) vs window re-feed at batch 1",
                          rates["stateful"], "symbols/s", ">= 300x",
                          rates["stateful"] / window_rate[1]))
    return figures
