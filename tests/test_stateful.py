"""Stateful generation gives exactly the greedy output of running the network over the
whole history, for both models, both cells and a conditioned accompaniment."""
import numpy as np
import pytest

from core.nets.config import TrainConfig
from core.nets.models import build_model
from core.nets.windows import input_name
from core.sampling.decoding import Decoding
from core.sampling.stateful import generate_stateful
from core.sampling.window import generate_ids


def full_history_greedy(model, config, seed, steps, lead=None):
    """The reference: at every step, run the network over everything so far."""
    history = {k: v.copy() for k, v in seed.items()}
    n = seed[next(iter(seed))].shape[1]
    for _ in range(steps):
        inputs = {input_name(k): v for k, v in history.items()}
        if lead is not None:
            length = history["steps"].shape[1]
            inputs[input_name("lead")] = lead[:, 1:length + 1]
        out = model(inputs, training=False)
        out = {"steps": out} if config.model == 1 else out
        for k in history:
            nxt = np.asarray(out[k])[:, -1, :].argmax(axis=-1)
            history[k] = np.concatenate([history[k], nxt[:, None]], axis=1)
    return {k: v[:, n:] for k, v in history.items()}


@pytest.mark.parametrize("cell, model_kind, encoding", [
    ("lstm", 1, "lookup"), ("gru", 1, "lookup"), ("lstm", 1, "onehot"), ("gru", 1, "onehot"),
    ("lstm", 2, "lookup"), ("gru", 2, "lookup")])
def test_stateful_matches_full_history(cell, model_kind, encoding):
    config = TrainConfig(model=model_kind, cell=cell, units=16, layers=2, window=6,
                         objective="sequence", embedding_dim=4, dense_units=8,
                         input_encoding=encoding).validate()
    sizes = {"steps": 11} if model_kind == 1 else {"pitch": 11, "duration": 5}
    model = build_model(config, sizes)
    rng = np.random.default_rng(3)
    seed = {k: rng.integers(0, v, size=(3, 6)) for k, v in sizes.items()}
    expected = full_history_greedy(model, config, seed, 12)
    got = generate_stateful(model, config, seed, 12, Decoding("greedy"), rng)
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
    got = generate_stateful(model, config, seed, 10, Decoding("greedy"), rng, lead)
    np.testing.assert_array_equal(got["steps"], expected["steps"])


def test_window_method_equals_stateful_when_history_fits_the_window():
    """With no more history than one window the two methods see the same symbols."""
    config = TrainConfig(model=1, units=8, layers=1, window=4, objective="sequence").validate()
    model = build_model(config, {"steps": 6})
    seed = {"steps": np.array([[1, 2, 3, 4]])}
    rng = np.random.default_rng(0)
    window = generate_ids(model, config, seed, 1, Decoding("greedy"), rng)
    stateful = generate_stateful(model, config, seed, 1, Decoding("greedy"), rng)
    np.testing.assert_array_equal(window["steps"], stateful["steps"])


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
    got = generate_stateful(model, config, seed, 6, Decoding("greedy"), rng, lead)
    np.testing.assert_array_equal(got["steps"], expected["steps"])
