"""`python -m core sweep`, `sweeps` and `sweep-cancel`: sweeps from a terminal.

    python -m core sweep --part lead --epochs 5 --grid cell=lstm,gru --grid units=32,64 \\
        --seeds 3                                     # a grid, 3 seeds per setting
    python -m core sweep --thesis-runs small --seeds 3   # the thesis's runs 1-4 x 3 seeds
    python -m core sweep --method optuna --range learning_rate=0.0005:0.02:log \\
        --grid cell=lstm,gru --max-trials 24 --asha     # TPE with ASHA early stopping
    python -m core sweep --resume <id>               # continue a stopped sweep
    python -m core sweeps                            # every sweep and its progress

The training flags (--units, --part, ...) give what every trial shares; --grid, --range and
--thesis-runs what varies. Ray starts inside the command on this machine's cores (one trial
at a time unless --concurrent), or joins a cluster with --address (or RAY_ADDRESS).
"""
from __future__ import annotations

import argparse
import dataclasses
import os
from pathlib import Path
from typing import Callable

from core.folders import runs_dir, sweeps_dir
from core.nets.config import SCALES, TrainConfig
from core.sweeps.runtime import CONNECT_TIMEOUT_S
from core.sweeps.spec import METHODS, SweepSpec, parse_grid, parse_range, thesis_settings


