"""The training recipe's parts: note and onset accuracy, the learning-rate schedule, early
stopping and clipping (recorded and resumable), keys and transposition (augmentation never
touches held-out windows; a key-normalised run generates in the seed's key), bar positions."""
from __future__ import annotations

import json

import numpy as np
import pytest

from core.data.keys import estimate_key, key_shift, transpose, transpose_symbol
from core.data.metre import Metre
from core.nets.accuracy import NoteAccuracy, OnsetAccuracy
from core.nets.config import ADDED_LATER, TrainConfig
from core.nets.schedule import end_epoch, epoch_callbacks, resume_callbacks, start
from core.nets.windows import (
    bar_positions,
    build_windows,
    corpus_vocabularies,
    input_name,
    piece_shift,
    piece_streams,
    to_dataset,
)
from core.runs.history import read_history
from core.runs.listing import list_runs
from core.runs.record import open_run
from core.runs.status import read_status
from core.runs.training import enqueue, resume_training, run_training, train
from tests.tiny import tiny_config

HOLD = 0  # the hold's id in the hand-made targets below


# --- note and onset accuracy ---------------------------------------------------------------

def one_hot(ids, size=4):
    return np.eye(size)[np.asarray(ids)]


def score(metric, targets, predicted):
    metric.update_state(np.asarray(targets), one_hot(predicted))
    return float(metric.result())


def test_note_accuracy_counts_only_the_targets_that_are_not_holds():
    targets, predicted = [HOLD, 2, HOLD, 3, 1], [HOLD, 2, 2, 1, 1]
    assert score(NoteAccuracy(HOLD), targets, predicted) == pytest.approx(2 / 3)
    assert score(NoteAccuracy(HOLD), targets, [HOLD] * 5) == 0.0  # always hold: nothing


def test_onset_accuracy_is_one_half_for_every_constant_answer():
    targets = [HOLD, HOLD, HOLD, 2, HOLD, 3, HOLD, 1]
    assert score(OnsetAccuracy(HOLD), targets, [HOLD] * 8) == 0.5
    assert score(OnsetAccuracy(HOLD), targets, [2] * 8) == 0.5
    assert score(OnsetAccuracy(HOLD), targets, [HOLD, HOLD, HOLD, 1, HOLD, 1, HOLD, 1]) == 1.0
    # a new event predicted where one starts counts even when it is the wrong one
    assert score(OnsetAccuracy(HOLD), targets, [2, HOLD, HOLD, 2, HOLD, HOLD, HOLD, 1]) == \
        pytest.approx((2 / 3 + 4 / 5) / 2)


def test_both_read_the_sequence_objectives_shapes():
    targets = np.array([[HOLD, 2], [3, HOLD]])
    probs = one_hot([[HOLD, 2], [1, HOLD]])
    metric = NoteAccuracy(HOLD)
    metric.update_state(targets, probs)
    assert float(metric.result()) == 0.5


# --- learning-rate schedule and early stopping ---------------------------------------------

def rates_and_stop(config, losses, resume_after=None):
    """The learning rate of each epoch and the epoch that stops, driven by held-out losses
    (optionally a fresh set of callbacks replaying the first `resume_after` rows)."""
    import keras

    from core.nets.schedule import optimizer

    model = keras.Sequential([keras.Input((1,)), keras.layers.Dense(1)])
    model.compile(optimizer(config, 4), "mse")
    callbacks = epoch_callbacks(config, "val_loss")
    start(callbacks, model)
    rates, rows = [], []
    for epoch, loss in enumerate(losses, start=1):
        if resume_after is not None and epoch == resume_after + 1:
            callbacks, stopped = resume_callbacks(config, model, "val_loss", rows)
            assert not stopped
        row = {"val_loss": loss}
        rates.append(float(model.optimizer.learning_rate))
        rows.append(row)
        if end_epoch(callbacks, epoch, row):
            return rates, epoch
    return rates, None


LOSSES = [1.0, 0.8, 0.85, 0.9, 0.79, 0.82, 0.84, 0.86, 0.9, 0.95]


def test_plateau_halves_the_rate_and_early_stopping_ends_the_run():
    config = TrainConfig(learning_rate=0.01, lr_schedule="plateau", early_stopping=4).validate()
    rates, stopped = rates_and_stop(config, LOSSES)
    assert rates[:4] == pytest.approx([0.01] * 4)
    assert rates[4] == pytest.approx(0.005)  # epochs 3 and 4 did not beat epoch 2
    assert stopped == 9  # epochs 6-9 did not beat epoch 5


