"""The run record: everything a training run leaves on disk, and the worker that trains them.

Read a run through `record.Run` (each file read once, when first asked for): status, record
(config.json), settings, config, vocabs, history, samples, held_out_pieces,
has_model, load_model. Every page, table, evidence function, the report and generation read
runs this way; `open_run` is a Run whose settings and vocabularies are checked at once.

files       atomic writes (temp file, fsync, rename), timestamps, modification stamps;
            RunError, RunFileError and WriteError (a full disk said plainly)
record      a run directory: create, status (compare-and-set under the run's lock, cancel
            requests, killed runs), the Run object, open_run
history     history.csv: one row per finished epoch, appended whole; its one reader, which
            leaves out a last line a crash cut short
checkpoint  an epoch's model, history row and best model committed together; restore, the
            point a killed or failed run resumes from
listing     every run as one table row (runs_table, list_runs), filters, labels for legends
samples     generated samples saved under a run (a hidden folder renamed when complete):
            save, list, read, the path of each file
worker      the background worker that trains queued runs one at a time, and the queue's
            operations (cancel, queue_resume)
faults      pause points the fault-injection tests stop a process at
deletion    deleting a run (cancelled first), a sample or an upload, never outside its folder
estimates   the queue's remaining time, from finished runs of the same shape
"""
