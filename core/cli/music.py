"""`python -m core generate` and `evaluate`: samples from trained runs, and their music
metrics against the held-out pieces."""
from __future__ import annotations

from pathlib import Path

from core.cli.flags import decoding_value, steps_bounds, whole_number_in
from core.cli.progress import progress_bar
from core.folders import cache_dir
from core.nets.config import BOUNDS
from core.sampling.decoding import Decoding, GenerationError, parse_help


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


def add_generate(sub) -> None:
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


def add_evaluate(sub) -> None:
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

