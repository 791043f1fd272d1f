"""The thesis's two networks as short Keras builders.

Model 1: a window of symbols, one-hot -> stacked LSTM/GRU (Dropout after the first
`dropout_layers` of them) -> Dense softmax over the vocabulary.
Model 2: a pitch window and a duration window -> an Embedding each -> Concatenate -> stacked
LSTM/GRU -> Dense -> a pitch head and a duration head.

With the "sequence" objective every recurrent layer returns its whole sequence so the network
predicts the next symbol at every position; the weights are the same shapes either way.
An accompaniment model can be conditioned on the lead: it reads the lead's window (aligned to
the step being predicted) beside its own.

Inputs take any length: training feeds windows of n, while stateful generation and the
equivalence tests run the same weights over a whole history.
"""
from __future__ import annotations

import keras
from keras import layers, ops

from core.nets import cells
from core.nets.config import TrainConfig
from core.nets.windows import input_name


@keras.saving.register_keras_serializable(package="core")
class OneHot(layers.Layer):
    """Integer ids -> one-hot vectors inside the model, so input pipelines stay integer and
    small; a registered layer (not a Lambda) so `safe_mode` loading keeps working."""

    def __init__(self, depth: int, **kwargs) -> None:
        super().__init__(**kwargs)
        self.depth = depth

    def call(self, inputs):
        return ops.one_hot(ops.cast(inputs, "int32"), self.depth)

    def compute_output_shape(self, input_shape):
        return (*input_shape, self.depth)

    def get_config(self) -> dict:
        return {**super().get_config(), "depth": self.depth}


def recurrent_stack(x, config: TrainConfig, projected: bool = False):
    """Stacked LSTM/GRU layers; all but the last return sequences (all, for "sequence").
    `projected`: the first layer's input is already `x @ kernel` (see core.cells)."""
    cell = cells.CELLS[config.cell]
    for i in range(config.layers):
        sequences = i < config.layers - 1 or config.objective == "sequence"
        name = f"{config.cell}_{i + 1}"
        if i == 0 and projected:
            layer = layers.RNN(cell.projected(config.units), return_sequences=sequences,
                               name=name)
        else:
            layer = cell.layer(config.units, return_sequences=sequences, name=name)
        x = layer(x)
        if i < config.dropout_layers:
            x = layers.Dropout(config.dropout_rate, name=f"dropout_{i + 1}")(x)
    return x


def one_hot_inputs(config: TrainConfig, inputs: list, sizes: list[int]):
    """The thesis's input: one-hot vectors (the lead's concatenated, when conditioned)."""
    encoded = [OneHot(size, name=f"{name}one_hot")(tensor)
               for tensor, size, name in zip(inputs, sizes, ("", "lead_"))]
    return encoded[0] if len(encoded) == 1 else layers.Concatenate(name="with_lead")(encoded)


def lookup_inputs(config: TrainConfig, inputs: list, sizes: list[int]):
    """The same product without the zeros: each id looks up its row of the first layer's
    input kernel (a sum of two rows when the lead is concatenated)."""
    width = cells.CELLS[config.cell].gates * config.units
    rows = [layers.Embedding(size, width, embeddings_initializer="glorot_uniform",
                             name=f"{name}input_projection")(tensor)
            for tensor, size, name in zip(inputs, sizes, ("", "lead_"))]
    return rows[0] if len(rows) == 1 else layers.Add(name="with_lead")(rows)


def build_model1(config: TrainConfig, vocab_size: int, lead_vocab_size: int = 0) -> keras.Model:
    inputs = [keras.Input((None,), dtype="int32", name=input_name("steps"))]
    sizes = [vocab_size]
    if config.conditioned:
        inputs.append(keras.Input((None,), dtype="int32", name=input_name("lead")))
        sizes.append(lead_vocab_size)
    lookup = config.input_encoding == "lookup"
    x = (lookup_inputs if lookup else one_hot_inputs)(config, inputs, sizes)
    x = recurrent_stack(x, config, projected=lookup)
    outputs = layers.Dense(vocab_size, activation="softmax", name="next")(x)
    return keras.Model(inputs, outputs, name=f"model1_{config.cell}")


def build_model2(config: TrainConfig, pitch_vocab: int, duration_vocab: int) -> keras.Model:
    pitch = keras.Input((None,), dtype="int32", name=input_name("pitch"))
    duration = keras.Input((None,), dtype="int32", name=input_name("duration"))
    x = layers.Concatenate(name="events")([
        layers.Embedding(pitch_vocab, config.embedding_dim, name="pitch_embedding")(pitch),
        layers.Embedding(duration_vocab, config.embedding_dim, name="duration_embedding")(duration),
    ])
    x = recurrent_stack(x, config)
    x = layers.Dense(config.dense_units, activation="relu", name="dense")(x)
    return keras.Model(
        [pitch, duration],
        {"pitch": layers.Dense(pitch_vocab, activation="softmax", name="pitch")(x),
         "duration": layers.Dense(duration_vocab, activation="softmax", name="duration")(x)},
        name=f"model2_{config.cell}")


def build_model(config: TrainConfig, vocab_sizes: dict[str, int]) -> keras.Model:
    """The network for `config`, compiled with the thesis's loss and metric."""
    if config.model == 1:
        model = build_model1(config, vocab_sizes["steps"], vocab_sizes.get("lead", 0))
        loss, metrics = "sparse_categorical_crossentropy", ["accuracy"]
    else:
        model = build_model2(config, vocab_sizes["pitch"], vocab_sizes["duration"])
        loss = {"pitch": "sparse_categorical_crossentropy",
                "duration": "sparse_categorical_crossentropy"}
        metrics = {"pitch": ["accuracy"], "duration": ["accuracy"]}
    model.compile(optimizer=keras.optimizers.Adam(config.learning_rate), loss=loss,
                  metrics=metrics)
    return model


def compiled_forward(model: keras.Model):
    """The model's inference pass as one compiled graph, made once per model: evaluation
    and the window method of generation call it many times on same-shaped batches, where
    eager execution of the recurrent loop would dominate."""
    if not hasattr(model, "_core_forward"):
        import tensorflow as tf

        model._core_forward = tf.function(lambda x: model(x, training=False),
                                          reduce_retracing=True)
    return model._core_forward
