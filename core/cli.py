"""`python -m core`: the same functions the dashboard calls, from a terminal.

Every training setting is a flag made from TrainConfig's fields, defaults, BOUNDS and
CHOICES, so the CLI cannot allow what `TrainConfig.validate` refuses or lag behind it.
A user's mistake (a bad flag, a missing file, a full disk, Ctrl-C) is one line starting
"error:", never a traceback; `python -m core --debug ...` shows the traceback.
The folders (--runs, --cache, --sweeps, report --out) default to the dashboard's own
(core.folders: MUSIC_RUNS_DIR, MUSIC_CACHE_DIR, ...), and --corpus may name an upload.
"""
from __future__ import annotations

import argparse
import dataclasses
import logging
import os
import re
import sys
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Callable, Iterator

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from core.data.corpus import CorpusError, is_default_corpus  # noqa: E402
from core.data.prepare import corpus_for  # noqa: E402
from core.evidence.verdict import METRIC_WORDS  # noqa: E402
from core.files import RunError  # noqa: E402
from core.folders import cache_dir, corpus_source, new_report_dir, runs_dir  # noqa: E402
from core.nets.config import (  # noqa: E402
    BOUNDS,
    CHOICES,
    CORPUS_FIELDS,
    RECIPES,
    SCALES,
    Bounds,
    ConfigError,
    TrainConfig,
    thesis_runs,
)
from core.outputs.destination import OutputFolderError  # noqa: E402
from core.sampling.decoding import Decoding, GenerationError, parse_help  # noqa: E402

USER_ERRORS = (ConfigError, CorpusError, GenerationError, RunError, OutputFolderError)



class Parser(argparse.ArgumentParser):
    """argparse, with a refused flag told in one line (argparse adds the whole usage)."""

    def error(self, message: str):
        self.exit(2, f"error: {message} (see {self.prog} --help)\n")


def whole_number_in(bounds: Bounds) -> Callable[[str], int]:
    """An argparse type: a whole number within `bounds`, refused in one line otherwise."""
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
        if value not in bounds:
            raise argparse.ArgumentTypeError(f"must be in {bounds}, got {value}")
        return value
    return parse


def decoding_value(text: str) -> Decoding:
    """An argparse type: a decoding within its bounds (Decoding.parse), refused in one line
    before anything loads."""
    try:
        return Decoding.parse(text)
    except GenerationError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def folder(text: str) -> Path:
    """An argparse type: a folder, or a path where one will be made; an existing file is
    refused (`runs --runs <a file>` read as "no runs yet", exit 0)."""
    path = Path(text)
    if path.exists() and not path.is_dir():
        raise argparse.ArgumentTypeError(f"{text} is a file, not a folder")
    return path


def steps_bounds() -> Bounds:
    """Symbols generated per part: 1 to generation's MAX_STEPS."""
    from core.sampling.generation import MAX_STEPS

    return Bounds(1, MAX_STEPS)


def _add_paths(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--runs", type=folder, default=runs_dir(),
                        help="runs folder (default: MUSIC_RUNS_DIR, else runs)")
    parser.add_argument("--cache", type=folder, default=cache_dir(),
                        help="corpus cache folder (default: MUSIC_CACHE_DIR, else cache)")


class _Given(argparse.Action):
    """Stores a flag's value and notes that it was given, so a --recipe fills in only the
    settings the command line leaves out."""

    def __call__(self, parser, namespace, values, option_string=None) -> None:
        setattr(namespace, self.dest, values)
        namespace.given = {*getattr(namespace, "given", ()), self.dest}


class _GivenSwitch(argparse.BooleanOptionalAction):
    def __call__(self, parser, namespace, values, option_string=None) -> None:
        super().__call__(parser, namespace, values, option_string)
        namespace.given = {*getattr(namespace, "given", ()), self.dest}


