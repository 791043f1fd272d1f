"""Decoding strategies, determinism, and generation's error paths on tiny real runs."""
import errno
import json
import re
import shutil
import wave
from dataclasses import asdict, replace
from pathlib import Path

import numpy as np
import pytest
from scipy.io import wavfile

from core.data.metre import Metre
from core.files import WriteError
from core.nets.windows import input_name
from core.rendering.audio import PEAK_DBFS, peak_dbfs
from core.runs.record import RunError, open_run
from core.runs.samples import list_samples
from core.sampling.context import Context
from core.sampling.decoding import (
    BOUNDS,
    Decoding,
    GenerationError,
    choose,
    parse_help,
    reshape,
)
from core.sampling.generation import (
    generate,
    generate_parts,
    load_model,
    open_part_runs,
)
from core.sampling.window import generate_ids


@pytest.fixture(scope="module")
def runs(run_bank, tmp_path_factory):
    root = run_bank.folder(tmp_path_factory.mktemp("runs"), "lead_lstm", "accompaniment")
    return {"root": root, "cache": run_bank.cache,
            "lead": root / run_bank.path("lead_lstm").name,
            "accompaniment": root / run_bank.path("accompaniment").name}


def test_greedy_is_argmax_and_sampling_respects_k_and_p():
    probs = np.array([[0.1, 0.6, 0.3], [0.5, 0.2, 0.3]])
    rng = np.random.default_rng(0)
    assert choose(probs, Decoding("greedy"), rng).tolist() == [1, 0]
    top1 = Decoding("top_k", top_k=1)
    assert all(choose(probs, top1, rng).tolist() == [1, 0] for _ in range(20))
    draws = np.concatenate([choose(probs, Decoding("top_k", top_k=2), rng) for _ in range(300)])
    assert set(draws[::2].tolist()) == {1, 2}  # row 0 never draws its least likely symbol
    nucleus = reshape(probs, Decoding("top_p", top_p=0.55))
    assert nucleus[0].tolist() == [0.0, 1.0, 0.0]
    cold = reshape(probs, Decoding("temperature", temperature=0.05))
    assert cold.argmax(axis=1).tolist() == [1, 0] and cold.max() > 0.99
    hot = reshape(probs, Decoding("temperature", temperature=100))
    assert np.allclose(hot, 1 / 3, atol=0.01)


def test_decoding_parse_and_validation():
    assert Decoding.parse("temperature:0.65").temperature == 0.65
    assert Decoding.parse("beam:3").beam_width == 3
    with pytest.raises(GenerationError):
        Decoding.parse("nucleus")
    assert Decoding.parse("temperature:0").temperature == 0     # greedy, not an error
    with pytest.raises(GenerationError):
        Decoding.parse("temperature:-0.1")
    with pytest.raises(GenerationError, match="duration temperature"):
        Decoding("temperature", duration_temperature=-1.0).validate()


@pytest.mark.parametrize("text, message", [
    ("greedy:3", "greedy takes no value, got 'greedy:3'"),
    ("temperature:", "temperature takes a number in [0, 2] after ':', got 'temperature:'"),
    ("temperature:inf", "temperature must be in [0, 2] (0 is greedy), got inf"),
    ("temperature:nan", "temperature must be in [0, 2] (0 is greedy), got nan"),
    ("temperature:2.5", "temperature must be in [0, 2] (0 is greedy), got 2.5"),
    ("top_k:0", "top_k must be in [1, 4096], got 0"),
    ("top_k:5000", "top_k must be in [1, 4096], got 5000"),
    ("top_k:2.5", "top_k takes a whole number in [1, 4096] after ':', got 'top_k:2.5'"),
    ("top_p:0", "top_p must be in (0, 1], got 0.0"),
    ("top_p:1.5", "top_p must be in (0, 1], got 1.5"),
    ("beam:100000", "beam_width must be in [1, 16], got 100000"),
    ("beam:", "beam takes a whole number in [1, 16] after ':', got 'beam:'"),
    ("nucleus:0.9", "unknown decoding 'nucleus:0.9'; use one of greedy, temperature, top_k, "
                    "top_p, beam with an optional ':value'"),
])
def test_every_decoding_parameter_is_refused_outside_its_bounds(text, message):
    with pytest.raises(GenerationError) as refused:
        Decoding.parse(text)
    assert str(refused.value) == message


