"""Layer shapes and parameter counts of both networks, for both cells."""
import keras
import numpy as np
import pytest

from core.data.metre import POSITIONS
from core.nets.config import THESIS_METHOD, TrainConfig
from core.nets.models import build_model
from core.nets.windows import input_name

# The thesis's networks predict the next symbol from the symbols alone: the shape tests below
# build them so (the window objective, no bar position) and test the bar position on its own
# (test_bar_position_is_one_more_input_of_the_first_layer).
SYMBOLS_ONLY = dict(objective="window", bar_position=False)


def lstm_params(inputs: int, units: int) -> int:
    return 4 * (units * (inputs + units) + units)


def gru_params(inputs: int, units: int) -> int:
    return 3 * (units * (inputs + units) + 2 * units)  # Keras' reset_after GRU has two biases


CELL_PARAMS = {"lstm": lstm_params, "gru": gru_params}


@pytest.mark.parametrize("encoding", ["onehot", "lookup"])
@pytest.mark.parametrize("cell", ["lstm", "gru"])
@pytest.mark.parametrize("layers", [1, 3])
def test_model1_parameter_count_and_shapes(cell, layers, encoding):
    vocab, units, n = 23, 12, 16
    config = TrainConfig(model=1, cell=cell, units=units, layers=layers, dropout_layers=layers,
                         window=n, input_encoding=encoding, **SYMBOLS_ONLY).validate()
    model = build_model(config, {"steps": vocab})
    recurrent = CELL_PARAMS[cell](vocab, units) + (layers - 1) * CELL_PARAMS[cell](units, units)
    assert model.count_params() == recurrent + units * vocab + vocab
    assert model.input_shape == (None, None)  # any length: windows, or a whole history
    assert model.output_shape == (None, vocab)
    kinds = [type(layer).__name__ for layer in model.layers]
    first_is_projected = encoding == "lookup"
    assert kinds.count(cell.upper()) == layers - first_is_projected
    assert kinds.count("RNN") == first_is_projected
    assert kinds.count("Dropout") == layers
    probs = model(np.zeros((2, n), dtype="int32"))
    np.testing.assert_allclose(np.asarray(probs).sum(axis=1), 1.0, rtol=1e-5)


def test_dropout_follows_only_the_first_layers():
    config = TrainConfig(model=1, layers=3, dropout_layers=1, units=8, window=8).validate()
    names = [layer.name for layer in build_model(config, {"steps": 5}).layers]
    assert names.index("dropout_1") == names.index("lstm_1") + 1
    assert "dropout_2" not in names and "dropout_3" not in names


@pytest.mark.parametrize("cell", ["lstm", "gru"])
def test_model2_two_heads_and_parameter_count(cell):
    pitch_vocab, duration_vocab, units, emb, dense, n = 30, 7, 10, 6, 9, 12
    config = TrainConfig(model=2, cell=cell, units=units, layers=2, embedding_dim=emb,
                         dense_units=dense, window=n, **SYMBOLS_ONLY).validate()
    model = build_model(config, {"pitch": pitch_vocab, "duration": duration_vocab})
    expected = (pitch_vocab * emb + duration_vocab * emb
                + CELL_PARAMS[cell](2 * emb, units) + CELL_PARAMS[cell](units, units)
                + units * dense + dense
                + dense * pitch_vocab + pitch_vocab + dense * duration_vocab + duration_vocab)
    assert model.count_params() == expected
    out = model({input_name("pitch"): np.zeros((3, n), "int32"),
                 input_name("duration"): np.zeros((3, n), "int32")})
    assert out["pitch"].shape == (3, pitch_vocab)
    assert out["duration"].shape == (3, duration_vocab)


def test_sequence_objective_predicts_every_position():
    config = TrainConfig(model=1, units=8, layers=2, window=10, objective="sequence").validate()
    model = build_model(config, {"steps": 6})
    assert model.output_shape == (None, None, 6)


def test_conditioned_accompaniment_reads_the_lead():
    config = TrainConfig(model=1, part="accompaniment", conditioned=True, units=8, layers=1,
                         window=8, **SYMBOLS_ONLY).validate()
    model = build_model(config, {"steps": 9, "lead": 5})
    assert sorted(model.input_names if hasattr(model, "input_names") else
                  [t.name for t in model.inputs]) == sorted([input_name("steps"),
                                                            input_name("lead")])
    assert model.output_shape == (None, 9)


