"""Seeds from the user's own MIDI: the lead found by the corpus rule, symbols a run never saw
mapped to the nearest it knows (and counted), generation from the CLI."""
from __future__ import annotations

from types import SimpleNamespace

import pytest

from core.cli import main
from core.data.corpus import PartData, Piece
from core.data.keys import transpose_symbol
from core.data.nearest import fit_to_vocabulary
from core.data.vocabulary import Vocabulary
from core.nets.config import TrainConfig
from core.runs.record import open_run
from core.sampling.decoding import Decoding
from core.sampling.generation import generate
from core.sampling.seeds import run_seed, seed_from_file
from tests.fixtures import work_parts, write_multitrack

# --- the nearest known symbol ----------------------------------------------------------------

def test_a_note_moves_to_its_pitch_class_in_range_else_to_the_nearest_pitch():
    known = ["48", "55", "60", "67", "72", "r", "_"]
    mapped, count = fit_to_vocabulary(["84", "43", "61", "60"], known, "steps")
    assert mapped == ["72", "55", "60", "60"] and count == 3  # 84 -> C5, 43 -> G3, 61 -> 60
    assert fit_to_vocabulary(["62"], ["60", "64"], "pitch")[0] == ["60"]  # equally near: lower


def test_a_chord_moves_to_the_known_one_sharing_most_pitch_classes():
    known = ["0.4.7", "2.7", "7.11", "60", "_"]
    mapped, count = fit_to_vocabulary(["7.11.2", "0.4", "4.7.11"], known, "steps")
    assert mapped[1] == "0.4.7" and mapped[2] == "7.11"  # shared 2 of 3, then the nearer
    assert mapped[0] in ("2.7", "7.11") and count == 3
    voiced, _ = fit_to_vocabulary(["55.59.62"], ["55.59", "60.64.67", "98"], "pitch", "voicing")
    assert voiced == ["55.59"]


def test_rests_holds_and_durations_have_a_nearest_too():
    assert fit_to_vocabulary(["r", "60"], ["60", "_"], "steps") == (["_", "60"], 1)
    mapped, count = fit_to_vocabulary(["0.75", "3.0", "1/3", "1.0"], ["0.5", "1.0", "4.0"],
                                      "duration")
    assert mapped == ["0.5", "4.0", "0.5", "1.0"] and count == 3


def test_run_seed_maps_each_runs_window_and_counts_it():
    vocab = {"steps": Vocabulary(("60", "_", "r", "0.4.7"))}
    run = SimpleNamespace(config=TrainConfig(window=4, key_normalisation=False), vocabs=vocab,
                          run_id="r")
    seed = Piece("p", "p", "seed", PartData(["61", "_", "0.4.7.11", "_", "99", "_"], ["61"],
                                            ["1.0"]), None)
    read = run_seed(run, seed, steps=8)
    assert read.window == {"steps": ["60", "_", "0.4.7", "_"]} and read.mapped == 2
    assert read.shift == 0


def test_a_key_normalising_run_reads_the_seed_in_c_major():
    """A G major seed is read a fourth up (G -> C, the nearer way): the run's common key."""
    g_major = ["67", "_", "71", "_", "74", "_", "66", "_", "67", "_", "_", "_"] * 2
    run = SimpleNamespace(config=TrainConfig(window=4), vocabs={
        "steps": Vocabulary(("72", "_", "76", "79", "71"))}, run_id="r")
    seed = Piece("p", "p", "seed", PartData(g_major, [], []), None)
    read = run_seed(run, seed, steps=8)
    assert read.shift == 5 and read.window["steps"] == ["72", "_", "76", "_"]
    assert read.mapped == 0


# --- generation seeded from real multi-track MIDI -----------------------------------------------

@pytest.fixture(scope="module")
def quartet():
    """A string quartet (not Bach) two octaves up: notes no chorale ever sang."""
    return [(name, [(o, d, p + 24) for o, d, p in notes])
            for name, notes in work_parts("haydn/opus74no1/movement3", 8)]


@pytest.fixture(scope="module")
def band_file(tmp_path_factory, quartet):
    """The quartet with a drum kit and a pad: far from the runs' six chorales."""
    folder = tmp_path_factory.mktemp("seed")
    return write_multitrack(folder / "quartet band.mid", quartet, drums=True, pad=True)


def test_the_seed_file_lead_is_chosen_by_the_corpus_rule(band_file, quartet):
    piece, source = seed_from_file(band_file)
    assert source == "file:quartet band.mid"
    violin = [str(p) for _, _, p in quartet[0][1]]
    assert [s for s in piece.lead.pitch if s != "r"][:6] == violin[:6]
    assert piece.accompaniment is not None


def test_any_midi_file_seeds_both_models(trained_runs, runs_copy, band_file):
    lead = runs_copy / trained_runs.lead_lstm.name
    acc = runs_copy / trained_runs.accompaniment.name
    model2 = runs_copy / trained_runs.model2.name
    sample = generate({"lead": lead, "accompaniment": acc}, 8, [Decoding()], seed_file=band_file,
                      cache_dir=trained_runs.cache, render=False)[0]
    assert sample.seed_mapped > 0
    piece = seed_from_file(band_file)[0]
    for part, run in (("lead", lead), ("accompaniment", acc)):
        info = open_run(run)
        read = run_seed(info, piece, 8)
        assert set(read.window["steps"]) <= set(info.vocabs["steps"].symbols)
        saved = sample.symbols[part]["steps"][:info.config.window]
        assert saved == [transpose_symbol(s, -read.shift) for s in read.window["steps"]]
    events = generate({"lead": model2}, 8, [Decoding()], seed_file=band_file,
                      cache_dir=trained_runs.cache, render=False)[0]
    info = open_run(model2)
    assert set(run_seed(info, piece, 8).window["pitch"]) <= set(info.vocabs["pitch"].symbols)
    assert events.seed_mapped > 0


@pytest.mark.slow
def test_cli_generates_from_a_midi_seed_and_says_how_many_were_mapped(trained_runs, runs_copy,
                                                                      band_file, capsys):
    lead = runs_copy / trained_runs.lead_lstm.name
    code = main(["generate", "--lead", str(lead), "--steps", "8", "--seed-file", str(band_file),
                 "--cache", str(trained_runs.cache)])
    out = capsys.readouterr().out
    assert code == 0
    assert "symbols the run never saw were mapped to the nearest it knows" in out
    assert "midi:" in out