def test_the_bounds_are_one_table_read_by_validation_and_the_help():
    for name, bounds in BOUNDS.items():
        top = int(bounds.high) if name in ("top_k", "beam_width") else bounds.high
        assert Decoding(**{name: top}).validate()  # the ends are allowed where closed
        with pytest.raises(GenerationError, match=f"must be in {re.escape(str(bounds))}"):
            Decoding(**{name: top * 2}).validate()
    assert parse_help() == ("greedy | temperature:T (T in [0, 2]) | top_k:K (K in [1, 4096]) "
                            "| top_p:P (P in (0, 1]) | beam:W (W in [1, 16])")
    assert Decoding.parse("beam:16").beam_width == 16 and Decoding.parse("greedy") == Decoding()


def test_temperature_zero_is_greedy_for_every_sampling_strategy():
    probs = np.array([[0.1, 0.6, 0.3], [0.5, 0.2, 0.3]])
    for strategy in ("temperature", "top_k", "top_p"):
        cold = Decoding(strategy, temperature=0.0)
        rng = np.random.default_rng(1)
        assert all(choose(probs, cold, rng).tolist() == [1, 0] for _ in range(30))
        assert reshape(probs, cold).tolist() == [[0, 1, 0], [1, 0, 0]]
        assert cold.title.endswith("t=0 (greedy)")


def test_model_2_streams_can_sample_at_their_own_temperatures():
    both = Decoding("temperature", temperature=0.0, duration_temperature=1.5)
    assert both.for_stream("pitch") is both and both.for_stream("steps") is both
    assert both.for_stream("duration").temperature == 1.5
    assert both.label == "temperature-t0-dt1.5"
    assert both.title == "temperature t=0 duration t=1.5"
    assert Decoding.from_dict(asdict(both)) == both
    probs = np.array([[0.4, 0.35, 0.25]] * 200)
    rng = np.random.default_rng(0)
    assert set(choose(probs, both.for_stream("pitch"), rng)) == {0}
    assert set(choose(probs, both.for_stream("duration"), rng)) == {0, 1, 2}


def test_decoding_label_and_title():
    """`label` goes into folder names and CSVs, `title` on screen: both strings are kept."""
    cases = [(Decoding(), "greedy", "greedy"),
             (Decoding("temperature", temperature=0.65), "temperature-t0.65",
              "temperature t=0.65"),
             (Decoding("top_k", top_k=8), "top_k-k8-t1", "top_k k=8 t=1"),
             (Decoding("top_p", top_p=0.9), "top_p-p0.9-t1", "top_p p=0.9 t=1"),
             (Decoding("beam", beam_width=3), "beam-w3", "beam width=3")]
    for decoding, label, title in cases:
        assert (decoding.label, decoding.title) == (label, title)
        assert Decoding.from_dict(asdict(decoding)) == decoding
    assert Decoding.from_dict({"strategy": "top_p", "top_p": 0.5, "unknown": 1}).top_p == 0.5
    assert Decoding.from_dict(None) == Decoding()


def test_greedy_generation_follows_the_models_argmax(runs):
    """Each generated symbol is the argmax of the network over the window before it, read
    with the bar positions of the symbols it predicts (a pickup of 4 16ths here)."""
    info = open_run(runs["lead"])
    model = info.load_model()
    assert info.config.bar_position
    seed = np.zeros((1, info.config.window), dtype=np.int64)
    metre = Metre(16, 4)
    out = generate_ids(model, info.config, {"steps": seed}, 5, Decoding("greedy"),
                       np.random.default_rng(0), Context(1, metres=[metre]))["steps"][0]
    window = seed[0].tolist()
    for symbol in out:
        ahead = np.arange(len(window) - 7, len(window) + 1)  # the next of each window symbol
        probs = np.asarray(model({input_name("steps"): np.array([window[-8:]]),
                                  input_name("position"): ((ahead - 4) % 16)[None]}))
        assert symbol == probs.reshape(-1, probs.shape[-1])[-1].argmax()  # its last position
        window.append(int(symbol))


