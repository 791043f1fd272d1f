"""How a run learns over its epochs: Adam with gradient clipping, the learning-rate schedule,
and early stopping, all Keras' own pieces, configured from TrainConfig.

constant   the thesis's one learning rate for every epoch.
plateau    Keras' ReduceLROnPlateau: the rate halves whenever the held-out loss has not
           improved for PLATEAU_PATIENCE epochs (down to 1/32 of the start).
cosine     Keras' CosineDecay: a warm-up over the first epoch from a tenth of the rate,
           then a cosine down to ALPHA of it at the last planned epoch (a function of the
           step count saved with the optimizer, so a resumed run continues it exactly).
Early stopping is Keras' EarlyStopping on the held-out loss: the run ends once that many
epochs have passed without a better one. Nothing is lost by stopping: best.keras already
holds the best epoch's weights and generation reads it.

The callbacks keep state between epochs (the best loss so far, epochs waited), which a
resumed run has lost with its process. `resume_callbacks` rebuilds it by replaying the
history's rows through fresh callbacks from the starting rate, so a run killed and resumed
takes the same decisions as one that never stopped. Held-out metrics are measured outside
Keras' fit (core.runs.training), so the callbacks are driven by hand once an epoch's row is
complete.
"""
from __future__ import annotations

import math
from typing import Any, Iterable, Mapping

from core.nets.config import TrainConfig

PLATEAU_PATIENCE = 2
PLATEAU_FACTOR = 0.5
PLATEAU_FLOOR = 1 / 32
WARMUP_START = 0.1
ALPHA = 0.05


def optimizer(config: TrainConfig, steps_per_epoch: int):
    """Adam at the run's learning rate or schedule, its gradients' global norm clipped to
    `clip_norm` (0: not clipped)."""
    import keras

    rate: Any = config.learning_rate
    if config.lr_schedule == "cosine":
        steps = max(1, steps_per_epoch)
        rate = keras.optimizers.schedules.CosineDecay(
            config.learning_rate * WARMUP_START, max(1, (config.epochs - 1) * steps),
            alpha=ALPHA, warmup_target=config.learning_rate, warmup_steps=steps)
    return keras.optimizers.Adam(rate, global_clipnorm=config.clip_norm or None)


def epoch_callbacks(config: TrainConfig, monitor: str) -> list:
    """The callbacks that act between epochs: a plateau's rate cut and early stopping,
    watching `monitor` (the held-out loss, or the training loss with nothing held out)."""
    import keras

    callbacks = []
    if config.lr_schedule == "plateau":
        callbacks.append(keras.callbacks.ReduceLROnPlateau(
            monitor, factor=PLATEAU_FACTOR, patience=PLATEAU_PATIENCE, verbose=0,
            min_lr=config.learning_rate * PLATEAU_FLOOR))
    if config.early_stopping:
        callbacks.append(keras.callbacks.EarlyStopping(monitor, patience=config.early_stopping,
                                                       verbose=0))
    return callbacks


def start(callbacks: list, model) -> None:
    for callback in callbacks:
        callback.set_model(model)
        callback.on_train_begin()


def end_epoch(callbacks: list, epoch: int, row: dict[str, Any]) -> bool:
    """Let the callbacks see epoch `epoch` (from 1) complete; True when training must stop.
    The row gains the learning rate its epoch trained with."""
    model = next((c.model for c in callbacks), None)
    for callback in callbacks:
        callback.on_epoch_end(epoch - 1, row)
    return bool(model is not None and model.stop_training)


def resume_callbacks(config: TrainConfig, model, monitor: str,
                     rows: Iterable[Mapping[str, float]]) -> tuple[list, bool]:
    """Fresh callbacks brought to where an uninterrupted run's would be after `rows` (the
    history's epochs, first to last), and whether they had already decided to stop."""
    callbacks = epoch_callbacks(config, monitor)
    if config.lr_schedule == "plateau":
        model.optimizer.learning_rate.assign(config.learning_rate)
    start(callbacks, model)
    stop = False
    for epoch, row in enumerate(rows, start=1):
        clean = {k: float(v) for k, v in row.items() if not math.isnan(float(v))}
        stop = end_epoch(callbacks, epoch, clean)
    return callbacks, stop


def current_rate(model) -> float:
    """The learning rate the optimizer applies now (a schedule's value at this step)."""
    import keras

    return float(keras.ops.convert_to_numpy(model.optimizer.learning_rate))
