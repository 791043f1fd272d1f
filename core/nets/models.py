"""The thesis's two networks as short Keras builders.

Model 1: a window of symbols, one-hot -> stacked LSTM/GRU (Dropout after the first
`dropout_layers` of them) -> Dense softmax over the vocabulary.
Model 2: a pitch window and a duration window -> an Embedding each -> Concatenate -> stacked
LSTM/GRU -> Dense -> a pitch head and a duration head.

With the "sequence" objective every recurrent layer returns its whole sequence so the network
predicts the next symbol at every position; the weights are the same shapes either way.
An accompaniment model can be conditioned on the lead: it reads the lead's window (aligned to
the step being predicted) beside its own. A model may read the bar position of each symbol it
predicts (core.data.metre) the same way.

Inputs take any length: training feeds windows of n, while stateful generation and the
equivalence tests run the same weights over a whole history.

The wiring is written once: `embed` (integer inputs -> the first recurrent layer's input),
`recurrent_names` / `recurrent_stack`, and `heads` (the last recurrent output -> the
distributions). `build_network` calls them with new layers; the Stepper of stateful
generation calls them with a trained model's own layers, found by the same names, one time
step at a time, so the two cannot wire the network differently. The layer names and classes
are those of saved runs (model.keras loads with safe_mode).
"""
from __future__ import annotations

import functools
from typing import Any, Callable, Mapping

import keras
from keras import layers, ops

from core.data.metre import POSITIONS
from core.nets import cells
from core.nets.accuracy import step_metrics
from core.nets.config import TrainConfig
from core.nets.windows import POSITION, context_names, input_name, stream_names


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


LayerLookup = Callable[[str], layers.Layer]


@functools.cache
def gpu_present() -> bool:
    """Whether TensorFlow sees a GPU here (under Ray, the ones the trial was given)."""
    import tensorflow as tf

    return bool(tf.config.list_physical_devices("GPU"))


def resolved_encoding(config: TrainConfig) -> str:
    """The input encoding a network is built with: the config's own, or for "auto" the
    faster form on this machine. On a CPU that is "lookup" (a row read instead of a product
    with a one-hot vector). On a GPU it is "onehot": Keras runs a stock LSTM/GRU layer as
    cuDNN's fused kernel but the lookup's first layer (a projected cell in keras.layers.RNN)
    as a loop of small kernels: one training step of a 3x1024 LSTM took 45 ms instead of 14
    on an H200 (issue 10's device check, timed through Keras 3.15 on PyTorch, whose stock
    layers take the same cuDNN kernel; this project trains on TensorFlow, not timed so)."""
    if config.input_encoding != "auto":
        return config.input_encoding
    return "onehot" if gpu_present() else "lookup"


def _new_layers(config: TrainConfig, sizes: Mapping[str, int]) -> LayerLookup:
    """A layer of the wiring by name, built when the wiring asks for it: the builders' source
    of layers (the Stepper's is a built model's `get_layer`). Each layer is built in the order
    the wiring uses it, which fixes the order its initial weights are drawn in for a seed."""
    width = cells.CELLS[config.cell].gates * config.units
    merge = layers.Add if resolved_encoding(config) == "lookup" else layers.Concatenate
    sizes = {**sizes, POSITION: POSITIONS}

    def projection(size: int):
        # the first recurrent layer's input kernel as rows, one per id
        return lambda name: layers.Embedding(size, width, embeddings_initializer="glorot_uniform",
                                             name=name)

    def softmax(size: int):
        return lambda name: layers.Dense(size, activation="softmax", name=name)

    makers: dict[str, Callable[[str], layers.Layer]] = {
        "one_hot": lambda name: OneHot(sizes["steps"], name=name),
        "lead_one_hot": lambda name: OneHot(sizes["lead"], name=name),
        "input_projection": projection(sizes.get("steps", 0)),
        "lead_input_projection": projection(sizes.get("lead", 0)),
        "position_one_hot": lambda name: OneHot(POSITIONS, name=name),
        "position_input_projection": projection(POSITIONS),
        "with_lead": lambda name: merge(name=name),
        "with_context": lambda name: merge(name=name),
        "pitch_embedding": lambda name: layers.Embedding(sizes["pitch"], config.embedding_dim,
                                                         name=name),
        "duration_embedding": lambda name: layers.Embedding(sizes["duration"],
                                                            config.embedding_dim, name=name),
        "events": lambda name: layers.Concatenate(name=name),
        "next": softmax(sizes.get("steps", 0)),
        "dense": lambda name: layers.Dense(config.dense_units, activation="relu", name=name),
        "pitch": softmax(sizes.get("pitch", 0)),
        "duration": softmax(sizes.get("duration", 0)),
    }
    return lambda name: makers[name](name)


