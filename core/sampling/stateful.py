"""Stateful generation: run a trained network one symbol at a time, carrying each recurrent
layer's state, instead of re-running the whole window for every new symbol.

For a network trained with the "sequence" objective this is exact: the state after feeding
the history is what the network computes over that history, at the cost of one time step per
symbol rather than n. The step is a compiled tf.function over a whole batch of samples.
"""
from __future__ import annotations

import numpy as np

from core.nets.config import TrainConfig
from core.sampling.context import Context
from core.sampling.decoding import Decoding, choose


class Stepper:
    """A trained model advanced one time step: models' own wiring (`embed`, the recurrent
    cells, `heads`) run on the model's layers for one symbol per sample."""

    def __init__(self, model, config: TrainConfig) -> None:
        import tensorflow as tf

        from core.nets.models import recurrent_cells

        self.config = config
        self.cells = recurrent_cells(model, config)
        self.layer = model.get_layer
        self._step_fn = tf.function(self._step, jit_compile=True, reduce_retracing=True)
        self.prime = tf.function(self._prime, reduce_retracing=True)
        self._concrete: dict[tuple, object] = {}

    def step(self, inputs: dict[str, np.ndarray], states: list):
        """One time step for the batch. Calls the traced graph directly (a concrete function
        per input shape): tf.function's dispatch costs a third of a step at batch 1."""
        import tensorflow as tf

        tensors = {k: tf.convert_to_tensor(v, dtype=tf.int32) for k, v in inputs.items()}
        key = tuple(sorted((k, tuple(v.shape)) for k, v in tensors.items()))
        if key not in self._concrete:
            self._concrete[key] = self._step_fn.get_concrete_function(tensors, states)
        return self._concrete[key](tensors, states)

    def initial_state(self, batch: int) -> list:
        return [cell.get_initial_state(batch) for cell in self.cells]

    def _prime(self, inputs: dict, states: list):
        """Feed a whole seed (batch, n) through the state in one compiled call (a graph
        loop, so tracing does not grow with n)."""
        import tensorflow as tf

        def at(j):
            return {k: v[:, j] for k, v in inputs.items()}

        probs, states = self._step(at(0), states)

        def body(j, probs, states):
            return (j + 1, *self._step(at(j), states))

        length = tf.shape(next(iter(inputs.values())))[1]
        _, probs, states = tf.while_loop(lambda j, *_: j < length, body, (1, probs, states))
        return probs, states

    def _step(self, inputs: dict, states: list):
        from core.nets.models import by_stream, embed, heads

        x = embed(self.config, self.layer, inputs)
        new_states = []
        for cell, state in zip(self.cells, states):
            x, state = cell(x, state, training=False)
            new_states.append(state)
        return by_stream(self.config, heads(self.config, self.layer, x)), new_states


def stepper_for(model, config: TrainConfig) -> Stepper:
    """One Stepper per loaded model: its step function is traced once, not per call."""
    if getattr(model, "_core_stepper", None) is None:
        model._core_stepper = Stepper(model, config)
    return model._core_stepper


def generate_stateful(model, config: TrainConfig, seed: dict[str, np.ndarray], steps: int,
                      decoding: Decoding, rng: np.random.Generator,
                      context: Context | None = None) -> dict[str, np.ndarray]:
    """Same contract as window.generate_ids: (batch, n) seed ids per stream in,
    (batch, steps) continuation out. The seed is fed through the state, then each chosen
    symbol is fed back one step at a time, with its context (`context.inputs`)."""
    context = context or Context(config.model)
    stepper = stepper_for(model, config)
    n = next(iter(seed.values())).shape[1]
    states = stepper.initial_state(next(iter(seed.values())).shape[0])
    history = {k: v.astype(np.int64) for k, v in seed.items()}
    primer = {**history, **context.inputs(history, 0, n)}
    probs, states = stepper.prime({k: v.astype(np.int32) for k, v in primer.items()}, states)
    for t in range(steps):
        chosen = {k: choose(np.asarray(p, dtype=np.float64), decoding.for_stream(k), rng,
                            context.hold_of(k)) for k, p in probs.items()}
        history = {k: np.concatenate([v, chosen[k][:, None]], axis=1) for k, v in history.items()}
        if t + 1 < steps:
            inputs = {k: v[:, -1] for k, v in history.items()}
            inputs.update({k: v[:, 0] for k, v in context.inputs(history, n + t,
                                                                  n + t + 1).items()})
            probs, states = stepper.step({k: v.astype(np.int32) for k, v in inputs.items()},
                                         states)
    return {k: v[:, n:] for k, v in history.items()}