def add_sweep_commands(sub, config_flags: Callable, path_flags: Callable) -> None:
    """The sweep subcommands on the CLI's parser (`config_flags`, `path_flags`: the CLI's
    own flag makers, so the training flags are the same as `train`'s)."""
    p = sub.add_parser("sweep", help="a search over settings x seeds on Ray Tune (see "
                                     "`sweep --help`)",
                       description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    config_flags(p)
    path_flags(p)
    p.add_argument("--sweeps", type=Path, default=sweeps_dir(),
                   help="sweeps folder (default: MUSIC_SWEEPS_DIR, else sweeps)")
    p.add_argument("--grid", action="append", default=[], metavar="FIELD=V1,V2",
                   help="values of a setting (repeatable); trials cross every grid field")
    p.add_argument("--range", action="append", default=[], metavar="FIELD=LOW:HIGH[:log]",
                   help="a range of a numeric setting (random and optuna methods)")
    p.add_argument("--thesis-runs", choices=SCALES,
                   help="the thesis's runs 1-4 (small or full) as the settings to sweep")
    p.add_argument("--seeds", type=int, default=3, help="seeds per setting (from --seed on)")
    p.add_argument("--method", default="grid", choices=METHODS)
    p.add_argument("--max-trials", type=int, default=0,
                   help="at most this many trials (0: the whole grid)")
    p.add_argument("--max-minutes", type=float, default=0.0,
                   help="stop after this much wall time over all runs of the sweep (0: none)")
    p.add_argument("--asha", action="store_true",
                   help="stop trials whose held-out loss trails (ASHA)")
    p.add_argument("--asha-grace", type=int, default=1, help="epochs before ASHA may stop one")
    p.add_argument("--asha-reduction", type=int, default=2, help="ASHA's reduction factor")
    p.add_argument("--concurrent", type=int, default=1, help="trials at once")
    p.add_argument("--cpus-per-trial", type=float, default=0.0,
                   help="0: this machine's cores / --concurrent (1 on a cluster)")
    p.add_argument("--gpus-per-trial", type=float, default=0.0)
    p.add_argument("--address", default=os.environ.get("RAY_ADDRESS", ""),
                   help="an existing Ray cluster (host:port; default RAY_ADDRESS); where "
                        f"nothing answers within {CONNECT_TIMEOUT_S:g} s the sweep is refused "
                        "before it is saved (a port that answers but is not a Ray head: "
                        "about 40 s)")
    p.add_argument("--name", default="", help="the sweep's name (in its id and labels)")
    p.add_argument("--sample-seed", type=int, default=0,
                   help="seed of random and Optuna sampling")
    p.add_argument("--resume", metavar="SWEEP",
                   help="run a saved sweep again (its id or folder): unfinished trials "
                        "continue, the other flags are ignored")
    p.set_defaults(func=cmd_sweep, tensorflow=True)

    p = sub.add_parser("sweeps", help="every sweep with its progress")
    p.add_argument("--sweeps", type=Path, default=sweeps_dir())
    p.add_argument("--runs", type=Path, default=runs_dir())
    p.set_defaults(func=cmd_sweeps)

    p = sub.add_parser("sweep-cancel", help="stop a running sweep (its trials resume on a "
                                            "re-run)")
    p.add_argument("sweep", help="sweep id or folder")
    p.add_argument("--sweeps", type=Path, default=sweeps_dir())
    p.add_argument("--runs", type=Path, default=runs_dir())
    p.set_defaults(func=cmd_sweep_cancel)


def spec_from_args(args: argparse.Namespace) -> SweepSpec:
    """The spec the flags describe, validated (one SweepError naming what is wrong)."""
    fields = {f.name for f in dataclasses.fields(TrainConfig)} - {"extra"}
    base = {name: getattr(args, name) for name in fields if hasattr(args, name)}
    settings = thesis_settings(args.model, args.part, args.thesis_runs) \
        if args.thesis_runs else []
    return SweepSpec(name=args.name, base=base, settings=settings,
                     grid=dict(parse_grid(g) for g in args.grid),
                     ranges=dict(parse_range(r) for r in args.range), seeds=args.seeds,
                     method=args.method, max_trials=args.max_trials,
                     max_minutes=args.max_minutes, asha=args.asha, asha_grace=args.asha_grace,
                     asha_reduction=args.asha_reduction, concurrent=args.concurrent,
                     cpus_per_trial=args.cpus_per_trial, gpus_per_trial=args.gpus_per_trial,
                     address=args.address, sample_seed=args.sample_seed).validate()


def cmd_sweep(args) -> None:
    from core.sweeps.driver import check_sweep, run_sweep
    from core.sweeps.progress import failures
    from core.sweeps.spec import create_sweep, find_sweep

    if args.resume:
        sweep_dir = find_sweep(args.resume, args.sweeps)
        print(f"sweep {sweep_dir.name}: continuing", flush=True)
    else:
        spec = spec_from_args(args)
        check_sweep(spec, args.cache)  # a bad setting is refused before the sweep is saved
        sweep_dir = create_sweep(spec, args.sweeps)
        print(f"sweep {sweep_dir.name}: {sweep_dir / 'sweep.json'}", flush=True)
    shown = [""]

    def show(progress) -> None:
        line = progress.line()
        if line != shown[0]:
            print(line, flush=True)
            shown[0] = line

    progress = run_sweep(sweep_dir, args.runs, args.cache, on_progress=show)
    show(progress)
    print(f"sweep {sweep_dir.name}: {progress.driver}"
          + (f" ({progress.message})" if progress.message else ""))
    for failure in failures(sweep_dir):
        print(f"trial {failure.get('trial')} could not start: {failure.get('error')}")
    if progress.driver == "cancelled" or progress.counts.get("interrupted"):
        print(f"continue it with: python -m core sweep --resume {sweep_dir.name}")


def cmd_sweeps(args) -> None:
    from core.sweeps.progress import sweep_progress
    from core.sweeps.spec import sweep_dirs

    found = sweep_dirs(args.sweeps)
    if not found:
        print(f"no sweeps in {args.sweeps}")
    for sweep_dir in found:
        progress = sweep_progress(sweep_dir, args.runs)
        print(f"{sweep_dir.name} ({progress.driver}): {progress.line()}")


def cmd_sweep_cancel(args) -> None:
    from core.sweeps.driver import cancel_sweep
    from core.sweeps.spec import find_sweep

    sweep_dir = find_sweep(args.sweep, args.sweeps)
    stopped = cancel_sweep(sweep_dir, args.runs)
    print(f"sweep {sweep_dir.name}: cancelled ({stopped} trial(s) stopping after their "
          "current batch)")
