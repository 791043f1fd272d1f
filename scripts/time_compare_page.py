"""Times the Compare page over N synthetic run directories (for `python -m core bench`).

The runs are written in the exact format core.runs writes, into a temporary folder, and the
page is rendered twice with Streamlit's AppTest: the first render reads every run, the second
shows what a user sees on the next interaction (cached reads). Prints the two times in seconds.
"""
import csv
import json
import os
import sys
import tempfile
import time
from pathlib import Path

from streamlit.testing.v1 import AppTest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def write_run(root: Path, i: int, epochs: int = 30) -> None:
    run = root / f"20260101-000000-m1-lead-{'lstm' if i % 2 else 'gru'}-2x{32 + i}-s{i}"
    run.mkdir()
    config = {"model": 1, "cell": "lstm" if i % 2 else "gru", "units": 32 + i, "layers": 2,
              "dropout_layers": 1, "window": 32, "batch_size": 64, "epochs": epochs,
              "learning_rate": 0.002, "seed": i, "part": "lead", "objective": "window"}
    (run / "config.json").write_text(json.dumps({"run_id": run.name, "created": "2026-01-01",
                                                 "config": config, "parameters": 1000 + i}))
    (run / "status.json").write_text(json.dumps({"state": "finished", "epoch": epochs}))
    with (run / "history.csv").open("w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["epoch", "loss", "accuracy", "val_loss", "val_accuracy", "seconds",
                         "elapsed"])
        for e in range(1, epochs + 1):
            writer.writerow([e, 3 / e + i * 1e-3, 1 - 1 / (e + 1), 3.2 / e, 0.9 - 1 / (e + 2),
                             1.0, float(e)])


def main(count: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        runs = Path(tmp) / "runs"
        runs.mkdir()
        for i in range(count):
            write_run(runs, i)
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
