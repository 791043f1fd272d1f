"""Run folders in core.runs' exact format with made-up numbers, for timing the Compare page
with hundreds of runs (the benchmark and one page test). Never used to draw a real result."""
import csv
import json
from pathlib import Path


def write_synthetic_run(root: Path, i: int, epochs: int = 30) -> Path:
    """config.json, status.json and history.csv of a finished run numbered `i`."""
    cell = "lstm" if i % 2 else "gru"
    run = root / f"20260101-{i:06d}-m1-lead-{cell}-2x{32 + i}-s{i}"
    run.mkdir(parents=True)
    config = {"model": 1, "cell": cell, "units": 32 + i, "layers": 1 + i % 3,
              "dropout_layers": 1, "window": 32, "batch_size": 64, "epochs": epochs,
              "learning_rate": 0.002, "seed": i, "part": "lead", "label": ""}
    gates = 4 if cell == "lstm" else 3  # parameter counts grow with width as real ones do
    params = gates * config["units"] * (config["units"] + 100) * config["layers"]
    (run / "config.json").write_text(json.dumps({"run_id": run.name, "created": "2026-01-01",
                                                 "config": config, "parameters": params}))
    (run / "status.json").write_text(json.dumps({"state": "finished", "epoch": epochs}))
    with (run / "history.csv").open("w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["epoch", "accuracy", "loss", "val_loss", "val_accuracy", "seconds",
                         "elapsed"])
        for e in range(1, epochs + 1):
            writer.writerow([e, 1 - 1 / (e + 1), 3 / e + i * 1e-3, 3.2 / e, 0.9 - 1 / (e + 2),
                             1.0, float(e)])
    return run
