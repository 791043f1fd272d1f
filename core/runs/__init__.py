"""The run record: everything a training run leaves on disk, and the worker that trains them.

files    atomic JSON writes, timestamps, modification stamps
record   a run directory: create, status, config, vocabularies, models (RunInfo)
history  history.csv: one row per finished epoch
listing  every run as one table row, labels for legends
samples  generated samples saved under a run
worker   the background worker that trains queued runs one at a time
"""
