"""Bench figures of the dashboard: the Compare page with hundreds of runs, rendered by
Streamlit's AppTest in a separate process (core itself never imports Streamlit)."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from core.bench.figure import Figure


def bench_compare_page(runs: int) -> list[Figure]:
    """The Compare page with `runs` run directories, rendered by Streamlit's AppTest in a
    separate process (core itself never imports Streamlit)."""
    script = Path(__file__).resolve().parents[2] / "scripts" / "time_compare_page.py"
    out = subprocess.run([sys.executable, str(script), str(runs)], capture_output=True,
                         text=True, check=False)
    try:
        cold, first, again = (float(v) for v in out.stdout.split()[-3:])
    except ValueError:
        return [Figure("Compare page render", float("nan"), "s", out.stderr[-300:])]
    return [Figure(f"Compare page, {runs} runs, fresh process (imports included)", cold, "s"),
            Figure(f"Compare page, {runs} runs, first render", first, "s", "< 1.5 s"),
            Figure(f"Compare page, {runs} runs, next render", again, "s", "< 1.5 s")]
