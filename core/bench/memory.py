"""Memory of a command and its worker processes together, sampled from /proc while it runs
(a pool's workers are separate processes: the parent's own peak would hide them)."""
from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path


def tree_rss(pid: int) -> int:
    """Resident bytes of a process and all its descendants (Linux /proc)."""
    parents: dict[int, int] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
            parents[int(stat.parent.name)] = int(fields[1])
        except (OSError, IndexError, ValueError):
            continue
    tree, total = {pid}, 0
    for _ in range(4):
        tree |= {p for p, parent in parents.items() if parent in tree}
    for member in tree:
        try:
            total += int(Path(f"/proc/{member}/statm").read_text().split()[1])
        except (OSError, IndexError, ValueError):
            continue
    return total * os.sysconf("SC_PAGE_SIZE")


def measured(command: list[str]) -> tuple[float, float]:
    """(seconds, peak resident MB of the command and its worker processes together)."""
    started = time.perf_counter()
    proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    peak = 0
    while proc.poll() is None:
        peak = max(peak, tree_rss(proc.pid))
        time.sleep(0.1)
    if proc.returncode:
        raise RuntimeError(f"{' '.join(command)} failed with code {proc.returncode}")
    return time.perf_counter() - started, peak / 2**20
