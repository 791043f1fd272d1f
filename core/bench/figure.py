"""One measured figure of the bench, and the table the bench prints: each figure beside its
target and its ratio, so a person reads how far off (or ahead) it is."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass
class Figure:
    name: str
    value: float
    unit: str
    target: str = ""
    ratio: float | None = None


def format_table(figures: list[Figure]) -> str:
    lines = [f"{'figure':<80} {'value':>12} {'unit':<10} {'ratio':>8}  target"]
    for f in figures:
        ratio = f"{f.ratio:.1f}x" if f.ratio is not None else ""
        lines.append(f"{f.name:<80} {f.value:>12.3f} {f.unit:<10} {ratio:>8}  {f.target}")
    return "\n".join(lines)