@pytest.mark.parametrize("after", [1, 3, 4, 6, 8])
def test_a_resumed_run_takes_the_same_schedule_and_stopping_decisions(after):
    config = TrainConfig(learning_rate=0.01, lr_schedule="plateau", early_stopping=4).validate()
    assert rates_and_stop(config, LOSSES, after) == rates_and_stop(config, LOSSES)


def test_the_thesis_method_keeps_one_rate_and_every_epoch():
    config = TrainConfig(**ADDED_LATER).validate()
    rates, stopped = rates_and_stop(config, LOSSES)
    assert rates == pytest.approx([config.learning_rate] * len(LOSSES)) and stopped is None


def test_a_run_records_its_schedule_stops_early_and_resumes_to_the_same_end(tmp_path, run_bank):
    """A real tiny run with a rate so high it cannot improve: it stops early (best.keras
    kept), says so in its status, and a copy stopped after epoch 2 resumes to the same end.
    Clipping, schedule and stopping are recorded in config.json."""
    config = tiny_config(epochs=8, learning_rate=0.9, early_stopping=2, clip_norm=0.5)
    run = train(config, tmp_path / "a", run_bank.cache)
    status = read_status(run)
    done = len(read_history(run))
    assert status["state"] == "finished" and status["stopped_early"] == done < 8
    note = list_runs(tmp_path / "a").set_index("run_id").loc[run.name, "note"]
    assert f"stopped early after epoch {done}" in note
    recorded = json.loads((run / "config.json").read_text())["config"]
    assert (recorded["early_stopping"], recorded["clip_norm"], recorded["lr_schedule"]) == \
        (2, 0.5, "plateau")
    assert "learning_rate" in read_history(run)

    again = enqueue(config, tmp_path / "b", run_bank.cache)

    def stop_after_two(row):
        if row["epoch"] == 2:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        run_training(again, run_bank.cache, on_epoch=stop_after_two)
    resume_training(again, run_bank.cache)
    columns = ["epoch", "loss", "val_loss", "learning_rate"]
    np.testing.assert_allclose(read_history(again)[columns], read_history(run)[columns],
                               rtol=1e-5)
    assert read_status(again)["stopped_early"] == done


# --- keys and transposition ---------------------------------------------------------------

def test_transposition_moves_notes_and_chords_and_refuses_what_midi_cannot_hold():
    assert transpose(["60", "_", "0.4.7", "r"], 2) == ["62", "_", "2.6.9", "r"]
    assert transpose_symbol("11.2.6", 1) == "0.3.7"  # normal order after the move
    assert transpose_symbol("48.52", -2, "voicing") == "46.50"
    assert transpose_symbol("126", 3) is None and transpose(["60", "126"], 3) is None


@pytest.mark.parametrize("tonic, mode, shift", [(7, "major", 5), (2, "minor", -5),
                                                (9, "minor", 0), (5, "major", -5)])
def test_a_scale_is_found_in_its_key_and_moved_to_c_major_or_a_minor(tonic, mode, shift):
    steps = [0, 2, 4, 5, 7, 9, 11] if mode == "major" else [0, 2, 3, 5, 7, 8, 10]
    tune = [str(60 + tonic + s) for s in [*steps, 12, 7, 4, 0, 7, 0]]
    symbols = [s for note in tune for s in (note, "_")]
    assert estimate_key([symbols]) == (tonic, mode)
    assert key_shift([symbols]) == shift


@pytest.fixture(scope="module")
def corpus(run_bank):
    from core.data.prepare import corpus_for

    return corpus_for(tiny_config(), run_bank.cache)


def test_augmentation_moves_training_windows_and_never_held_out_ones(corpus):
    config = tiny_config(transpose_augment=3, key_normalisation=False, batch_size=4096)
    vocabs = corpus_vocabularies(corpus, config)
    train_windows = build_windows(corpus, config, vocabs, "train")
    held = build_windows(corpus, config, vocabs, "validation")
    assert held.shifts is None and set(train_windows.shifts) == {"steps"}
    (x, _), = list(to_dataset(held, config, "window", shuffle=False))
    real = held.arrays["steps"][held.starts[:, None] + np.arange(8)]
    np.testing.assert_array_equal(np.asarray(x[input_name("steps")]), real)
    (x, _), = list(to_dataset(train_windows, config, "window", shuffle=True, seed=3))
    symbols = vocabs["steps"].symbols
    pieces = [piece_streams(p, config)["steps"] for p in corpus.split("train")]
    originals = {tuple(p[i:i + 8]) for p in pieces for i in range(len(p) - 8)}
    moved = 0
    for row in np.asarray(x[input_name("steps")])[:40]:
        window = [symbols[i] for i in row]
        found = [k for k in range(-3, 4) if tuple(transpose(window, -k) or ()) in originals]
        assert found, window  # every window is a real one moved by -3..+3 semitones
        moved += 0 not in found
    assert moved > 0