def _add_config_fields(parser: argparse.ArgumentParser,
                       names: tuple[str, ...] | None = None, recipe: bool = False) -> None:
    """One flag per TrainConfig field (or per field in `names`), its default, bounds and
    choices read from the dataclass, so the CLI can never lag behind or contradict it;
    `recipe`: a --recipe flag whose named settings (RECIPES) fill in what is not given."""
    if recipe:
        parser.add_argument("--recipe", choices=list(RECIPES), default="demo",
                            help="named settings the other flags change: demo (the defaults "
                                 "below: the defense's recipe) or thesis (the same network "
                                 "trained the thesis's way: window objective, constant rate, "
                                 "no early stop, clipping, key normalisation or bar position)")
    for f in dataclasses.fields(TrainConfig):
        if f.name == "extra" or (names is not None and f.name not in names):
            continue
        flag = "--" + f.name.replace("_", "-")
        if f.type in ("bool", bool):
            parser.add_argument(flag, action=_GivenSwitch, default=f.default)
        else:
            kind = {"int": int, "float": float}.get(str(f.type), str)
            allowed = CHOICES.get(f.name) or BOUNDS.get(f.name)
            where = f"; one of {', '.join(map(str, allowed))}" if f.name in CHOICES else \
                f"; in {allowed}" if allowed else ""
            parser.add_argument(flag, type=kind, default=f.default, metavar=f.name.upper(),
                                action=_Given, help=f"default {f.default}{where}")


def _config_from(args: argparse.Namespace) -> TrainConfig:
    """The validated TrainConfig of the flags a command has (its --recipe's settings where
    a flag is not given); defaults for the others."""
    names = [f.name for f in dataclasses.fields(TrainConfig) if hasattr(args, f.name)]
    values = {n: getattr(args, n) for n in names}
    given = getattr(args, "given", set())
    values.update({k: v for k, v in RECIPES[getattr(args, "recipe", "demo")].items()
                   if k not in given})
    if "corpus" in values:
        values["corpus"] = corpus_source(values["corpus"])
    return TrainConfig(**values).validate()


def cmd_prepare(args) -> None:
    from core.data.cache import cache_path, report_path

    started = time.perf_counter()
    config = _config_from(args)
    roles = _save_roles(args.roles, config.corpus) if args.roles else None
    with progress_bar("reading files", None,
                      "{task.fields[kept]} kept, {task.fields[skipped]} skipped") as update:
        corpus = corpus_for(config, args.cache, roles=roles,
                            progress=lambda p: update(p.done, p.total, kept=p.kept,
                                                      skipped=p.skipped))
    kept = sum(r.status == "kept" for r in corpus.report)
    uncertain = sum(r.uncertain for r in corpus.report)
    print(f"{corpus.corpus_id}: {kept} kept, {len(corpus.report) - kept} skipped, "
          f"{len(corpus.split('validation'))} held out, key {corpus.key[:16]} "
          f"({time.perf_counter() - started:.1f} s)")
    if uncertain:
        print(f"{uncertain} of {kept} kept files have an uncertain lead (marked below): check "
              "them in the Corpus page's roles editor or set their lead in --roles")
    for line in corpus.report[:REPORT_LINES]:
        print(f"  {_report_line(line)}")
    if len(corpus.report) > REPORT_LINES:
        path = report_path(cache_path(args.cache, corpus.corpus_id, corpus.key))
        print(f"  ... {len(corpus.report) - REPORT_LINES} more files in {path}")


REPORT_LINES = 200


def _report_line(r) -> str:
    """One file of the prepare report: kept with its roles, or skipped with the reason."""
    if r.status != "kept":
        return f"skipped {r.file}: {r.reason}"
    notes = [f"{r.moved_onsets:.1%} of onsets moved to the 16th grid"] if r.moved_onsets else []
    notes += [f"{r.capped_notes} over-long notes cut"] if r.capped_notes else []
    accompaniment = r.accompaniment or "none"
    doubt = f" [uncertain lead, confidence {r.confidence:.2f}: {r.doubt}]" if r.uncertain else ""
    return (f"kept {r.file}: lead {r.lead}; accompaniment {accompaniment}"
            + (f" ({', '.join(notes)})" if notes else "") + doubt)


