"""Times the Compare page over N synthetic run directories (for `python -m core bench`).

The runs are written in the exact format core.runs writes, into temporary folders, and the
page is rendered with Streamlit's AppTest (see main for the three times it prints).
"""
import os
import sys
import tempfile
import time
from pathlib import Path

from streamlit.testing.v1 import AppTest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from scripts.synthetic_runs import write_synthetic_run  # noqa: E402


def render_seconds(app: AppTest) -> float:
    started = time.perf_counter()
    app.run()
    if app.exception:
        raise SystemExit(f"the page raised: {app.exception}")
    return time.perf_counter() - started


def main(count: int) -> None:
    """Prints three times: a first render in this fresh process (Python imports included),
    a first render of the runs with imports done but every data cache empty (what a user
    sees on opening Compare in a running app), and a rerun (the next interaction)."""
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["MUSIC_CACHE_DIR"] = str(Path(tmp) / "cache")
        os.chdir(ROOT)
        page = str(ROOT / "views" / "compare.py")
        times = []
        for name in ("a", "b"):  # two folders, so the second starts with empty caches
            runs = Path(tmp) / name
            for i in range(count):
                write_synthetic_run(runs, i)
            os.environ["MUSIC_RUNS_DIR"] = str(runs)
            app = AppTest.from_file(page, default_timeout=120)
            times.append(render_seconds(app))
        times.append(render_seconds(app))
        print(" ".join(f"{t:.3f}" for t in times))


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 200)