def test_key_normalisation_reads_every_piece_in_c_major_or_a_minor(corpus):
    config = tiny_config()
    shifted = [p for p in corpus.pieces if piece_shift(p, config)]
    assert shifted, "the tiny chorales are not all in C major or A minor"
    for piece in corpus.pieces:
        streams = piece_streams(piece, config)
        tonic, mode = estimate_key([streams["steps"], transpose(
            piece.accompaniment.steps, piece_shift(piece, config))])
        assert (tonic, mode) in ((0, "major"), (9, "minor"))


def test_a_key_normalised_run_generates_in_the_seeds_key(run_bank, tmp_path):
    """The lead run reads its seed moved to the common key and its output is moved back: the
    sample's seed window is the piece's own, every generated symbol is a run symbol moved
    back by the piece's shift."""
    from core.sampling.decoding import Decoding
    from core.sampling.generation import generate

    lead = run_bank.copy(tmp_path, "lead_lstm")
    info = open_run(lead)
    assert info.config.key_normalisation
    from core.data.prepare import corpus_for

    corpus = corpus_for(info.config, run_bank.cache)
    piece = next(p for p in corpus.pieces if piece_shift(p, info.config))
    shift = piece_shift(piece, info.config)
    sample = generate({"lead": lead}, 24, [Decoding("temperature", temperature=1.0)],
                      seed_piece=piece.name, cache_dir=run_bank.cache, render=False)[0]
    steps = sample.symbols["lead"]["steps"]
    window = info.config.window
    assert steps[:window] == piece.lead.steps[:window]
    known = set(info.vocabs["steps"].symbols)
    assert all(transpose_symbol(s, shift) in known for s in steps[window:])


# --- bar positions --------------------------------------------------------------------------

def test_bar_positions_count_from_the_downbeat_for_steps_and_events():
    metre = Metre(16, 4)  # a one-beat pickup
    np.testing.assert_array_equal(metre.positions(np.arange(6)), [12, 13, 14, 15, 0, 1])
    events = {"pitch": ["60", "62", "64"], "duration": ["1.0", "0.5", "2.0"]}
    np.testing.assert_array_equal(bar_positions(events, metre, 2), [12, 0, 2])
    assert Metre.from_list(metre.to_list()) == metre and Metre.from_list(None) == Metre()


def test_the_chorales_pickups_are_read_as_their_metre(corpus):
    metres = {p.name: p.metre for p in corpus.pieces}
    assert all(m.bar_steps in (12, 16, 24) for m in metres.values())
    assert any(m.downbeat for m in metres.values()), "no chorale of the six starts on a pickup"


# --- greedy decoding of Model 1's steps ------------------------------------------------------

def test_greedy_starts_a_new_note_when_new_notes_together_outweigh_the_hold():
    """The hold at 0.4 beats every single note (0.12 each) but not all of them together:
    plain argmax would hold for ever; greedy with the hold's id starts the likeliest note."""
    from core.sampling.decoding import Decoding, choose, most_likely

    probs = np.array([[0.4, 0.12, 0.16, 0.12, 0.1, 0.1],     # new notes 0.6 > hold 0.4
                      [0.6, 0.1, 0.1, 0.1, 0.05, 0.05]])     # the hold wins
    assert most_likely(probs).tolist() == [0, 0]
    assert most_likely(probs, hold=0).tolist() == [2, 0]
    rng = np.random.default_rng(0)
    cold = Decoding("temperature", temperature=0.0)
    assert choose(probs, cold, rng, hold=0).tolist() == choose(probs, Decoding(), rng,
                                                               hold=0).tolist() == [2, 0]


def test_a_loss_rising_three_epochs_in_a_row_is_said():
    from core.runs.history import rising_note

    flat = {"epoch": np.arange(1, 7), "val_loss": np.array([1.0, 0.8, 0.7, 0.72, 0.71, 0.7])}
    assert rising_note(flat) == ""
    rising = {"epoch": np.arange(1, 7), "val_loss": np.array([1.0, 0.8, 0.7, 0.72, 0.75, 0.8])}
    assert rising_note(rising).startswith("held-out loss rising for 3 epochs (since epoch 3)")
    training = {"epoch": np.arange(1, 5), "loss": np.array([1.0, 1.1, 1.2, 1.3])}
    assert rising_note(training).startswith("training loss rising for 3 epochs (since epoch 1)")
