"""Times the Compare page over N synthetic run directories (for `python -m core bench`).

The runs are written in the exact format core.runs writes, into a temporary folder, and the
page is rendered twice with Streamlit's AppTest: the first render reads every run, the second
shows what a user sees on the next interaction (cached reads). Prints the two times in seconds.
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


def main(count: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        runs = Path(tmp) / "runs"
        runs.mkdir()
        for i in range(count):
            write_synthetic_run(runs, i)
        os.environ["MUSIC_RUNS_DIR"] = str(runs)
        os.environ["MUSIC_CACHE_DIR"] = str(Path(tmp) / "cache")
        os.chdir(ROOT)
        app = AppTest.from_file(str(ROOT / "views" / "compare.py"), default_timeout=120)
        started = time.perf_counter()
        app.run()
        first = time.perf_counter() - started
        started = time.perf_counter()
        app.run()
        second = time.perf_counter() - started
        if app.exception:
            raise SystemExit(f"the page raised: {app.exception}")
        print(f"{first:.3f} {second:.3f}")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 200)
