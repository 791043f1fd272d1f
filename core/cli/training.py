"""`python -m core train`, `preset`, `seeds`, `fair`, `resume`, `worker` and `train-run`:
training runs from a terminal, with a bar over each run's epochs."""
from __future__ import annotations

import dataclasses
from pathlib import Path

from core.cli.flags import add_config_fields, add_paths, config_from
from core.cli.progress import epoch_bar
from core.data.prepare import corpus_for
from core.folders import cache_dir
from core.nets.config import SCALES, TrainConfig, thesis_runs


def cmd_train(args) -> None:
    from core.runs.training import train

    config = config_from(args)
    with epoch_bar(config) as on_epoch:
        run_dir = train(config, args.runs, args.cache, on_epoch=on_epoch)
    print(run_dir)


def cmd_preset(args) -> None:
    from core.runs.training import train

    for config in thesis_runs(args.model, args.part, args.scale):
        config = dataclasses.replace(config, max_pieces=args.max_pieces, seed=args.seed).validate()
        print(f"== {config.label}: {config.layers}x{config.units} {config.cell}", flush=True)
        with epoch_bar(config) as on_epoch:
            print(train(config, args.runs, args.cache, on_epoch=on_epoch))


def _train_seeds(config: TrainConfig, k: int, args) -> None:
    from core.evidence.experiments import seed_configs
    from core.runs.training import train

    print(f"== {config.layers}x{config.units} {config.cell}, {k} seed(s)", flush=True)
    for seed_config in seed_configs(config, k):
        with epoch_bar(seed_config) as on_epoch:
            print(train(seed_config, args.runs, args.cache, on_epoch=on_epoch))


def cmd_seeds(args) -> None:
    _train_seeds(config_from(args), args.k, args)


def cmd_fair(args) -> None:
    from core.evidence.experiments import fair_pair

    config = config_from(args)
    for setting in fair_pair(config, corpus_for(config, args.cache)):
        _train_seeds(setting, args.k, args)


def cmd_demo(args) -> None:
    from core.evidence.experiments import defense_runs
    from core.runs.training import train

    config = config_from(args)
    runs = defense_runs(config, corpus_for(config, args.cache), args.k)
    for i, run in enumerate(runs, 1):
        print(f"== {i} of {len(runs)}: {run.part}, {run.label}", flush=True)
        with epoch_bar(run) as on_epoch:
            print(train(run, args.runs, args.cache, on_epoch=on_epoch))


def cmd_train_run(args) -> None:
    from core.runs.training import run_training

    status = run_training(args.run_dir, args.cache, resume=args.resume)
    if status.get("state") == "cancelled" and not status.get("finished"):
        print(f"run {Path(args.run_dir).name} was cancelled before it started")


def _run_dir(run: str, runs_root: Path) -> Path:
    """A run given as its id under --runs, or as its folder."""
    path = Path(run)
    return path if path.is_dir() or not (runs_root / run).is_dir() else runs_root / run


def cmd_resume(args) -> None:
    from core.runs.record import open_run
    from core.runs.training import resume_training

    run_dir = _run_dir(args.run, args.runs)
    run = open_run(run_dir)
    with epoch_bar(run.config, len(run.history)) as on_epoch:
        status = resume_training(run_dir, args.cache, on_epoch=on_epoch)
    print(f"{run_dir}: {status.get('state')}, resumed at epoch {status.get('resumed_at', 1)}")


def cmd_worker(args) -> None:
    from core.runs.worker import work

    print(f"worker trained {work(args.runs, args.cache, args.idle_exit)} run(s)")


def _training_command(sub, name: str, func, help: str, seeds: str = "") -> None:
    """A command that trains settings given by every training flag (and --recipe), into
    the folders --runs and --cache; with `seeds`, the help of its number of seeds --k."""
    p = sub.add_parser(name, help=help)
    if seeds:
        p.add_argument("--k", type=int, default=3, help=seeds)
    add_config_fields(p, recipe=True)
    add_paths(p)
    p.set_defaults(func=func, tensorflow=True)


def add_train(sub) -> None:
    _training_command(sub, "train", cmd_train, "train one run (every hyperparameter is a flag)")


def add_preset(sub) -> None:
    p = sub.add_parser("preset", help="the thesis's four runs (Tables 2/3)")
    add_config_fields(p, ("model", "part", "max_pieces", "seed"))
    p.add_argument("--scale", default="small", choices=SCALES)
    add_paths(p)
    p.set_defaults(func=cmd_preset, tensorflow=True)


def add_seeds(sub) -> None:
    _training_command(sub, "seeds", cmd_seeds, "train k seeds of one setting (train's flags)",
                      "number of seeds: seed .. seed+k-1")


def add_fair(sub) -> None:
    _training_command(sub, "fair", cmd_fair, "k seeds each of LSTM at --units, GRU at --units "
                      "and GRU at the LSTM's parameter count", "number of seeds per setting")


def add_demo(sub) -> None:
    _training_command(sub, "demo", cmd_demo, "the defense demo: the fair comparison (3 seeds "
                      "each) and an accompaniment run, of the demo recipe unless flags change "
                      "it", "number of seeds per setting")


def add_worker(sub) -> None:
    p = sub.add_parser("worker", help="train queued runs one at a time (the dashboard starts it)")
    p.add_argument("--idle-exit", type=float, default=5.0)
    add_paths(p)
    p.set_defaults(func=cmd_worker)


def add_train_run(sub) -> None:
    p = sub.add_parser("train-run", help="train one queued run directory (used by the worker)")
    p.add_argument("run_dir", type=Path)
    p.add_argument("--resume", action="store_true", help="continue from its last epoch")
    p.add_argument("--cache", type=Path, default=cache_dir())
    p.set_defaults(func=cmd_train_run, tensorflow=True)


def add_resume(sub) -> None:
    p = sub.add_parser("resume", help="continue a killed, failed or cancelled run from its "
                                      "last complete epoch (in this process)")
    p.add_argument("run", help="run id under --runs, or a run directory")
    add_paths(p)
    p.set_defaults(func=cmd_resume, tensorflow=True)

