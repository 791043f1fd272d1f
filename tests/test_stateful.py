"""Stateful generation gives exactly the greedy output of running the network over the
whole history, for both models, both cells, a conditioned accompaniment and bar positions."""
import numpy as np
import pytest

from core.data.metre import Metre
from core.nets.config import TrainConfig
from core.nets.models import build_model
from core.nets.windows import input_name
from core.sampling.context import Context, duration_quarters
from core.sampling.decoding import Decoding
from core.sampling.stateful import generate_stateful
from core.sampling.window import generate_ids

DURATIONS = ("1.0", "0.5", "2.0", "0.25", "3/2")  # Model 2's duration vocabulary here
METRES = [Metre(16, 4), Metre(12, 0), Metre(16, 0)]  # a pickup, 3/4, 4/4


def positions(config, history, length):
    """The reference bar positions of symbols 1..length, computed from the metre and, for
    Model 2, the durations in the history, without core.sampling.context."""
    rows = []
    for i, metre in enumerate(METRES[:len(next(iter(history.values())))]):
        if config.model == 1:
            steps = np.arange(1, length + 1)
        else:
            quarters = [float(eval(DURATIONS[d])) for d in history["duration"][i]]
            steps = np.rint(np.cumsum(quarters)[:length] * 4)
        rows.append((steps - metre.downbeat) % metre.bar_steps)
    return np.array(rows)


def context_of(config, lead=None, batch=3):
    return Context(config.model, lead, METRES[:batch] if config.bar_position else None,
                   duration_quarters(DURATIONS) if config.model == 2 else None)


def full_history_greedy(model, config, seed, steps, lead=None):
    """The reference: at every step, run the network over everything so far."""
    history = {k: v.copy() for k, v in seed.items()}
    n = seed[next(iter(seed))].shape[1]
    for _ in range(steps):
        inputs = {input_name(k): v for k, v in history.items()}
        length = next(iter(history.values())).shape[1]
        if lead is not None:
            inputs[input_name("lead")] = lead[:, 1:length + 1]
        if config.bar_position:
            inputs[input_name("position")] = positions(config, history, length)
        out = model(inputs, training=False)
        out = {"steps": out} if config.model == 1 else out
        for k in history:
            nxt = np.asarray(out[k])[:, -1, :].argmax(axis=-1)
            history[k] = np.concatenate([history[k], nxt[:, None]], axis=1)
    return {k: v[:, n:] for k, v in history.items()}


@pytest.mark.parametrize("cell, model_kind, encoding, bar_position", [
    ("lstm", 1, "lookup", True), ("gru", 1, "lookup", False), ("lstm", 1, "onehot", False),
    ("gru", 1, "onehot", True), ("lstm", 2, "lookup", True), ("gru", 2, "lookup", False)])
def test_stateful_matches_full_history(cell, model_kind, encoding, bar_position):
    config = TrainConfig(model=model_kind, cell=cell, units=16, layers=2, window=6,
                         objective="sequence", embedding_dim=4, dense_units=8,
                         input_encoding=encoding, bar_position=bar_position).validate()
    sizes = {"steps": 11} if model_kind == 1 else {"pitch": 11, "duration": len(DURATIONS)}
    model = build_model(config, sizes)
    rng = np.random.default_rng(3)
    seed = {k: rng.integers(0, v, size=(3, 6)) for k, v in sizes.items()}
    expected = full_history_greedy(model, config, seed, 12)
    got = generate_stateful(model, config, seed, 12, Decoding("greedy"), rng,
                            context_of(config))
    for k in expected:
        np.testing.assert_array_equal(got[k], expected[k])


def test_stateful_conditioned_accompaniment_matches():
    config = TrainConfig(model=1, part="accompaniment", conditioned=True, units=12, layers=1,
                         window=5, objective="sequence").validate()
    model = build_model(config, {"steps": 9, "lead": 7})
    rng = np.random.default_rng(4)
    seed = {"steps": rng.integers(0, 9, size=(2, 5))}
    lead = rng.integers(0, 7, size=(2, 5 + 10 + 1))
    expected = full_history_greedy(model, config, seed, 10, lead)
    got = generate_stateful(model, config, seed, 10, Decoding("greedy"), rng,
                            context_of(config, lead, 2))
    np.testing.assert_array_equal(got["steps"], expected["steps"])


@pytest.mark.parametrize("model_kind", [1, 2])
def test_window_method_equals_stateful_when_history_fits_the_window(model_kind):
    """With no more history than one window the two methods see the same symbols (and the
    same bar positions)."""
    config = TrainConfig(model=model_kind, units=8, layers=1, window=4, objective="sequence",
                         embedding_dim=4).validate()
    sizes = {"steps": 6} if model_kind == 1 else {"pitch": 6, "duration": len(DURATIONS)}
    model = build_model(config, sizes)
    seed = {k: np.array([[1, 2, 3, 4]]) for k in sizes}
    rng = np.random.default_rng(0)
    context = context_of(config, batch=1)
    window = generate_ids(model, config, seed, 1, Decoding("greedy"), rng, context)
    stateful = generate_stateful(model, config, seed, 1, Decoding("greedy"), rng, context)
    for k in sizes:
        np.testing.assert_array_equal(window[k], stateful[k])


def test_stateful_runs_a_model_loaded_in_safe_mode(tmp_path):
    """Generation reads saved runs: the Stepper finds the reloaded model's layers by the
    names models' wiring gives them."""
    import keras

    config = TrainConfig(model=1, part="accompaniment", conditioned=True, units=8, layers=2,
                         window=4, objective="sequence").validate()
    build_model(config, {"steps": 7, "lead": 5}).save(tmp_path / "model.keras")
    model = keras.saving.load_model(tmp_path / "model.keras", safe_mode=True)
    rng = np.random.default_rng(5)
    seed = {"steps": rng.integers(0, 7, size=(2, 4))}
    lead = rng.integers(0, 5, size=(2, 4 + 6 + 1))
    expected = full_history_greedy(model, config, seed, 6, lead)
    got = generate_stateful(model, config, seed, 6, Decoding("greedy"), rng,
                            context_of(config, lead, 2))
    np.testing.assert_array_equal(got["steps"], expected["steps"])
