"""The blind listening test (core.evidence.listening) on real tiny runs: pairs of a real and a
generated continuation rendered alike, each listener's own order and A/B placement, answers in
a CSV with their settings, and the exact binomial test of the share found."""
from __future__ import annotations

import numpy as np
import pytest
from music21 import converter
from scipy import stats
from scipy.io import wavfile

from core.data.encoding import decode_part
from core.data.prepare import corpus_for
from core.evidence.listening import (
    ANSWER_COLUMNS,
    answers_path,
    list_pairs,
    listener_queue,
    make_pairs,
    read_answers,
    real_position,
    record_answer,
    results,
)
from core.rendering.audio import peak_dbfs
from core.runs.listing import run_dirs
from core.runs.record import open_run
from core.sampling.decoding import Decoding

pytestmark = pytest.mark.slow  # renders audio with FluidSynth


@pytest.fixture(scope="module")
def pairs(run_bank, tmp_path_factory):
    root = run_bank.folder(tmp_path_factory.mktemp("runs"), "lead_lstm", "accompaniment")
    runs = {"lead": root / run_bank.path("lead_lstm").name,
            "accompaniment": root / run_bank.path("accompaniment").name}
    seen = []
    prepared = make_pairs(runs, Decoding("temperature", temperature=0.65), 4, 16, 0,
                          run_bank.cache, root, progress=lambda *step: seen.append(step))
    return {"root": root, "runs": runs, "made": prepared.pairs, "prepared": prepared,
            "cache": run_bank.cache, "seen": seen}


def midi_pitches(path, end: float, part: int | None = None) -> list[int]:
    """Sorted MIDI pitches starting before `end` quarters (of one part, 0 = the lead)."""
    score = converter.parse(str(path))
    music = score if part is None else score.parts[part]
    return sorted(p.midi for n in music.flatten().notes if n.offset < end for p in n.pitches)


def test_a_pair_is_the_real_and_a_generated_continuation_of_one_seed(pairs):
    made = pairs["made"]
    assert len(made) == 1                   # six chorales, one held out: one distinct piece
    assert pairs["prepared"].shortfall() == (       # and the page says so
        "4 asked, 1 made: the runs' corpus holds out 1 piece(s) long enough for their "
        "window, and each gives one pair.")
    pair = made[0]
    assert list_pairs(pairs["root"]) == made
    assert pairs["seen"][0][0] == 0 and pairs["seen"][-1][0] == pairs["seen"][-1][1]
    settings = pair.settings
    lead = open_run(pairs["runs"]["lead"])
    assert settings["runs"] == {"lead": lead.run_id,
                                "accompaniment": pairs["runs"]["accompaniment"].name}
    assert settings["seed_piece"] == lead.held_out_pieces[0]
    assert settings["decoding_title"] == "temperature t=0.65"
    assert settings["seed_quarters"] < settings["clip_quarters"]
    # the real clip is the held-out piece itself, through the run's encoding
    piece = corpus_for(lead.config, pairs["cache"]).piece(settings["seed_piece"])
    written = decode_part({"steps": piece.lead.steps}, 1, lead.config.chord_mode)
    end = settings["clip_quarters"]
    expected = sorted(p.midi for n in written.flatten().notes if n.offset < end
                      for p in n.pitches)
    assert midi_pitches(pair.folder / "real.mid", end, part=0) == expected
    # both clips open with the same seed
    seed_end = settings["seed_quarters"]
    assert midi_pitches(pair.folder / "real.mid", seed_end) == \
        midi_pitches(pair.folder / "generated.mid", seed_end)


def test_both_clips_sound_alike_but_for_the_notes(pairs):
    pair = pairs["made"][0]
    (rate_a, real), (rate_b, fake) = (wavfile.read(pair.clip(c)) for c in ("real", "generated"))
    assert rate_a == rate_b and real.shape == fake.shape and real.dtype == fake.dtype
    assert peak_dbfs(real) == pytest.approx(-1.0, abs=0.05)
    assert peak_dbfs(fake) == pytest.approx(-1.0, abs=0.05)
    assert not np.array_equal(real, fake)


def test_the_listening_folder_is_not_a_run(pairs):
    assert all(not d.name.startswith(".") for d in run_dirs(pairs["root"]))
    assert len(run_dirs(pairs["root"])) == 2


def test_each_listener_has_an_order_and_placement_of_their_own(pairs, tmp_path):
    base = pairs["made"][0]
    fake = [type(base)(f"p{i}", base.folder, base.settings) for i in range(12)]
    empty = read_answers(tmp_path)
    order_a = [p.pair_id for p in listener_queue(fake, "Ana", empty)]
    assert order_a == [p.pair_id for p in listener_queue(fake, " ana ", empty)]  # stable
    assert order_a != [p.pair_id for p in listener_queue(fake, "Ben", empty)]
    placements = {real_position("Ana", p.pair_id) for p in fake}
    assert placements == {"A", "B"}                      # random, not always first
    assert real_position("Ana", "p1") == real_position("Ana", "p1")


def test_answers_are_saved_with_their_settings_and_tested_against_chance(pairs, tmp_path):
    pair = pairs["made"][0]
    real = real_position("Ana", pair.pair_id)
    wrong = "B" if real == "A" else "A"
    row = record_answer(tmp_path, "Ana", pair, real)
    assert row["correct"] == 1 and row["seed_piece"] == pair.settings["seed_piece"]
    record_answer(tmp_path, "Ben", pair, real_position("Ben", pair.pair_id))
    record_answer(tmp_path, "Cleo", pair, "B" if real_position("Cleo", pair.pair_id) == "A"
                  else "A")
    answers = read_answers(tmp_path)
    assert list(answers.columns) == list(ANSWER_COLUMNS) and len(answers) == 3
    assert answers_path(tmp_path).read_text().count("\n") == 4       # header + 3 rows
    assert listener_queue(pairs["made"], "ana", answers) == []        # Ana is done
    assert listener_queue(pairs["made"], "Dan", answers) == pairs["made"]
    table = results(answers)
    overall = table.iloc[-1]
    assert (overall["answers"], overall["right"], overall["listeners"]) == (3, 2, 3)
    assert overall["p-value"] == pytest.approx(stats.binomtest(2, 3, 0.5).pvalue)
    assert table.iloc[0]["decoding"] == "temperature t=0.65"
    with pytest.raises(ValueError, match="name"):
        record_answer(tmp_path, "  ", pair, "A")
    with pytest.raises(ValueError, match="A or B"):
        record_answer(tmp_path, "Ana", pair, wrong.lower())


def test_no_answers_no_results(tmp_path):
    answers = read_answers(tmp_path)
    assert answers.empty and list(answers.columns) == list(ANSWER_COLUMNS)
    assert results(answers).empty and list(results(answers).columns)[:3] == \
        ["lead run", "accompaniment run", "decoding"]
