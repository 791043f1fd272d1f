"""Writes assets/demo-seed.mid, the ready seed file the Listen page offers.

The first bars of the first Bach chorale of music21's bundled corpus (bwv1.6): the soprano
as the lead and the lower voices merged into chords as the accompaniment, exactly as the
default corpus reads a chorale (core.data.prepare), written as a two-instrument MIDI file
by the same rendering as every generated sample (core.rendering.piece.piece_score). Being
the first piece of the default corpus, its symbols are in the vocabulary of any run trained
on it, however few pieces it used. Rerun after changing the encoding or the writer:

    python scripts/make_demo_seed.py
"""
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from core.assets import DEMO_SEED, asset_path  # noqa: E402
from core.data.corpus import DEFAULT_CORPUS, PARTS  # noqa: E402
from core.data.prepare import prepare_corpus  # noqa: E402
from core.data.timeline import PartSymbols  # noqa: E402
from core.rendering.piece import piece_score  # noqa: E402
from core.rendering.score import write_midi  # noqa: E402

STEPS = 128  # sixteenth steps from the start: enough for a window of 64


def main(path: Path = asset_path(DEMO_SEED)) -> None:
    with tempfile.TemporaryDirectory() as cache:
        piece = prepare_corpus(DEFAULT_CORPUS, max_pieces=1, cache_dir=cache).pieces[0]
    parts = {name: PartSymbols({"steps": piece.part(name).steps[:STEPS]}, 1, "pitch_class")
             for name in PARTS}
    written = write_midi(piece_score(parts), path)
    print(f"{written}: the first {STEPS} sixteenths of {piece.name}")


if __name__ == "__main__":
    main()
