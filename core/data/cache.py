"""The prepared corpus on disk: one JSON file keyed by file contents and settings, written
atomically, with the per-file report beside it as CSV.
"""
from __future__ import annotations

import csv
import hashlib
import json
import os
from dataclasses import asdict
from pathlib import Path
from typing import Any, Iterable

from core.data.corpus import Corpus, FileReport, PartData, Piece

def files_key(files: list[Path], settings: dict[str, Any]) -> str:
    digest = hashlib.sha256(json.dumps(settings, sort_keys=True).encode())
    for path in files:
        digest.update(path.as_posix().encode())  # the whole path: piece names include sub-folders
        digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()


def save_corpus(corpus: Corpus, path: Path) -> None:
    """JSON next to a CSV report; written to a temporary name first so a kill leaves no
    half-written cache that a later prepare would trust."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(asdict(corpus)))
    os.replace(tmp, path)
    write_report_csv(corpus.report, path.with_suffix(".report.csv"))


def write_report_csv(report: Iterable[FileReport], path: Path) -> None:
    with path.open("w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=["file", "status", "reason"])
        writer.writeheader()
        writer.writerows(asdict(r) for r in report)


def load_corpus(path: Path) -> Corpus:
    data = json.loads(Path(path).read_text())
    pieces = [Piece(p["name"], p["source"], p["split"], PartData(**p["lead"]),
                    PartData(**p["accompaniment"]) if p["accompaniment"] else None)
              for p in data["pieces"]]
    return Corpus(data["corpus_id"], data["key"], data["settings"], pieces,
                  [FileReport(**r) for r in data["report"]])