def test_same_seed_same_music_and_files_written(runs):
    pair = {"lead": runs["lead"], "accompaniment": runs["accompaniment"]}
    first = generate(pair, 16, [Decoding("temperature", temperature=1.5)], seed=7,
                     cache_dir=runs["cache"], render=False)[0]
    again = generate(pair, 16, [Decoding("temperature", temperature=1.5)], seed=7,
                     cache_dir=runs["cache"], render=False)[0]
    assert first.symbols == again.symbols
    assert set(first.symbols) == {"lead", "accompaniment"}
    rendered = generate(pair, 16, [Decoding("greedy")], seed=7, cache_dir=runs["cache"])[0]
    for kind in ("midi", "musicxml", "wav", "svg"):
        assert (rendered.folder / rendered.files[kind]).stat().st_size > 0, kind
    with wave.open(str(rendered.folder / rendered.files["wav"])) as wav:
        assert wav.getnframes() > 0
    _, samples = wavfile.read(rendered.folder / rendered.files["wav"])
    assert peak_dbfs(samples) == pytest.approx(PEAK_DBFS, abs=0.05)   # loud enough for a room
    saved = json.loads((rendered.folder / "sample.json").read_text())
    assert saved["runs"] == {"lead": runs["lead"].name, "accompaniment": runs["accompaniment"].name}
    assert any(s["sample_id"] == rendered.sample_id for s in list_samples(runs["lead"]))


def test_temperature_zero_generates_what_greedy_generates(runs):
    pair = {"lead": runs["lead"], "accompaniment": runs["accompaniment"]}
    cold, greedy = generate(pair, 16, [Decoding("temperature", temperature=0.0),
                                       Decoding("greedy")], seed=3, cache_dir=runs["cache"],
                            render=False)
    assert cold.symbols == greedy.symbols


def test_a_sample_is_a_batch_of_one_and_batches_keep_each_piece(runs):
    """generate() and evaluation share generate_parts: a saved sample is the batch of its one
    seed piece, and greedy pieces do not depend on the rest of their batch."""
    from core.data.prepare import corpus_for

    pair = {"lead": runs["lead"], "accompaniment": runs["accompaniment"]}
    infos = open_part_runs(pair)
    models = {part: load_model(info) for part, info in infos.items()}
    corpus = corpus_for(infos["lead"].config, runs["cache"])
    held, trained = corpus.split("validation")[0], corpus.split("train")[0]
    seed_piece = held
    warm = Decoding("temperature", temperature=1.5)
    sample = generate(pair, 12, [warm], seed=4, cache_dir=runs["cache"], render=False)[0]
    alone = generate_parts(infos, models, [seed_piece], 12, warm, 4)[0]
    assert {p: alone[p].symbols for p in alone} == sample.symbols
    other = trained
    greedy = Decoding("greedy")
    batch = generate_parts(infos, models, [other, seed_piece], 12, greedy, 0)
    assert batch[1] == generate_parts(infos, models, [seed_piece], 12, greedy, 0)[0]
    assert batch[0]["lead"].symbols["steps"][:8] == trained.lead.steps[:8]  # its own seed
    with pytest.raises(GenerationError, match="no accompaniment part"):
        generate_parts(infos, models, [replace(held, accompaniment=None)], 4, greedy, 0)


def test_seed_with_unknown_symbols_is_mapped_to_known_ones(runs, tmp_path):
    from music21 import chord, instrument, note, stream

    part = stream.Part([instrument.Piano()])
    for _ in range(12):
        part.append(chord.Chord([1, 13, 127], quarterLength=0.25))  # pitches Bach never wrote
        part.append(note.Note(127, quarterLength=0.25))
    path = tmp_path / "odd.mid"
    stream.Score([part]).write("midi", fp=str(path))
    sample = generate({"lead": runs["lead"]}, 8, [Decoding()], seed_file=path,
                      cache_dir=runs["cache"], render=False)[0]
    known = set(open_run(runs["lead"]).vocabs["steps"].symbols)
    window = open_run(runs["lead"]).config.window
    assert sample.seed_mapped > 0  # 127 and the chord's top line are outside Bach's range
    assert set(sample.symbols["lead"]["steps"][:window]) <= known