def _save_roles(roles: Path, corpus: str) -> Path:
    """Check a roles CSV and keep a copy in the corpus folder, where every later prepare of
    that folder (training's included) reads it."""
    from core.data.roles import ROLES_FILE, RolesError, load_roles, save_roles

    if is_default_corpus(corpus):
        raise CorpusError("--roles applies to a folder of your own files, not the default "
                          "corpus")
    try:
        overrides = load_roles(roles)
    except RolesError as exc:
        raise CorpusError(str(exc)) from exc
    target = Path(corpus) / ROLES_FILE
    if not target.exists() or not target.samefile(roles):
        save_roles(target, overrides)
        print(f"roles saved to {target} (every prepare of this folder uses them)")
    return target


def _print_epoch(row: dict) -> None:
    shown = {k: round(v, 4) for k, v in row.items() if isinstance(v, float)}
    print(f"epoch {row['epoch']}: {shown}", flush=True)


def cmd_train(args) -> None:
    from core.runs.training import train

    config = _config_from(args)
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
    _train_seeds(_config_from(args), args.k, args)


def cmd_fair(args) -> None:
    from core.evidence.experiments import fair_pair

    config = _config_from(args)
    for setting in fair_pair(config, corpus_for(config, args.cache)):
        _train_seeds(setting, args.k, args)


def cmd_verdict(args) -> None:
    from core.evidence.verdict import verdict_table
    from core.runs.listing import runs_table

    table = verdict_table(runs_table(args.runs), metric=args.metric)
    if table.empty:
        print("no finished LSTM and GRU settings that differ only in cell (and units) yet")
        return
    shared = list(table.columns[1:table.columns.get_loc("lstm_units")])
    varying = [c for c in shared if c not in ("model", "part", "layers")
               and table[c].nunique(dropna=False) > 1]
    columns = ["comparison", "model", "part", "layers", *varying, "lstm_units", "gru_units",
               "lstm_params", "gru_params", "lstm_n", "gru_n", "lstm_mean", "gru_mean",
               "difference", "ci_low", "ci_high", "p_value", "verdict"]
    print(table[columns].to_string(index=False, float_format=lambda v: f"{v:.4g}"))
    for comparison, sentence in zip(table["comparison"], table["sentence"]):
        print(f"{comparison}: {sentence}")


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


def cmd_generate(args) -> None:
    from core.sampling.generation import generate

    runs = {k: v for k, v in (("lead", args.lead), ("accompaniment", args.accompaniment)) if v}
    decodings = args.decoding or [Decoding()]
    samples = []
    with progress_bar(f"{args.steps} steps per part", len(decodings)) as advance:
        for decoding in decodings:  # one sample per decoding; the bar moves as each is saved
            samples += generate(runs, args.steps, [decoding], seed=args.seed,
                                seed_piece=args.seed_piece, seed_file=args.seed_file,
                                cache_dir=args.cache, method=args.method)
            advance()
    for part, epoch in (samples[0].epochs if samples else {}).items():
        print(f"{part}: the model of epoch {epoch} of run {Path(runs[part]).name}")
    if samples and samples[0].seed_mapped:
        print(f"seed: {samples[0].seed_mapped} symbols the run never saw were mapped to the "
              "nearest it knows")
    for sample in samples:
        print(f"{sample.decoding.label}: {sample.folder}")
        for kind, name in sample.files.items():
            print(f"  {kind}: {sample.folder / name}")


def cmd_evaluate(args) -> None:
    from core.evidence.conditioning import conditioning_comparison
    from core.evidence.evaluation import evaluate, evaluation_folder

    runs = {k: v for k, v in (("lead", args.lead), ("accompaniment", args.accompaniment)) if v}
    if not runs:
        raise GenerationError("give --lead, --accompaniment, or both")
    decodings = args.decoding or [Decoding()]
    folder = evaluation_folder(next(iter(runs.values())))
    _, comparison = evaluate(runs, decodings, args.pieces, args.steps, args.seed, args.cache,
                             folder)
    print(comparison.to_string(index=False, float_format="{:.3f}".format))
    if args.conditioned:
        conditioned = {**runs, "accompaniment": args.conditioned}
        table = conditioning_comparison(runs, conditioned, decodings[0], args.pieces,
                                        args.steps, args.seed, args.cache)
        table.to_csv(folder / "conditioning.csv", index=False)
        print(table.to_string(index=False, float_format="{:.3f}".format))
    print(f"CSV files in {folder}")


