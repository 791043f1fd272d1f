"""Encoded sequences -> trained networks (the second stage).

config    TrainConfig: every setting, its bounds and choices, validated in one place
windows   training windows and targets, built lazily with tf.data
cells     LSTM / GRU cells fed by a row lookup instead of a one-hot product
models    the two Keras builders and the wiring stateful generation reuses
training  one run trained into its run directory, epoch by epoch
"""
