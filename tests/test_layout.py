"""The thesis's corpus layout (a lead file and an accompaniment file per song) and the lead's
line (its top line, or the whole lead with its chords): prepared, trained, seeded, generated,
rendered and measured on tiny songs written here with symusic."""
from __future__ import annotations

import numpy as np
import pytest

from core.data.corpus import CorpusError
from core.data.encoding import encode_parts
from core.data.labelled import write_band
from core.data.midi import read_midi
from core.data.notes import symbol_notes
from core.data.prepare import prepare_corpus
from core.data.timeline import PartSymbols
from core.evidence.metrics import piece_metrics
from core.runs.training import train
from core.sampling.decoding import Decoding
from core.sampling.generation import generate
from tests.tiny import tiny_config

TUNE = [72, 74, 76, 77, 79, 77, 76, 74]


def right_hand(bars: int = 4, shift: int = 0, start: float = 0.0):
    """A tune in quarters with a third under every other note: a lead that plays chords."""
    notes = []
    for i in range(bars * 4):
        top = TUNE[i % len(TUNE)] + shift
        notes.append((start + i, 1.0, top))
        if i % 2 == 0:
            notes.append((start + i, 1.0, top - 4))
    return notes


def left_hand(bars: int = 4):
    return [(bar * 4.0 + beat, 1.0, p) for bar in range(bars) for beat in range(4)
            for p in ((48, 55) if beat % 2 == 0 else (43,))]


def song(folder, name: str, shift: int = 0, lead_start: float = 0.0, drums: bool = True):
    """A song as the thesis kept it: lead/<name> and accompaniment/<name>."""
    lead = [("Right hand", 0, False, right_hand(shift=shift, start=lead_start))]
    if drums:
        lead.append(("Drums", 0, True, [(b, 0.25, 36) for b in range(16)]))
    write_band(folder / "lead" / name, lead)
    write_band(folder / "accompaniment" / name,
               [("Bass", 33, False, [(b * 2.0, 2.0, 36 + shift) for b in range(8)]),
                ("Left hand", 0, False, [(o, d, p + shift) for o, d, p in left_hand()])])


def encoded(notes) -> list[str]:
    """Model 1 steps of one part given as (start, end, pitch) arrays on the grid."""
    part = encode_parts([notes])[0]
    return part.streams()["steps"]


def pitched(path) -> tuple[np.ndarray, ...]:
    grid = read_midi(path)
    keep = ~np.array([grid.tracks[t].is_drum for t in grid.track], bool)
    return grid.start[keep], grid.end[keep], grid.pitch[keep]


@pytest.fixture(scope="module")
def songs(tmp_path_factory):
    folder = tmp_path_factory.mktemp("thesis")
    for i, name in enumerate(("a.mid", "b.mid", "c.mid", "sub/d.mid")):
        song(folder, name, shift=i)
    write_band(folder / "lead" / "alone.mid", [("Lead", 0, False, right_hand())])
    write_band(folder / "accompaniment" / "orphan.mid", [("Keys", 0, False, left_hand())])
    write_band(folder / "stray.mid", [("Keys", 0, False, left_hand())])
    return folder


def test_each_song_is_exactly_its_lead_file_over_its_accompaniment_file(songs, tmp_path):
    corpus = prepare_corpus(songs, cache_dir=tmp_path, workers=1, val_fraction=0.25)
    assert sorted(p.name for p in corpus.pieces) == ["a.mid", "b.mid", "c.mid", "sub/d.mid"]
    assert (corpus.settings["layout"], corpus.settings["lead_line"]) == ("pairs", "whole")
    piece = corpus.piece("b.mid")
    assert piece.lead.steps == encoded(pitched(songs / "lead" / "b.mid"))  # chords and all
    assert any("." in s for s in piece.lead.steps)                           # a chord leads
    assert piece.accompaniment.steps == encoded(pitched(songs / "accompaniment" / "b.mid"))
    report = {r.file: r for r in corpus.report}
    assert report["b.mid"].lead == "Right hand (#1)" and report["b.mid"].confidence == 1.0
    assert report["b.mid"].accompaniment == "Bass (#3) + Left hand (#4)"
    assert report["lead/alone.mid"].reason.startswith("no accompaniment file for this song")
    assert report["accompaniment/orphan.mid"].reason.startswith("no lead file for this song")
    assert report["stray.mid"].reason.startswith("outside lead/ and accompaniment/")
    assert [report[f].status for f in ("lead/alone.mid", "accompaniment/orphan.mid",
                                       "stray.mid")] == ["skipped"] * 3


def test_the_top_line_setting_keeps_one_note_at_a_time_and_its_own_cache(songs, tmp_path):
    whole = prepare_corpus(songs, cache_dir=tmp_path, workers=1)
    top = prepare_corpus(songs, cache_dir=tmp_path, workers=1, lead_line="top")
    assert top.key != whole.key and top.settings["lead_line"] == "top"
    lead = top.piece("a.mid").lead.steps
    assert not any("." in s for s in lead) and lead[0] == "72"
    with pytest.raises(CorpusError, match="lead_line must be one of"):
        prepare_corpus(songs, cache_dir=tmp_path, lead_line="melody")


def test_the_halves_keep_their_time_line_when_the_lead_comes_in_later(tmp_path):
    song(tmp_path / "late", "a.mid", lead_start=4.0, drums=False)
    corpus = prepare_corpus(tmp_path / "late", cache_dir=tmp_path / "cache", workers=1,
                            val_fraction=0)
    steps = corpus.piece("a.mid").lead.steps
    assert steps[0] == "r" and steps[1:16] == ["_"] * 15 and steps[16] != "_"  # a bar's rest


def test_a_folder_without_a_single_whole_song_is_refused(tmp_path):
    write_band(tmp_path / "lead" / "x.mid", [("Lead", 0, False, right_hand())])
    (tmp_path / "accompaniment").mkdir()
    with pytest.raises(CorpusError, match="no song in .* has both a file in lead/"):
        prepare_corpus(tmp_path, cache_dir=tmp_path / "cache")


def test_a_chordal_lead_trains_seeds_generates_renders_and_measures(songs, tmp_path):
    config = tiny_config(corpus=str(songs), max_pieces=0, window=4, epochs=1, val_fraction=0.25)
    run = train(config, tmp_path / "runs", tmp_path / "cache")
    sample = generate({"lead": run}, 8, [Decoding()], seed_file=songs / "lead" / "a.mid",
                      cache_dir=tmp_path / "cache")[0]
    seed = sample.symbols["lead"]["steps"][:config.window]
    assert any("." in s for s in seed)        # the seed file's lead came with its chords
    assert {"midi", "wav"} <= set(sample.files)
    notes = symbol_notes(PartSymbols(sample.symbols["lead"], 1, config.chord_mode), "lead")
    metrics = piece_metrics(notes, sample.symbols["lead"]["steps"])
    assert metrics["polyphony"] > 1.0         # the chords are measured as chords