def cmd_runs(args) -> None:
    from core.runs.listing import list_runs

    frame = list_runs(args.runs)
    columns = [c for c in ("run_id", "state", "model", "part", "cell", "layers", "units",
                           "epochs_done", "final_loss", "best_val_loss") if c in frame]
    print(frame[columns].to_string(index=False) if len(frame) else "no runs yet")
    for row in frame.itertuples(index=False):  # why a run is broken, failed, resumed...
        said = "; ".join(str(t) for t in (row.error, row.note) if isinstance(t, str) and t)
        if said:
            print(f"{row.run_id} ({row.state}): {said}")


def cmd_report(args) -> None:
    from core.outputs.report import DEFAULT_TITLE, build_report

    paths = build_report(args.run, args.out or new_report_dir(),
                         title=args.title or DEFAULT_TITLE, pdf=args.pdf,
                         samples_per_run=args.samples, runs_root=args.runs,
                         cache_dir=args.cache)
    for kind, value in paths.items():
        print(f"{kind}: {value}")


def cmd_bench(args) -> None:
    from core.bench import format_table, run_all
    from core.bench.quality import run_quality

    if args.only != "quality":
        print(format_table(run_all(quick=args.quick, only=args.only,
                                   midi_folder=args.midi_folder,
                                   labelled_folder=args.labelled_folder)), flush=True)
    if args.only in ("all", "quality"):
        print(run_quality(args.quick))


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(prog="python -m core", description=__doc__,
                    formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--verbose", action="store_true",
                        help="show TensorFlow's start-up log lines (hidden by default)")
    parser.add_argument("--debug", action="store_true",
                        help="show the traceback of an error instead of one line")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=Parser)

    p = sub.add_parser("prepare", help="read, encode, split and cache a corpus (--corpus: a "
                                       "folder of MIDI files, or the default; --max-pieces 0: all)")
    _add_config_fields(p, CORPUS_FIELDS)
    p.add_argument("--cache", type=Path, default=cache_dir())
    p.add_argument("--roles", type=Path,
                   help="CSV of file, track, role (lead / accompaniment / ignore) overriding "
                        "the automatic roles; kept in the folder as roles.csv")
    p.set_defaults(func=cmd_prepare)

    p = sub.add_parser("train", help="train one run (every hyperparameter is a flag)")
    _add_config_fields(p, recipe=True)
    _add_paths(p)
    p.set_defaults(func=cmd_train, tensorflow=True)

    p = sub.add_parser("preset", help="the thesis's four runs (Tables 2/3)")
    _add_config_fields(p, ("model", "part", "max_pieces", "seed"))
    p.add_argument("--scale", default="small", choices=SCALES)
    _add_paths(p)
    p.set_defaults(func=cmd_preset, tensorflow=True)

    p = sub.add_parser("seeds", help="train k seeds of one setting (train's flags)")
    p.add_argument("--k", type=int, default=3, help="number of seeds: seed .. seed+k-1")
    _add_config_fields(p, recipe=True)
    _add_paths(p)
    p.set_defaults(func=cmd_seeds, tensorflow=True)

    p = sub.add_parser("fair", help="k seeds each of LSTM at --units, GRU at --units and GRU "
                                    "at the LSTM's parameter count")
    p.add_argument("--k", type=int, default=3, help="number of seeds per setting")
    _add_config_fields(p, recipe=True)
    _add_paths(p)
    p.set_defaults(func=cmd_fair, tensorflow=True)

    p = sub.add_parser("verdict", help="LSTM vs GRU per setting: Welch interval and p-value")
    p.add_argument("--runs", type=folder, default=runs_dir())
    p.add_argument("--metric", default="best_val_loss", choices=list(METRIC_WORDS),
                   help="what each seed contributes: a loss (lower is better) or an accuracy "
                        "(higher is better); default: best held-out loss")
    p.set_defaults(func=cmd_verdict)

    p = sub.add_parser("generate", help="generate a piece from a lead and/or accompaniment run")
    p.add_argument("--lead", type=Path, help="lead run directory")
    p.add_argument("--accompaniment", type=Path, help="accompaniment run directory")
    p.add_argument("--steps", type=whole_number_in(steps_bounds()), default=64,
                   help=f"symbols to generate per part, in {steps_bounds()} "
                        "(16th notes for Model 1)")
    p.add_argument("--decoding", action="append", type=decoding_value,
                   help=f"{parse_help()} (repeatable)")
    p.add_argument("--seed", type=whole_number_in(BOUNDS["seed"]), default=0,
                   help=f"in {BOUNDS['seed']}")
    p.add_argument("--seed-piece", help="corpus piece to seed from (default: first held-out)")
    p.add_argument("--seed-file", type=Path, help="a MIDI/MusicXML file to seed from")
    p.add_argument("--method", default="auto", choices=["auto", "window", "stateful"],
                   help="auto: stateful for runs trained with --objective sequence, else the "
                        "thesis's window re-feeding")
    p.add_argument("--cache", type=Path, default=cache_dir())
    p.set_defaults(func=cmd_generate, tensorflow=True)

    p = sub.add_parser("evaluate", help="music metrics of generated pieces vs held-out pieces")
    p.add_argument("--lead", type=Path, help="lead run directory")
    p.add_argument("--accompaniment", type=Path, help="accompaniment run directory")
    p.add_argument("--conditioned", type=Path,
                   help="also compare --accompaniment with this lead-conditioned one")
    p.add_argument("--decoding", action="append", type=decoding_value,
                   help=f"{parse_help()} (repeatable)")
    p.add_argument("--pieces", type=int, default=8, help="generated pieces per decoding")
    p.add_argument("--steps", type=whole_number_in(steps_bounds()), default=64,
                   help=f"symbols to generate per part, in {steps_bounds()}")
    p.add_argument("--seed", type=whole_number_in(BOUNDS["seed"]), default=0,
                   help=f"in {BOUNDS['seed']}")
    p.add_argument("--cache", type=Path, default=cache_dir())
    p.set_defaults(func=cmd_evaluate, tensorflow=True)

    p = sub.add_parser("runs", help="list runs with settings and metrics")
    p.add_argument("--runs", type=folder, default=runs_dir())
    p.set_defaults(func=cmd_runs)

    p = sub.add_parser("report", help="self-contained HTML (+ PDF) report of chosen runs")
    p.add_argument("--run", action="append", required=True,
                   help="run id under --runs, or a run directory (repeatable)")
    p.add_argument("--out", type=Path, default=None,
                   help="folder for report.html and files (default: a new folder under "
                        "MUSIC_REPORTS_DIR, else reports)")
    p.add_argument("--title", help="report title")
    p.add_argument("--samples", type=int, default=2, help="latest samples shown per run")
    p.add_argument("--pdf", action=argparse.BooleanOptionalAction, default=True,
                   help="also print report.pdf with chromium when installed")
    _add_paths(p)  # the cache: each run's corpus, for its baselines
    p.set_defaults(func=cmd_report, tensorflow=True)

    p = sub.add_parser("bench", help="speed and memory figures (several minutes)")
    p.add_argument("--quick", action="store_true", help="tiny sizes, to check it runs")
    from core.bench import ONLY

    p.add_argument("--only", default="all", choices=ONLY,
                   help="midi: only the lead choice, MIDI reading and 10,000-file prepare "
                        "figures; sweep: "
                        "Ray Tune's overhead per trial; objectives: time to a held-out loss, "
                        "sequence vs window objective; generation: stateful vs window; "
                        "quality: the demo recipe's music against held-out pieces and the "
                        "ceiling, beside the thesis's method")
    p.add_argument("--midi-folder", type=Path,
                   help="also time reading this folder of your own MIDI files")
    p.add_argument("--labelled-folder", type=Path,
                   help="also measure the lead choice on this folder of MIDI files whose "
                        "melody tracks are known (its labels.csv: file, melody, bass, "
                        "non_melodic track numbers)")
    p.set_defaults(func=cmd_bench, tensorflow=True)

    p = sub.add_parser("worker", help="train queued runs one at a time (the dashboard starts it)")
    p.add_argument("--idle-exit", type=float, default=5.0)
    _add_paths(p)
    p.set_defaults(func=cmd_worker)

    p = sub.add_parser("train-run", help="train one queued run directory (used by the worker)")
    p.add_argument("run_dir", type=Path)
    p.add_argument("--resume", action="store_true", help="continue from its last epoch")
    p.add_argument("--cache", type=Path, default=cache_dir())
    p.set_defaults(func=cmd_train_run, tensorflow=True)

    p = sub.add_parser("resume", help="continue a killed, failed or cancelled run from its "
                                      "last complete epoch (in this process)")
    p.add_argument("run", help="run id under --runs, or a run directory")
    _add_paths(p)
    p.set_defaults(func=cmd_resume, tensorflow=True)

    from core.sweeps.command import add_sweep_commands

    add_sweep_commands(sub, _add_config_fields, _add_paths)
    return parser


