"""Reading folders of scores the thesis's way, the report, the held-out split, the cache."""
from __future__ import annotations

import shutil

import pytest
from music21 import converter, instrument, note, stream

import core.data.cache as cache_mod
import core.data.prepare as corpus_mod
from core.data.cache import load_corpus
from core.data.corpus import CorpusError
from core.data.pieces import read_piece
from core.data.prepare import _holdout, prepare_corpus
from core.data.scores import _is_drums
from tests.fixtures import (
    HIGH,
    LOW,
    build_mixed_folder,
    melody,
    write_corrupt,
    write_drums,
    write_score,
)

KEPT = {"two.mid", "melody_low.mid", "one.mid", "band.mid", "sub/duet.musicxml", "three.mid"}
SKIPPED = {"corrupt.mid": "not a MIDI file", "empty.mid": "empty file",
           "drums.mid": "no pitched notes (drums only)"}


def symbols(midis):
    return [str(m) for m in midis]


@pytest.fixture(scope="module")
def mixed(tmp_path_factory):
    folder = tmp_path_factory.mktemp("mixed")
    build_mixed_folder(folder)
    cache = tmp_path_factory.mktemp("cache")
    return folder, cache, prepare_corpus(folder, cache_dir=cache, workers=1)


def test_report_names_every_score_file_with_a_reason(mixed):
    _, _, corpus = mixed
    report = {r.file: r for r in corpus.report}
    assert set(report) == KEPT | set(SKIPPED)  # notes.txt is not a score: not listed
    for name in KEPT:
        assert report[name].status == "kept", report[name]
    for name, why in SKIPPED.items():
        assert report[name].status == "skipped"
        assert why in report[name].reason, report[name]
    assert {p.name for p in corpus.pieces} == KEPT


def test_lead_is_the_higher_part(mixed):
    _, _, corpus = mixed
    for name in ("two.mid", "sub/duet.musicxml"):
        piece = corpus.piece(name)
        assert piece.lead.pitch == symbols(HIGH)
        assert piece.accompaniment.pitch == symbols(LOW)


def test_a_part_named_melody_is_the_lead_even_when_lower(mixed):
    piece = mixed[2].piece("melody_low.mid")
    assert piece.lead.pitch == symbols(LOW)
    assert piece.accompaniment.pitch == symbols(HIGH)


def test_one_instrument_is_split_into_its_top_line_and_the_rest(mixed):
    piece = mixed[2].piece("one.mid")  # a tune, then thirds, in one piano track
    assert piece.lead.pitch == symbols(LOW) + ["64", "65", "67", "64"]
    assert piece.accompaniment.pitch == ["r", "60", "62", "64", "60"]
    assert len(piece.lead.steps) == len(piece.accompaniment.steps) == 12 * 4
    assert mixed[2].sequences("accompaniment", "pitch").count(None) == 0


def test_three_instruments_are_kept_lead_over_the_other_two_merged(mixed):
    piece = mixed[2].piece("three.mid")
    assert piece.lead.pitch == symbols(HIGH)
    assert piece.accompaniment.pitch[:4] == ["0.4", "2.5", "4.7", "0.4.5"]  # B and C merged
    report = {r.file: r for r in mixed[2].report}["three.mid"]
    assert (report.lead, report.accompaniment) == ("A (#1)", "B (#2) + C (#3)")


def test_drums_beside_one_instrument_are_dropped(mixed):
    piece = mixed[2].piece("band.mid")
    assert piece.lead.pitch == symbols(LOW)
    assert piece.accompaniment is None


def test_music21_marks_a_channel_10_midi_track_as_percussion(tmp_path):
    """What `_is_drums` relies on, checked on a file whose track says nothing but channel 10."""
    score = converter.parse(str(write_drums(tmp_path / "kit.mid")), forceSource=True)
    (part,) = score.parts
    instruments = list(part.recurse().getElementsByClass(instrument.Instrument))
    assert any(isinstance(i, instrument.UnpitchedPercussion) and i.midiChannel == 9
               for i in instruments)
    assert all(isinstance(n, note.Unpitched) for n in part.recurse().notes)
    assert _is_drums(part)
    parts, report = read_piece(str(tmp_path / "kit.mid"), "kit.mid")
    assert parts is None and report.reason == "no pitched notes (drums only)"


def test_is_drums_finds_an_instrument_inside_a_measure():
    kit = instrument.Instrument()
    kit.midiChannel = 9
    measure = stream.Measure([kit, note.Note(36), note.Note(38)])
    assert _is_drums(stream.Part([measure]))
    assert not _is_drums(stream.Part([stream.Measure([instrument.Piano(), note.Note(60)])]))


def test_no_usable_piece_is_a_corpus_error(tmp_path):
    write_corrupt(tmp_path / "bad.mid")
    write_drums(tmp_path / "drums.mid")
    with pytest.raises(CorpusError, match="no usable piece") as info:
        prepare_corpus(tmp_path, cache_dir=tmp_path / "cache", workers=1)
    assert "drums only" in str(info.value) and "bad.mid" in str(info.value)


def test_a_folder_without_scores_or_missing_is_a_corpus_error(tmp_path):
    (tmp_path / "readme.txt").write_text("nothing here")
    with pytest.raises(CorpusError):
        prepare_corpus(tmp_path, cache_dir=tmp_path / "cache")
    with pytest.raises(CorpusError):
        prepare_corpus(tmp_path / "missing", cache_dir=tmp_path / "cache")


def test_unknown_settings_are_corpus_errors(tmp_path):
    with pytest.raises(CorpusError):
        prepare_corpus(tmp_path, chord_mode="octaves")
    with pytest.raises(CorpusError):
        prepare_corpus(tmp_path, val_fraction=1.0)


