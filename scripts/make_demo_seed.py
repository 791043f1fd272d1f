"""Writes assets/demo-seed.mid, the ready seed file the Listen page offers.

The first bars of the first Bach chorale of music21's bundled corpus (bwv1.6): the soprano
as the lead and the lower voices merged into chords as the accompaniment, exactly as the
default corpus reads a chorale (core.data.scores.split_parts), written as a two-instrument
MIDI file by the same writer as every generated sample (core.rendering.score). Being the first
piece of the default corpus, its symbols are in the vocabulary of any run trained on it,
however few pieces it used. Rerun after changing the encoding or the writer:

    python scripts/make_demo_seed.py
"""
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from music21 import corpus  # noqa: E402

from core.assets import DEMO_SEED, asset_path  # noqa: E402
from core.data.prepare import default_corpus_files  # noqa: E402
from core.data.scores import split_parts  # noqa: E402
from core.rendering.score import combine_parts, write_midi  # noqa: E402

BARS = 8  # measures 0 (the pick-up) to 8: 128 sixteenth steps, enough for a window of 64


def main() -> None:
    first = default_corpus_files(max_pieces=1)[0]
    excerpt = corpus.parse(first).measures(0, BARS)
    lead, accompaniment = split_parts(excerpt, "chorale")
    path = write_midi(combine_parts(lead, accompaniment), asset_path(DEMO_SEED))
    print(f"{path.relative_to(ROOT)}: bars 0-{BARS} of {first.stem}")


if __name__ == "__main__":
    main()