def test_unreadable_seed_file_names_the_file(runs, tmp_path):
    bad = tmp_path / "broken.mid"
    bad.write_bytes(b"MThd garbage")
    with pytest.raises(GenerationError, match="broken.mid"):
        generate({"lead": runs["lead"]}, 8, [Decoding()], seed_file=bad,
                 cache_dir=runs["cache"], render=False)


def test_run_with_missing_files_is_a_clear_error(runs, tmp_path):
    copy = tmp_path / "copy"
    shutil.copytree(runs["lead"], copy)
    (copy / "vocab.json").unlink()
    with pytest.raises(RunError, match="vocab.json"):
        generate({"lead": copy}, 8, [Decoding()], cache_dir=runs["cache"], render=False)
    shutil.copytree(runs["lead"], tmp_path / "nomodel")
    for name in ("model.keras", "best.keras"):
        (tmp_path / "nomodel" / name).unlink()
    with pytest.raises(GenerationError, match="cannot be loaded"):
        generate({"lead": tmp_path / "nomodel"}, 8, [Decoding()], cache_dir=runs["cache"],
                 render=False)


def test_wrong_part_is_refused(runs):
    with pytest.raises(GenerationError, match="trained on the lead"):
        generate({"accompaniment": runs["lead"]}, 8, [Decoding()], cache_dir=runs["cache"],
                 render=False)


def test_beam_search_returns_a_continuation(runs):
    sample = generate({"lead": runs["lead"]}, 6, [Decoding("beam", beam_width=3)],
                      cache_dir=runs["cache"], render=False)[0]
    assert len(sample.symbols["lead"]["steps"]) == 8 + 6


def test_missing_synthesiser_costs_only_the_audio(runs, monkeypatch):
    import core.rendering.piece
    import core.rendering.score

    def no_fluidsynth(*args, **kwargs):
        raise core.rendering.score.RenderError("fluidsynth is not installed")

    monkeypatch.setattr(core.rendering.piece, "render_wav", no_fluidsynth)
    sample = generate({"lead": runs["lead"]}, 8, [Decoding()], cache_dir=runs["cache"])[0]
    saved = json.loads((sample.folder / "sample.json").read_text())
    assert "fluidsynth" in saved["render_error"]
    assert set(saved["files"]) == {"midi", "musicxml", "svg", "notes"}
    assert any(s["sample_id"] == sample.sample_id for s in list_samples(runs["lead"]))


def test_sample_records_method_and_generation_time(runs):
    sample = generate({"lead": runs["lead"]}, 8, [Decoding(), Decoding("beam", beam_width=2)],
                      cache_dir=runs["cache"], render=False, method="stateful")
    saved = [json.loads((s.folder / "sample.json").read_text()) for s in sample]
    assert saved[0]["methods"] == {"lead": "stateful"}
    assert saved[1]["methods"] == {"lead": "window"}  # beam search always re-feeds windows


def test_a_sample_that_fails_to_save_leaves_nothing_listed(run_bank, tmp_path, monkeypatch):
    path = run_bank.copy(tmp_path, "lead_lstm")

    def full_disk(score, folder, stem):
        (Path(folder) / f"{stem}.mid").write_bytes(b"")  # a 0-byte MIDI, then the disk fills
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr("core.sampling.saving.render_all", full_disk)
    with pytest.raises(WriteError, match=r"no space left on the device while saving sample "
                                         rf".*-greedy-s0 of run {path.name}"):
        generate({"lead": path}, 8, [Decoding()], cache_dir=run_bank.cache)
    assert list_samples(path) == [] and list((path / "samples").iterdir()) == []
    monkeypatch.undo()
    sample = generate({"lead": path}, 8, [Decoding()], cache_dir=run_bank.cache, render=False)[0]
    assert sample.folder.parent == path / "samples" and sample.folder.is_dir()
    assert [s["sample_id"] for s in list_samples(path)] == [sample.sample_id]
