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

from core.cli.flags import add_config_fields, add_paths
from core.folders import runs_dir, sweeps_dir
from core.nets.config import SCALES, TrainConfig
from core.sweeps.runtime import CONNECT_TIMEOUT_S
from core.sweeps.spec import METHODS, SweepSpec, parse_grid, parse_range, thesis_settings

# SweepSpec's fields given by other flags: the training flags (base), --thesis-runs
# (settings), --grid and --range.
GIVEN_ELSEWHERE = ("base", "settings", "grid", "ranges")
# What each of SweepSpec's other fields is, for its flag's help; its type and default are
# read from the dataclass, so the flags cannot lag behind the spec.
SPEC_HELP = {
    "name": "the sweep's name (in its id and labels)",
    "seeds": "seeds per setting (from --seed on)",
    "method": "how settings are chosen",
    "max_trials": "at most this many trials (0: the whole grid)",
    "max_minutes": "stop after this much wall time over all runs of the sweep (0: none)",
    "asha": "stop trials whose held-out loss trails (ASHA)",
    "asha_grace": "epochs before ASHA may stop one",
    "asha_reduction": "ASHA's reduction factor",
    "concurrent": "trials at once",
    "cpus_per_trial": "0: this machine's cores / --concurrent (1 on a cluster)",
    "gpus_per_trial": "GPUs each trial asks Ray for",
    "address": f"an existing Ray cluster (host:port; default RAY_ADDRESS); where nothing "
               f"answers within {CONNECT_TIMEOUT_S:g} s the sweep is refused before it is "
               "saved (a port that answers but is not a Ray head: about 40 s)",
    "sample_seed": "seed of random and Optuna sampling",
}
SPEC_CHOICES = {"method": METHODS}
SPEC_ENVIRONMENT = {"address": "RAY_ADDRESS"}  # a default the environment may give


def spec_fields() -> list[dataclasses.Field]:
    """SweepSpec's fields that are flags of their own."""
    return [f for f in dataclasses.fields(SweepSpec) if f.name not in GIVEN_ELSEWHERE]


def add_spec_flags(parser: argparse.ArgumentParser) -> None:
    """One flag per field of `spec_fields`, its type, default and choices from SweepSpec."""
    for f in spec_fields():
        flag = "--" + f.name.replace("_", "-")
        default = os.environ.get(SPEC_ENVIRONMENT[f.name], f.default) \
            if f.name in SPEC_ENVIRONMENT else f.default
        if f.type == "bool":
            parser.add_argument(flag, action="store_true", default=default,
                                help=SPEC_HELP[f.name])
        else:
            parser.add_argument(flag, type={"int": int, "float": float}.get(f.type, str),
                                default=default, choices=SPEC_CHOICES.get(f.name),
                                help=f"{SPEC_HELP[f.name]} (default {default!r})")


def add_sweep(sub) -> None:
    p = sub.add_parser("sweep", help="a search over settings x seeds on Ray Tune (see "
                                     "`sweep --help`)",
                       description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_config_fields(p)
    add_paths(p)
    p.add_argument("--sweeps", type=Path, default=sweeps_dir(),
                   help="sweeps folder (default: MUSIC_SWEEPS_DIR, else sweeps)")
    p.add_argument("--grid", action="append", default=[], metavar="FIELD=V1,V2",
                   help="values of a setting (repeatable); trials cross every grid field")
    p.add_argument("--range", action="append", default=[], metavar="FIELD=LOW:HIGH[:log]",
                   help="a range of a numeric setting (random and optuna methods)")
    p.add_argument("--thesis-runs", choices=SCALES,
                   help="the thesis's runs 1-4 (small or full) as the settings to sweep")
    add_spec_flags(p)
    p.add_argument("--resume", metavar="SWEEP",
                   help="run a saved sweep again (its id or folder): unfinished trials "
                        "continue, the other flags are ignored")
    p.set_defaults(func=cmd_sweep, tensorflow=True)


def add_sweeps(sub) -> None:
    p = sub.add_parser("sweeps", help="every sweep with its progress")
    p.add_argument("--sweeps", type=Path, default=sweeps_dir())
    p.add_argument("--runs", type=Path, default=runs_dir())
    p.set_defaults(func=cmd_sweeps)


def add_sweep_cancel(sub) -> None:
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
    return SweepSpec(base=base, settings=settings,
                     grid=dict(parse_grid(g) for g in args.grid),
                     ranges=dict(parse_range(r) for r in args.range),
                     **{f.name: getattr(args, f.name) for f in spec_fields()}).validate()
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
