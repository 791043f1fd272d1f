"""What a Model 1 network is scored on beside loss and accuracy: note accuracy and onset
accuracy, as Keras metrics (training curves) that the held-out measure reuses (one definition).

About three of four Model 1 targets are the hold `_`, so plain accuracy mostly counts holds:
a network that always answers `_` scores 0.77 on the chorales and has learnt nothing. Two
numbers look where the music is:

note accuracy   accuracy on the targets that are not `_`: when something new happens (a
                note, a chord, a rest), is it the right one? Always answering the most
                frequent new symbol scores its share (about 0.15 on the chorales' leads).
onset accuracy  is a new event predicted where one starts and a hold where the previous one
                goes on? The mean of the two shares found (balanced accuracy), so always
                answering "hold", always answering "new", or guessing at the corpus's rate
                all score exactly 0.5.

Both take the prediction as the most likely symbol (argmax), as accuracy does. They work
on either objective's shapes: targets (batch,) with (batch, vocab) or (batch, n) with
(batch, n, vocab). The hold's id is a constructor argument (vocabularies are in order of
first appearance), saved with the model so a resumed run reloads the same metric.
"""
from __future__ import annotations

import keras
from keras import ops


def _decisions(hold_id: int, y_true, y_pred):
    """(target ids, predicted ids, whether each target is new) as flat vectors."""
    target = ops.reshape(ops.cast(y_true, "int32"), (-1,))
    predicted = ops.reshape(ops.cast(ops.argmax(y_pred, axis=-1), "int32"), (-1,))
    return target, predicted, ops.not_equal(target, hold_id)


@keras.saving.register_keras_serializable(package="core")
class NoteAccuracy(keras.metrics.Metric):
    """Accuracy on the targets that are not the hold (see the module docstring)."""

    def __init__(self, hold_id: int, name: str = "note_accuracy", **kwargs) -> None:
        super().__init__(name=name, **kwargs)
        self.hold_id = int(hold_id)
        self.right = self.add_variable(shape=(), initializer="zeros", name="right")
        self.total = self.add_variable(shape=(), initializer="zeros", name="total")

    def update_state(self, y_true, y_pred, sample_weight=None) -> None:
        target, predicted, new = _decisions(self.hold_id, y_true, y_pred)
        hits = ops.logical_and(new, ops.equal(target, predicted))
        self.right.assign_add(ops.sum(ops.cast(hits, self.dtype)))
        self.total.assign_add(ops.sum(ops.cast(new, self.dtype)))

    def result(self):
        return ops.divide_no_nan(self.right, self.total)

    def get_config(self) -> dict:
        return {**super().get_config(), "hold_id": self.hold_id}


@keras.saving.register_keras_serializable(package="core")
class OnsetAccuracy(keras.metrics.Metric):
    """Balanced accuracy of the new-event-or-hold decision (see the module docstring)."""

    def __init__(self, hold_id: int, name: str = "onset_accuracy", **kwargs) -> None:
        super().__init__(name=name, **kwargs)
        self.hold_id = int(hold_id)
        self.counts = self.add_variable(shape=(4,), initializer="zeros", name="counts")

    def update_state(self, y_true, y_pred, sample_weight=None) -> None:
        _, predicted, new = _decisions(self.hold_id, y_true, y_pred)
        said_new = ops.not_equal(predicted, self.hold_id)
        held = ops.logical_not(new)
        cells = [ops.logical_and(new, said_new), new, ops.logical_and(held, ops.logical_not(
            said_new)), held]
        self.counts.assign_add(ops.stack([ops.sum(ops.cast(c, self.dtype)) for c in cells]))

    def result(self):
        found_new = ops.divide_no_nan(self.counts[0], self.counts[1])
        kept_hold = ops.divide_no_nan(self.counts[2], self.counts[3])
        return (found_new + kept_hold) / 2

    def get_config(self) -> dict:
        return {**super().get_config(), "hold_id": self.hold_id}


def step_metrics(hold_id: int | None) -> list:
    """Model 1's metrics: accuracy, and note and onset accuracy where the vocabulary has a
    hold (a corpus of only new events has none, and nothing to tell apart)."""
    if hold_id is None:
        return ["accuracy"]
    return ["accuracy", NoteAccuracy(hold_id), OnsetAccuracy(hold_id)]