# --- held-out split ------------------------------------------------------------------------

def test_holdout_default_is_ten_percent_of_whole_pieces_seeded():
    names = [f"song{i:02d}.mid" for i in range(30)]
    held = _holdout(names, 0.1, seed=0)
    assert len(held) == 3 and held <= set(names)
    assert _holdout(list(reversed(names)), 0.1, seed=0) == held  # order of files irrelevant
    assert len({frozenset(_holdout(names, 0.1, seed=s)) for s in range(10)}) > 1
    assert len(_holdout(names[:4], 0.1, seed=0)) == 1      # at least one
    assert _holdout(names[:1], 0.1, seed=0) == set()       # never the only piece
    assert _holdout(names, 0.0, seed=0) == set()


def test_corpus_split_holds_out_whole_pieces_deterministically(mixed, tmp_path):
    folder, _, corpus = mixed
    validation = corpus.split("validation")
    assert len(validation) == 1  # 10% of 6 kept pieces, at least one
    assert len(corpus.split("train")) == 5
    again = prepare_corpus(folder, cache_dir=tmp_path, workers=1)  # parsed afresh
    assert [(p.name, p.split) for p in again.pieces] == [(p.name, p.split) for p in corpus.pieces]
    train = corpus.sequences("lead", "steps", "train")
    held = corpus.sequences("lead", "steps", "validation")
    assert len(train) + len(held) == len(corpus.sequences("lead", "steps"))
    assert held == [validation[0].lead.steps]


# --- cache ---------------------------------------------------------------------------------

def test_second_prepare_reads_the_cache_without_parsing(tmp_path, monkeypatch):
    folder = tmp_path / "songs"
    write_score(folder / "a.mid", [("Keys", melody(LOW)), ("Lead", melody(HIGH))])
    write_score(folder / "b.mid", [("Keys", melody(HIGH[:4]))])
    cache = tmp_path / "cache"
    first = prepare_corpus(folder, cache_dir=cache, workers=1)
    assert list(cache.glob("*.npz")) and list(cache.glob("*.report.csv"))

    def no_parsing(*args, **kwargs):
        raise AssertionError("parsed again instead of reading the cache")

    monkeypatch.setattr(corpus_mod, "_read_all", no_parsing)
    monkeypatch.setattr(corpus_mod, "read_encoded", no_parsing)
    second = prepare_corpus(folder, cache_dir=cache, workers=1)
    assert second == first
    assert load_corpus(next(cache.glob("*.npz"))) == first

    # a changed file (or a changed setting) is a different key, so it is parsed again
    write_score(folder / "b.mid", [("Keys", melody(HIGH[4:]))])
    with pytest.raises(AssertionError, match="parsed again"):
        prepare_corpus(folder, cache_dir=cache, workers=1)
    with pytest.raises(AssertionError, match="parsed again"):
        prepare_corpus(folder, cache_dir=cache, workers=1, chord_mode="voicing")
    monkeypatch.undo()
    third = prepare_corpus(folder, cache_dir=cache, workers=1)
    assert third.key != first.key
    assert third.piece("b.mid").lead.pitch == symbols(HIGH[4:])


def test_each_file_is_hashed_once_per_process_until_it_changes(tmp_path):
    folder = tmp_path / "songs"
    write_score(folder / "a.mid", [("Keys", melody(LOW))])
    write_score(folder / "b.mid", [("Keys", melody(HIGH))])
    first = prepare_corpus(folder, cache_dir=tmp_path / "cache", workers=1)
    hashed = cache_mod._digest.cache_info().misses
    assert prepare_corpus(folder, cache_dir=tmp_path / "cache", workers=1).key == first.key
    assert cache_mod._digest.cache_info().misses == hashed     # no file read to hash it
    write_score(folder / "b.mid", [("Keys", melody(HIGH[:4]))])
    changed = prepare_corpus(folder, cache_dir=tmp_path / "cache", workers=1)
    assert cache_mod._digest.cache_info().misses == hashed + 1  # b.mid alone, again
    assert changed.key != first.key


def test_moving_a_file_to_a_sub_folder_changes_the_key(tmp_path):
    folder = tmp_path / "songs"
    write_score(folder / "a.mid", [("Keys", melody(LOW))])
    write_score(folder / "x" / "b.mid", [("Keys", melody(HIGH))])
    first = prepare_corpus(folder, cache_dir=tmp_path / "cache", workers=1)
    (folder / "y").mkdir()
    shutil.move(folder / "x" / "b.mid", folder / "y" / "b.mid")
    second = prepare_corpus(folder, cache_dir=tmp_path / "cache", workers=1)
    assert second.key != first.key
    assert {p.name for p in second.pieces} == {"a.mid", "y/b.mid"}


# --- the default corpus --------------------------------------------------------------------

def test_default_corpus_bach_chorales_lead_above_accompaniment(tmp_path):
    corpus = prepare_corpus(max_pieces=6, chord_mode="voicing", cache_dir=tmp_path, workers=1)
    assert corpus.corpus_id == "bach-chorales"
    assert len(corpus.pieces) == 6 and all(r.status == "kept" for r in corpus.report)
    assert len(corpus.split("validation")) == 1

    def mean_midi(pitches):
        midis = [int(m) for s in pitches if s != "r" for m in s.split(".")]
        return sum(midis) / len(midis)

    for piece in corpus.pieces:
        assert piece.lead is not None and piece.accompaniment is not None
        assert piece.lead.steps and piece.accompaniment.steps
        assert all("." not in s for s in piece.lead.pitch)  # the soprano: one note at a time
        assert mean_midi(piece.lead.pitch) > mean_midi(piece.accompaniment.pitch) + 5, piece.name
