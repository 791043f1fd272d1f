"""The CLI's flags that several commands share, made from the settings' own tables: one flag
per TrainConfig field (its default, BOUNDS and CHOICES), so no command can allow what
`TrainConfig.validate` refuses or lag behind it; the folders (core.folders: a flag given
wins); whole numbers and decodings within their bounds, refused in one line.
"""
from __future__ import annotations

import argparse
import dataclasses
from pathlib import Path
from typing import Callable

from core.folders import cache_dir, corpus_source, runs_dir
from core.nets.config import BOUNDS, CHOICES, RECIPES, Bounds, TrainConfig, recipe
from core.sampling.decoding import Decoding, GenerationError


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


def add_paths(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--runs", type=folder, default=runs_dir(),
                        help="runs folder (default: MUSIC_RUNS_DIR, else runs)")
    parser.add_argument("--cache", type=folder, default=cache_dir(),
                        help="corpus cache folder (default: MUSIC_CACHE_DIR, else cache)")


class Given(argparse.Action):
    """Stores a flag's value and notes that it was given, so a --recipe fills in only the
    settings the command line leaves out."""

    def __call__(self, parser, namespace, values, option_string=None) -> None:
        setattr(namespace, self.dest, values)
        namespace.given = {*getattr(namespace, "given", ()), self.dest}


class GivenSwitch(argparse.BooleanOptionalAction):
    def __call__(self, parser, namespace, values, option_string=None) -> None:
        super().__call__(parser, namespace, values, option_string)
        namespace.given = {*getattr(namespace, "given", ()), self.dest}


def add_config_fields(parser: argparse.ArgumentParser,
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
            parser.add_argument(flag, action=GivenSwitch, default=f.default)
        else:
            kind = {"int": int, "float": float}.get(str(f.type), str)
            allowed = CHOICES.get(f.name) or BOUNDS.get(f.name)
            where = f"; one of {', '.join(map(str, allowed))}" if f.name in CHOICES else \
                f"; in {allowed}" if allowed else ""
            parser.add_argument(flag, type=kind, default=f.default, metavar=f.name.upper(),
                                action=Given, help=f"default {f.default}{where}")


def config_from(args: argparse.Namespace) -> TrainConfig:
    """The validated TrainConfig of the flags a command has (its --recipe's settings where
    a flag is not given); defaults for the others."""
    names = [f.name for f in dataclasses.fields(TrainConfig) if hasattr(args, f.name)]
    values = {n: getattr(args, n) for n in names}
    given = getattr(args, "given", set())
    named = recipe(getattr(args, "recipe", "demo"), values.get("model", TrainConfig.model))
    values.update({k: v for k, v in named.items() if k not in given})
    if "corpus" in values:
        values["corpus"] = corpus_source(values["corpus"])
    return TrainConfig(**values).validate()

