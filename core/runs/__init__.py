"""The run record: everything a training run leaves on disk, and the worker that trains them.

Read a run through `record.Run` (each file read once, when first asked for): status, record
(config.json), settings, config, vocabs, history, samples, held_out_pieces, model_path,
has_model, load_model. Every page, table, evidence function, the report and generation read
runs this way; `open_run` is a Run whose settings and vocabularies are checked at once.

files    atomic JSON writes, timestamps, modification stamps; RunError and RunFileError
record   a run directory: create, status (and cancel requests), the Run object, open_run
history  history.csv: one row per finished epoch, appended as it ends; its one reader
listing  every run as one table row (runs_table, list_runs), filters, labels for legends
samples  generated samples saved under a run: save, list, read, the path of each file
worker   the background worker that trains queued runs one at a time
deletion deleting a run (cancelled first), a sample or an upload, never outside its folder
estimates the queue's remaining time, from finished runs of the same shape
"""
