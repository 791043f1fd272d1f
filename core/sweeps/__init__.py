"""Sweeps: a search over training settings times seeds, run on Ray Tune, on this machine or
on a cluster; each trial is one normal run directory under the runs folder.

spec      SweepSpec (search space, seeds, method, budget, resources), validated in one
          place; sweeps/<id>/sweep.json
search    the spec expanded into trials (grid and random here, seeded; Optuna's space)
trial     the function Tune runs per trial: create or continue its run, train it through
          core.runs.training, report each epoch to Tune
driver    the process that runs a sweep: the machine's training lock, Ray, Tune, re-runs
          that continue from the run directories, start (detached) and cancel
runtime   Ray started embedded or joined at an address, quietly; resources checked
progress  trial states from the runs' files, progress.json, the best trial so far

Its commands (`python -m core sweep`, `sweeps`, `sweep-cancel`) are core.cli.sweeps, whose
flags are made from SweepSpec's fields.
"""
