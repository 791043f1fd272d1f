"""The CLI's one progress bar (rich, on stderr, drawn only on a terminal) and the bar over a
run's epochs that prints each finished epoch above it.
"""
from __future__ import annotations

import re
from contextlib import contextmanager
from typing import Any, Callable, Iterator

from core.nets.config import TrainConfig


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


def _print_epoch(row: dict) -> None:
    shown = {k: round(v, 4) for k, v in row.items() if isinstance(v, float)}
    print(f"epoch {row['epoch']}: {shown}", flush=True)


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

