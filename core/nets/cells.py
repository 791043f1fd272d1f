"""The recurrent cells: one table (CELLS) of what each cell name means to the networks, and
LSTM and GRU cells whose input projection was already looked up.

Model 1 feeds one-hot vectors to its first recurrent layer, which multiplies them by the input
kernel: a (vocab x gates*units) product that is all zeros but one row. The same result is a
row lookup, `kernel[id]`, which an Embedding holding the kernel does without the zeros. These
cells take that looked-up row and do the rest of Keras' own LSTM / GRU step (same gate order,
activations and biases), so weights move between the two forms unchanged.
"""
from __future__ import annotations

from dataclasses import dataclass

import keras
from keras import layers, ops

from core.nets.config import CELLS as CELL_NAMES


@keras.saving.register_keras_serializable(package="core")
class ProjectedLSTMCell(layers.Layer):
    """Keras' LSTM step (gates i, f, c, o; sigmoid and tanh) on `x @ kernel` given as input."""

    def __init__(self, units: int, **kwargs) -> None:
        super().__init__(**kwargs)
        self.units = units
        self.state_size = [units, units]
        self.output_size = units

    def build(self, input_shape) -> None:
        self.recurrent_kernel = self.add_weight(
            shape=(self.units, 4 * self.units), initializer="orthogonal", name="recurrent_kernel")
        def unit_forget_bias(shape, dtype=None):  # Keras' default: forget gate bias 1
            u = self.units
            return ops.concatenate([ops.zeros((u,)), ops.ones((u,)), ops.zeros((2 * u,))])

        self.bias = self.add_weight(shape=(4 * self.units,), initializer=unit_forget_bias,
                                    name="bias")

    def call(self, inputs, states, training=False):
        h_prev, c_prev = states
        z = inputs + ops.matmul(h_prev, self.recurrent_kernel) + self.bias
        z_i, z_f, z_c, z_o = ops.split(z, 4, axis=-1)
        c = ops.sigmoid(z_f) * c_prev + ops.sigmoid(z_i) * ops.tanh(z_c)
        h = ops.sigmoid(z_o) * ops.tanh(c)
        return h, [h, c]

    def get_initial_state(self, batch_size=None):
        return [ops.zeros((batch_size, self.units)), ops.zeros((batch_size, self.units))]

    def get_config(self) -> dict:
        return {**super().get_config(), "units": self.units}


@keras.saving.register_keras_serializable(package="core")
class ProjectedGRUCell(layers.Layer):
    """Keras' GRU step with reset_after=True (gates z, r, h; an input and a recurrent bias)
    on `x @ kernel` given as input."""

    def __init__(self, units: int, **kwargs) -> None:
        super().__init__(**kwargs)
        self.units = units
        self.state_size = units
        self.output_size = units

    def build(self, input_shape) -> None:
        self.recurrent_kernel = self.add_weight(
            shape=(self.units, 3 * self.units), initializer="orthogonal", name="recurrent_kernel")
        self.bias = self.add_weight(shape=(2, 3 * self.units), initializer="zeros", name="bias")

    def call(self, inputs, states, training=False):
        h_prev = states[0] if isinstance(states, (list, tuple)) else states
        x_z, x_r, x_h = ops.split(inputs + self.bias[0], 3, axis=-1)
        r_z, r_r, r_h = ops.split(ops.matmul(h_prev, self.recurrent_kernel) + self.bias[1], 3,
                                  axis=-1)
        z = ops.sigmoid(x_z + r_z)
        r = ops.sigmoid(x_r + r_r)
        candidate = ops.tanh(x_h + r * r_h)
        h = z * h_prev + (1 - z) * candidate
        return h, [h]

    def get_initial_state(self, batch_size=None):
        return [ops.zeros((batch_size, self.units))]

    def get_config(self) -> dict:
        return {**super().get_config(), "units": self.units}


@dataclass(frozen=True)
class Cell:
    """What one cell name of TrainConfig.cell builds."""

    layer: type[layers.Layer]  # Keras' recurrent layer over a sequence (layers.LSTM, ...)
    projected: type[layers.Layer]  # the same step on an input already multiplied by its kernel
    gates: int  # blocks of `units` in the input kernel: its width is gates * units


CELLS: dict[str, Cell] = {"lstm": Cell(layers.LSTM, ProjectedLSTMCell, 4),
                          "gru": Cell(layers.GRU, ProjectedGRUCell, 3)}
if tuple(CELLS) != CELL_NAMES:  # config names the cells without importing Keras
    raise ImportError(f"core.nets.cells defines {tuple(CELLS)} but TrainConfig offers "
                      f"{CELL_NAMES}")
