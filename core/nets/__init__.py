"""Encoded sequences -> networks (the second stage): what a network is and reads; training one
into a run directory is core.runs.training's.

config    TrainConfig: every setting, its bounds (BOUNDS) and choices (CHOICES), validated in
          one place; the thesis's four runs
windows   training windows and targets, built lazily with tf.data; the check, from the
          pieces' lengths alone, that a window fits
cells     the cell table (Keras layer, projected cell, gates per name) and the LSTM / GRU
          cells fed by a row lookup instead of a one-hot product
models    the network's wiring, written once (embed, recurrent cells, heads): the Keras
          builder and stateful generation's Stepper both run it
schedule  the learning-rate schedule, early stopping and clipping, driven epoch by epoch
accuracy  note and onset accuracy (Model 1), beside the plain accuracy
"""