@pytest.mark.parametrize("model_number", [1, 2])
def test_bar_position_is_one_more_input_of_the_first_layer(model_number):
    """The bar position of the predicted symbol enters beside the symbols: POSITIONS more
    inputs to the first recurrent layer, nothing else changes."""
    base = dict(model=model_number, units=8, layers=1, window=6, embedding_dim=4)
    sizes = {"steps": 9, "pitch": 9, "duration": 5}
    plain = build_model(TrainConfig(**base, bar_position=False).validate(), sizes)
    timed = build_model(TrainConfig(**base, bar_position=True).validate(), sizes)
    assert timed.count_params() - plain.count_params() == 4 * 8 * POSITIONS
    assert input_name("position") in [t.name for t in timed.inputs]


@pytest.mark.parametrize("model_number", [1, 2])
def test_saved_model_loads_in_safe_mode(tmp_path, model_number):
    """Every layer, metric and schedule of a default run loads with safe_mode on."""
    config = TrainConfig(model=model_number, units=4, layers=1, window=4,
                         lr_schedule="cosine").validate()
    model = build_model(config, {"steps": 5, "pitch": 5, "duration": 3}, hold_id=1,
                        steps_per_epoch=3)
    model.save(tmp_path / "m.keras")
    loaded = keras.saving.load_model(tmp_path / "m.keras", safe_mode=True)
    ids = np.array([[0, 1, 2, 2]], dtype="int32")
    x = {input_name(name): ids for name in ("steps", "pitch", "duration", "position")
         if input_name(name) in [t.name for t in model.inputs]}
    assert len(x) == model_number + 1
    outputs = [np.asarray(o) for o in keras.tree.flatten(model(x))]
    for mine, theirs in zip(outputs, keras.tree.flatten(loaded(x))):
        np.testing.assert_allclose(mine, np.asarray(theirs), rtol=1e-6)


def copy_to_lookup(onehot: keras.Model, lookup: keras.Model, sizes: dict[str, int]) -> None:
    """The one-hot model's first input kernel becomes the lookup model's embedding rows:
    the symbols' rows first, then each context input's (lead, position) in input order."""
    starts = np.cumsum([0, *sizes.values()])
    blocks = {name: (int(a), int(b)) for name, a, b in zip(sizes, starts[:-1], starts[1:])}
    for layer in lookup.layers:
        if not layer.weights:
            continue
        if layer.name.endswith("input_projection"):
            kernel = np.asarray(onehot.get_layer(first_recurrent(onehot)).weights[0])
            stream = layer.name.removesuffix("input_projection").rstrip("_") or "steps"
            low, high = blocks[stream]
            layer.set_weights([kernel[low:high]])
        elif layer.name == first_recurrent(lookup):
            layer.set_weights(onehot.get_layer(layer.name).get_weights()[1:])
        else:
            layer.set_weights(onehot.get_layer(layer.name).get_weights())


def first_recurrent(model: keras.Model) -> str:
    return next(l.name for l in model.layers if l.name.endswith("_1") and l.weights)


@pytest.mark.parametrize("objective, bar_position", [("window", False), ("sequence", True)])
@pytest.mark.parametrize("cell", ["lstm", "gru"])
@pytest.mark.parametrize("conditioned", [False, True])
def test_lookup_input_equals_one_hot_on_the_same_weights(cell, objective, conditioned,
                                                         bar_position):
    vocab, lead_vocab = 13, 6
    base = dict(model=1, cell=cell, units=10, layers=2, window=7, objective=objective,
                part="accompaniment" if conditioned else "lead", conditioned=conditioned,
                bar_position=bar_position)
    sizes = {"steps": vocab, "lead": lead_vocab}
    onehot = build_model(TrainConfig(**base, input_encoding="onehot").validate(), sizes)
    lookup = build_model(TrainConfig(**base, input_encoding="lookup").validate(), sizes)
    assert onehot.count_params() == lookup.count_params()
    blocks = {"steps": vocab, **({"lead": lead_vocab} if conditioned else {}),
              **({"position": POSITIONS} if bar_position else {})}
    copy_to_lookup(onehot, lookup, blocks)
    rng = np.random.default_rng(1)
    x = {input_name(name): rng.integers(0, size, size=(4, 7)) for name, size in blocks.items()}
    np.testing.assert_allclose(np.asarray(onehot(x)), np.asarray(lookup(x)), rtol=1e-5,
                               atol=1e-6)