def embed(config: TrainConfig, layer: LayerLookup, inputs: Mapping[str, Any]):
    """Integer ids by stream -> the first recurrent layer's input, for whole windows (the
    Keras model) or for one time step (the Stepper): `layer` finds each layer by name.

    Model 1: one-hot vectors, or for "lookup" the rows of the first layer's input kernel
    (the same product without the zeros); the context inputs (a conditioned
    accompaniment's lead, the bar position) are concatenated (one-hot) or their rows added
    (lookup). Model 2: a pitch and a duration embedding side by side, and the bar position
    one-hot beside them."""
    if config.model == 2:
        events = [layer("pitch_embedding")(inputs["pitch"]),
                  layer("duration_embedding")(inputs["duration"])]
        if config.bar_position:
            events.append(layer("position_one_hot")(inputs[POSITION]))
        return layer("events")(events)
    kind = "input_projection" if resolved_encoding(config) == "lookup" else "one_hot"
    encoded = [layer(f"{prefix}{kind}")(inputs[stream])
               for stream, prefix in (("steps", ""), *((c, f"{c}_") for c in
                                                     context_names(config)))]
    if len(encoded) == 1:
        return encoded[0]
    return layer("with_context" if config.bar_position else "with_lead")(encoded)


def heads(config: TrainConfig, layer: LayerLookup, x):
    """The last recurrent layer's output -> next-symbol distributions, shaped as the Keras
    model returns them: one softmax for Model 1, {"pitch", "duration"} after a shared ReLU
    Dense for Model 2 (see `by_stream`)."""
    if config.model == 1:
        return layer("next")(x)
    x = layer("dense")(x)
    return {"pitch": layer("pitch")(x), "duration": layer("duration")(x)}


def by_stream(config: TrainConfig, outputs) -> dict[str, Any]:
    """A network's outputs by target stream: Model 1's single output is its "steps"."""
    return {"steps": outputs} if config.model == 1 else dict(outputs)


def recurrent_names(config: TrainConfig) -> list[str]:
    """The recurrent layers' names, first to last: 'lstm_1', 'lstm_2', ..."""
    return [f"{config.cell}_{i + 1}" for i in range(config.layers)]


def recurrent_cells(model: keras.Model, config: TrainConfig) -> list[layers.Layer]:
    """The cells of a built model's recurrent layers, first to last: what one time step
    runs between `embed` and `heads` (dropout does nothing at inference)."""
    return [model.get_layer(name).cell for name in recurrent_names(config)]


def recurrent_stack(x, config: TrainConfig):
    """Stacked LSTM/GRU layers; all but the last return sequences (all, for "sequence").
    With "lookup" inputs the first layer's input is already `x @ kernel` (see core.nets.cells)."""
    cell = cells.CELLS[config.cell]
    projected = config.model == 1 and resolved_encoding(config) == "lookup"
    for i, name in enumerate(recurrent_names(config)):
        sequences = i < config.layers - 1 or config.objective == "sequence"
        if i == 0 and projected:
            layer = layers.RNN(cell.projected(config.units), return_sequences=sequences,
                               name=name)
        else:
            layer = cell.layer(config.units, return_sequences=sequences, name=name)
        x = layer(x)
        if i < config.dropout_layers:
            x = layers.Dropout(config.dropout_rate, name=f"dropout_{i + 1}")(x)
    return x


def build_network(config: TrainConfig, sizes: Mapping[str, int]) -> keras.Model:
    """The network for `config` (uncompiled): integer inputs per stream -> `embed` ->
    `recurrent_stack` -> `heads`. `sizes` gives each stream's vocabulary size."""
    inputs = {stream: keras.Input((None,), dtype="int32", name=input_name(stream))
              for stream in stream_names(config)}
    layer = _new_layers(config, sizes)
    x = recurrent_stack(embed(config, layer, inputs), config)
    return keras.Model(list(inputs.values()), heads(config, layer, x),
                       name=f"model{config.model}_{config.cell}")


# Training steps per call of Keras' compiled train function: one Python round trip (data
# iterator, callbacks) per 10 updates instead of per update; measured 12-18% less CPU per
# epoch for both objectives on 2 cores (2x64 LSTM). Callbacks' batch hooks (progress, a
# cancel) then run every 10 batches.
STEPS_PER_EXECUTION = 10


def build_model(config: TrainConfig, vocab_sizes: dict[str, int],
                hold_id: int | None = None, steps_per_epoch: int = 1) -> keras.Model:
    """The network for `config`, compiled with the thesis's loss and metric (plus note and
    onset accuracy for Model 1, given the hold's id: core.nets.accuracy), and Adam with
    the run's gradient clipping and learning-rate schedule (core.nets.schedule)."""
    from core.nets.schedule import optimizer

    model = build_network(config, vocab_sizes)
    if config.model == 1:
        loss, metrics = "sparse_categorical_crossentropy", step_metrics(hold_id)
    else:
        loss = {"pitch": "sparse_categorical_crossentropy",
                "duration": "sparse_categorical_crossentropy"}
        metrics = {"pitch": ["accuracy"], "duration": ["accuracy"]}
    model.compile(optimizer=optimizer(config, steps_per_epoch), loss=loss,
                  metrics=metrics, steps_per_execution=STEPS_PER_EXECUTION)
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
