"""`python -m core runs`, `verdict`, `report` and `bench`: what the runs say, and the speed
and memory figures."""
from __future__ import annotations

import argparse
from pathlib import Path

from core.cli.flags import add_paths, folder
from core.evidence.verdict import METRIC_WORDS
from core.folders import new_report_dir, runs_dir


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


def cmd_verdict(args) -> None:
    from core.evidence.verdict import described, shown_columns, verdict_table
    from core.runs.listing import runs_table

    table = verdict_table(runs_table(args.runs), metric=args.metric)
    if table.empty:
        print("no finished LSTM and GRU settings that differ only in cell (and units) yet")
        return
    print(table[shown_columns(table)].to_string(index=False,
                                                float_format=lambda v: f"{v:.4g}"))
    for kind, about, sentence in described(table):
        print(f"{kind}, {about}: {sentence}")


def cmd_report(args) -> None:
    from core.outputs.report import DEFAULT_TITLE, build_report

    paths = build_report(args.run, args.out or new_report_dir(),
                         title=args.title or DEFAULT_TITLE, pdf=args.pdf,
                         samples_per_run=args.samples, runs_root=args.runs,
                         cache_dir=args.cache)
    for kind, value in paths.items():
        print(f"{kind}: {value}")


def cmd_bench(args) -> None:
    from core.bench import run_all
    from core.bench.figure import format_table
    from core.bench.quality import run_quality

    if args.only != "quality":
        print(format_table(run_all(quick=args.quick, only=args.only,
                                   midi_folder=args.midi_folder,
                                   labelled_folder=args.labelled_folder)), flush=True)
    if args.only in ("all", "quality"):
        print(run_quality(args.quick))


def add_verdict(sub) -> None:
    p = sub.add_parser("verdict", help="LSTM vs GRU per setting: Welch interval and p-value")
    p.add_argument("--runs", type=folder, default=runs_dir())
    p.add_argument("--metric", default="best_val_loss", choices=list(METRIC_WORDS),
                   help="what each seed contributes: a loss (lower is better) or an accuracy "
                        "(higher is better); default: best held-out loss")
    p.set_defaults(func=cmd_verdict)


def add_runs(sub) -> None:
    p = sub.add_parser("runs", help="list runs with settings and metrics")
    p.add_argument("--runs", type=folder, default=runs_dir())
    p.set_defaults(func=cmd_runs)


def add_report(sub) -> None:
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
    add_paths(p)  # the cache: each run's corpus, for its baselines
    p.set_defaults(func=cmd_report, tensorflow=True)


def add_bench(sub) -> None:
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

