"""Where an output folder may be written (`report --out`): an empty or new folder, or one
holding nothing but an earlier output of the same kind. A folder of other files (a home
folder, `/`) is refused before anything is written, so an output never overwrites or
deletes a file it did not write.
"""
from __future__ import annotations

from pathlib import Path
from typing import Iterable


class OutputFolderError(ValueError):
    """An output folder that cannot be used; the message names it and says why."""


def output_folder(out_dir: Path | str, own: Iterable[str], marker: str) -> Path:
    """`out_dir`, created if needed, once it is checked to be safe to write into: empty,
    or holding only names in `own` (what the output writes) including `marker` (the file
    that shows an earlier output is there). Raises OutputFolderError otherwise."""
    out_dir = Path(out_dir)
    if out_dir.exists() and not out_dir.is_dir():
        raise OutputFolderError(f"{out_dir} is a file: give a folder for the output")
    names = {p.name for p in out_dir.iterdir()} if out_dir.is_dir() else set()
    strangers = sorted(names - set(own))
    if strangers:
        shown = ", ".join(strangers[:3]) + (", ..." if len(strangers) > 3 else "")
        raise OutputFolderError(f"{out_dir} holds files this output does not write ({shown}): "
                                "give an empty or new folder, or an earlier output's folder")
    if names and marker not in names:
        raise OutputFolderError(f"{out_dir} is not empty and has no {marker}, so it is not an "
                                "earlier output's folder: give an empty or new folder")
    out_dir.mkdir(parents=True, exist_ok=True)
    return out_dir