@pytest.mark.slow
def test_thesis_largest_setting_builds_and_takes_a_training_step():
    """Run 3 of the thesis (3 x 1024 LSTM, window 32) must still work on a CPU when asked."""
    config = TrainConfig(model=1, cell="lstm", units=1024, layers=3, dropout_layers=3,
                         window=32, batch_size=8, **THESIS_METHOD).validate()
    vocab = 300
    model = build_model(config, {"steps": vocab})
    assert model.count_params() == (lstm_params(vocab, 1024) + 2 * lstm_params(1024, 1024)
                                    + 1024 * vocab + vocab)
    x = np.random.default_rng(0).integers(0, vocab, size=(8, 32)).astype("int32")
    y = np.random.default_rng(1).integers(0, vocab, size=(8,))
    loss = model.train_on_batch({input_name("steps"): x}, y)
    loss = loss[0] if isinstance(loss, list) else loss
    assert np.isfinite(loss)


@pytest.mark.parametrize("gpu", [False, True])
def test_auto_encoding_builds_the_lookup_on_a_cpu_and_the_fused_layer_on_a_gpu(monkeypatch, gpu):
    """The default input encoding: the row lookup on a CPU; on a GPU a stock first layer
    (one-hot), which cuDNN can fuse. Same parameter count either way."""
    monkeypatch.setattr("core.nets.models.gpu_present", lambda: gpu)
    config = TrainConfig(units=8, layers=2, dropout_layers=0, window=8,
                         **SYMBOLS_ONLY).validate()
    assert config.input_encoding == "auto"
    model = build_model(config, {"steps": 11})
    first = next(layer for layer in model.layers if isinstance(layer, keras.layers.RNN))
    assert isinstance(first, keras.layers.LSTM) == gpu
    assert any(type(layer).__name__ == "OneHot" for layer in model.layers) == gpu
    assert model.count_params() == lstm_params(11, 8) + lstm_params(8, 8) + 8 * 11 + 11


@pytest.mark.parametrize("model, encoding, cell, objective, conditioned", [
    (1, "onehot", "lstm", "window", False), (1, "onehot", "gru", "sequence", False),
    (1, "lookup", "lstm", "sequence", False), (1, "lookup", "gru", "window", True),
    (2, "lookup", "lstm", "window", False), (2, "lookup", "gru", "sequence", False)])
def test_recurrent_layers_meet_cudnn_conditions(model, encoding, cell, objective, conditioned):
    """On a GPU Keras runs LSTM/GRU layers as cuDNN's fused kernel only when tanh/sigmoid,
    no recurrent dropout, unroll off, biases on (and GRU's reset_after): every Keras LSTM/GRU
    layer of every network meets them. The one exception, by design: "lookup" Model 1's
    first layer, a projected cell in keras.layers.RNN (its input kernel is a row lookup)."""
    config = TrainConfig(model=model, input_encoding=encoding, cell=cell, objective=objective,
                         conditioned=conditioned, part="accompaniment" if conditioned else
                         "lead", layers=3, units=8, dropout_layers=3).validate()
    built = build_model(config, {"steps": 12, "lead": 10, "pitch": 9, "duration": 7})
    fused = {"lstm": keras.layers.LSTM, "gru": keras.layers.GRU}[cell]
    recurrent = [layer for layer in built.layers if isinstance(layer, keras.layers.RNN)]
    projected = model == 1 and encoding == "lookup"
    assert len(recurrent) == 3
    assert all(isinstance(layer, fused) for layer in recurrent[projected:])
    assert projected != isinstance(recurrent[0], fused)
    for layer in recurrent[projected:]:
        c = layer.cell
        assert (c.activation.__name__, c.recurrent_activation.__name__) == ("tanh", "sigmoid")
        assert c.recurrent_dropout == 0 and c.use_bias and not layer.unroll
        assert layer.use_cudnn == "auto"
        assert cell == "lstm" or c.reset_after
