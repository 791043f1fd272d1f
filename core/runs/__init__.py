"""Networks -> trained runs on disk: everything a training run leaves there, the training that
fills it, and the worker that trains queued runs.

Read a run through `record.Run` (each file read once, when first asked for): status, record
(config.json), settings, config, vocabs, history, held_out_pieces, has_model, load_model.
Every page, table, evidence function, the report and generation read runs this way;
`open_run` is a Run whose settings and vocabularies are checked at once.

record      a run directory: create, the Run object, open_run
status      status.json: the states and their sets (ACTIVE, FINAL, RESUMABLE, USABLE),
            compare-and-set under the run's lock, killed runs, cancel
history     history.csv: one row per finished epoch, appended whole; its one reader, which
            leaves out a last line a crash cut short; what "best" means (epoch_scores)
checkpoint  an epoch's model, history row and best model committed together; restore, the
            point a killed or failed run resumes from; the best committed model
training    one run checked, recorded and trained into its directory, epoch by epoch
listing     every run as one table row (runs_table, list_runs), filters, labels for legends,
            the runs folder's signature
samples     generated samples under a run: listed, read, the path of each file, and a
            finished sample folder published (core.sampling.saving writes them)
worker      the background worker that trains queued runs one at a time (queue_resume)
deletion    deleting a run (cancelled first), a sample or an upload, never outside its folder
estimates   the queue's remaining time, from finished runs of the same shape
"""