@contextmanager
def progress_bar(what: str, total: int | None,
                 detail: str = "") -> Iterator[Callable[..., None]]:
    """The CLI's one progress bar (rich, on stderr, drawn only on a terminal): what, bar,
    n of m, `detail` (a rich format of the task's fields, e.g. "{task.fields[kept]} kept"),
    elapsed and remaining time. Yields `update(completed=None, total=None, **fields)`;
    without `completed` it counts one more."""
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        SpinnerColumn,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    columns = [SpinnerColumn(), TextColumn("{task.description}"), BarColumn(),
               MofNCompleteColumn(), *([TextColumn(detail)] if detail else []),
               TimeElapsedColumn(), TimeRemainingColumn()]
    fields = {name: 0 for name in re.findall(r"task\.fields\[(\w+)\]", detail)}
    console = Console(stderr=True)
    with Progress(*columns, console=console, transient=True,
                  disable=not console.is_terminal) as progress:
        task = progress.add_task(what, total=total, **fields)

        def update(completed: int | None = None, total: int | None = None,
                   **values: Any) -> None:
            if completed is None:
                progress.advance(task)
            changes = {"total": total} if total is not None else {}
            if completed is not None:
                changes["completed"] = completed
            progress.update(task, **changes, **values)

        yield update


@contextmanager
def epoch_bar(config: TrainConfig, done: int = 0) -> Iterator[Callable[[dict], None]]:
    """A bar over a run's epochs (with the time left) that prints each finished epoch's
    numbers above it; yields the training's on_epoch callback."""
    with progress_bar(f"training {config.cell.upper()} {config.layers}x{config.units}",
                      config.epochs) as update:
        update(done)

        def on_epoch(row: dict) -> None:
            _print_epoch(row)
            update(int(row["epoch"]))

        yield on_epoch


