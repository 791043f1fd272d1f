"""Where the lab keeps its files: runs, the corpus cache, uploads, sweeps and reports.

Each folder has a default under the working directory and an environment variable that
moves it (MUSIC_RUNS_DIR, MUSIC_CACHE_DIR, MUSIC_UPLOADS_DIR, MUSIC_SWEEPS_DIR,
MUSIC_REPORTS_DIR). The dashboard (views.common) and the command line (the defaults of its
--runs, --cache, --sweeps and --out flags; a flag given wins) both read them here, so a
command and the page see the same runs, corpora, uploads, sweeps and reports.
"""
from __future__ import annotations

import os
from pathlib import Path

from core.files import folder_stamp

FOLDERS = {"runs": ("MUSIC_RUNS_DIR", "runs"), "cache": ("MUSIC_CACHE_DIR", "cache"),
           "uploads": ("MUSIC_UPLOADS_DIR", "uploads"), "sweeps": ("MUSIC_SWEEPS_DIR", "sweeps"),
           "reports": ("MUSIC_REPORTS_DIR", "reports")}


def folder(kind: str) -> Path:
    """One of FOLDERS: its environment variable when set (and not empty), else its default."""
    variable, default = FOLDERS[kind]
    return Path(os.environ.get(variable) or default)


def runs_dir() -> Path:
    """The runs folder: one sub-folder per training run."""
    return folder("runs")


def cache_dir() -> Path:
    """The corpus cache, shared by the dashboard, its worker and the command line."""
    return folder("cache")


def sweeps_dir() -> Path:
    """Where sweeps are saved (sweeps/<id>/sweep.json, progress.json); their trials' runs
    live in the runs folder."""
    return folder("sweeps")


def reports_dir() -> Path:
    """Where defense reports are written, one folder per report."""
    return folder("reports")


def uploads_dir() -> Path:
    """Where uploaded corpora are saved, one folder per upload."""
    return folder("uploads")


def new_report_dir() -> Path:
    """A fresh report folder under the reports folder, named by the time."""
    return reports_dir() / f"report-{folder_stamp()}"


def corpus_source(corpus: str) -> str:
    """A corpus as given on the command line: a folder as it is, or the name of an upload
    (its folder under the uploads folder, as the dashboard lists it) when no folder of that
    name is here."""
    if corpus and not Path(corpus).is_dir() and (uploads_dir() / corpus).is_dir():
        return str(uploads_dir() / corpus)
    return corpus
