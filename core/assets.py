"""The static files of the top-level assets/ folder: the report's template and stylesheet,
the app's stylesheet and icon, and the demo seed MIDI file.

They are found relative to this file, not the working directory, so the CLI, the worker, the
tests and `streamlit run` all load the same files from wherever they start.
"""
from __future__ import annotations

from pathlib import Path

ASSETS_DIR = Path(__file__).resolve().parents[1] / "assets"
REPORT_TEMPLATE = "report.html"   # string.Template: $title $style $plotlyjs $meta $nav $body
REPORT_STYLE = "report.css"
APP_STYLE = "app.css"
ICON = "icon.svg"
DEMO_SEED = "demo-seed.mid"       # written by scripts/make_demo_seed.py


def asset_path(name: str) -> Path:
    """The path of one asset (it may not exist yet: scripts write some of them)."""
    return ASSETS_DIR / name


def read_asset(name: str) -> str:
    """One text asset's content; FileNotFoundError naming the file when it is missing."""
    path = asset_path(name)
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise FileNotFoundError(f"the asset {name} is missing from {ASSETS_DIR}") from exc