def import_tensorflow_quietly() -> None:
    """Import TensorFlow with its start-up lines (oneDNN, CPU features, absl) held back:
    it writes them to file descriptor 2 before any log level applies. They are shown only
    if the import fails, or with --verbose."""
    from core.processes import stderr_held_back

    with stderr_held_back():
        import tensorflow  # noqa: F401


def user_message(exc: BaseException) -> str:
    """One line for an error the user can act on: the project's own messages as they are,
    a file system error as the path and the reason (a full disk said plainly)."""
    from core.files import disk_full

    if isinstance(exc, OSError) and not isinstance(exc, USER_ERRORS):
        reason = "no space left on the device" if disk_full(exc) else \
            (exc.strerror or str(exc)).lower()
        return f"{reason}: {exc.filename}" if exc.filename else reason
    return str(exc)


def main(argv: list[str] | None = None) -> int:
    """Run one command; a user's error is one line on stderr and exit status 2 (130 for
    Ctrl-C), the traceback only with --debug."""
    args = build_parser().parse_args(argv)
    notes = logging.StreamHandler(sys.stderr)  # a fallback core took, as "note: ..."
    notes.setFormatter(logging.Formatter("note: %(message)s"))
    logging.getLogger("core").addHandler(notes)
    try:
        if getattr(args, "tensorflow", False) and not args.verbose:
            import_tensorflow_quietly()
        args.func(args)
    except KeyboardInterrupt:
        if args.debug:
            raise
        print("error: interrupted", file=sys.stderr)
        return 130
    except (*USER_ERRORS, OSError) as exc:
        if args.debug:
            raise
        print(f"error: {user_message(exc)}", file=sys.stderr)
        return 2
    finally:
        logging.getLogger("core").removeHandler(notes)
    return 0
