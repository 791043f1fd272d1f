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
import logging
import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from core.cli import corpus, music, results, sweeps, training  # noqa: E402
from core.cli.flags import Parser  # noqa: E402
from core.data.corpus import CorpusError  # noqa: E402
from core.files import RunError  # noqa: E402
from core.nets.config import ConfigError  # noqa: E402
from core.outputs.destination import OutputFolderError  # noqa: E402
from core.sampling.decoding import GenerationError  # noqa: E402

USER_ERRORS = (ConfigError, CorpusError, GenerationError, RunError, OutputFolderError)
# Each command's parser, in the order `--help` lists them (one small builder per command,
# beside the command it runs).
COMMANDS = (corpus.add_prepare, training.add_train, training.add_preset, training.add_seeds,
            training.add_fair, training.add_demo, results.add_verdict, music.add_generate,
            music.add_evaluate, results.add_runs, results.add_report, results.add_bench,
            training.add_worker, training.add_train_run, training.add_resume,
            sweeps.add_sweep, sweeps.add_sweeps, sweeps.add_sweep_cancel)


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(prog="python -m core", description=__doc__,
                    formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--verbose", action="store_true",
                        help="show TensorFlow's start-up log lines (hidden by default)")
    parser.add_argument("--debug", action="store_true",
                        help="show the traceback of an error instead of one line")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=Parser)
    for add in COMMANDS:
        add(sub)
    return parser


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

