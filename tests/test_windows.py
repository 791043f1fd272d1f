"""Windows and targets: stride 1, never across pieces, both objectives' targets; a window no
training piece can fill is refused from the piece lengths, with the reason."""
import dataclasses

import numpy as np
import pytest

from core.data.prepare import prepare_corpus
from core.nets.config import ConfigError, TrainConfig
from core.nets.windows import (
    batches_per_epoch,
    build_windows,
    check_windows,
    corpus_vocabularies,
    input_name,
    piece_lengths,
    piece_streams,
    to_dataset,
    windows_per_epoch,
)
from tests.fixtures import toy_corpus


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    return prepare_corpus(max_pieces=6, cache_dir=tmp_path_factory.mktemp("cache"), workers=1)


def batches(config, windows, objective, seed=0):
    return [(x, y) for x, y in to_dataset(windows, config, objective, shuffle=True, seed=seed)]


def test_windows_never_cross_pieces_and_targets_follow(corpus):
    config = TrainConfig(window=8, batch_size=4096).validate()
    vocabs = corpus_vocabularies(corpus, config)
    windows = build_windows(corpus, config, vocabs, "train")
    lengths = [len(p.lead.steps) for p in corpus.split("train")]
    assert len(windows) == sum(max(0, n - 8) for n in lengths)
    (x, y), = batches(config, windows, "window")
    x, y = np.asarray(x[input_name("steps")]), np.asarray(y)
    pieces = [vocabs["steps"].encode(piece_streams(p, config)["steps"])
              for p in corpus.split("train")]
    text = {tuple(p[i:i + 9]) for p in pieces for i in range(len(p) - 8)}
    for row, target in zip(x[:50], y[:50]):
        assert (*row, target) in text  # a real 9-symbol stretch of one piece


def test_sequence_objective_draws_a_fresh_nth_of_the_windows_each_epoch(corpus):
    config = TrainConfig(window=8, batch_size=4096, objective="sequence").validate()
    vocabs = corpus_vocabularies(corpus, config)
    windows = build_windows(corpus, config, vocabs, "train")
    assert windows_per_epoch(windows, "sequence") == len(windows) // 8
    dataset = to_dataset(windows, config, "sequence", shuffle=True, seed=1)
    epochs = [next(iter(dataset)) for _ in range(2)]
    (x1, y1), (x2, _) = epochs
    x1, y1 = np.asarray(x1[input_name("steps")]), np.asarray(y1)
    assert x1.shape == (len(windows) // 8, 8) and y1.shape == x1.shape
    np.testing.assert_array_equal(x1[:, 1:], y1[:, :-1])  # targets are the inputs shifted
    assert not np.array_equal(x1, np.asarray(x2[input_name("steps")]))


def test_window_longer_than_every_piece_names_the_field(corpus):
    config = TrainConfig(window=5000).validate()
    with pytest.raises(ConfigError) as err:
        check_windows(corpus, config)
    assert err.value.field == "window"


def refusal(config: TrainConfig, corpus=None) -> ConfigError | None:
    try:
        check_windows(corpus or toy_corpus(), config.validate())
    except ConfigError as exc:
        return exc
    return None


@pytest.mark.parametrize("settings", [dict(), dict(model=2), dict(part="accompaniment"),
                                      dict(part="accompaniment", conditioned=True)])
def test_check_accepts_exactly_the_windows_that_build_at_least_one(settings):
    corpus = toy_corpus()
    for n in range(1, 14):
        config = TrainConfig(window=n, **settings).validate()
        built = build_windows(corpus, config, corpus_vocabularies(corpus, config), "train")
        assert (refusal(config) is None) == (len(built) > 0), n


def test_piece_lengths_are_what_windows_are_cut_from():
    corpus = toy_corpus()
    assert piece_lengths(corpus, TrainConfig(), "train") == [6, 2]          # b is held out
    assert piece_lengths(corpus, TrainConfig(), "validation") == [12]
    assert piece_lengths(corpus, TrainConfig(model=2), "train") == [3, 1]   # events
    assert piece_lengths(corpus, TrainConfig(part="accompaniment"), "train") == [6]


def test_window_as_long_as_the_longest_piece_is_refused_with_the_right_reason():
    err = refusal(TrainConfig(window=6))  # the longest training lead has exactly 6 steps
    assert err.field == "window"
    assert str(err) == ("window: window 6 needs a training piece of 7 symbols (6 to read, 1 "
                        "to predict), but the longest lead of a training piece has 6: choose "
                        "a window of at most 5")
    assert refusal(TrainConfig(window=5)) is None


def test_corpus_without_the_part_says_so():
    corpus = toy_corpus()
    corpus.pieces = [dataclasses.replace(p, accompaniment=None) for p in corpus.pieces]
    err = refusal(TrainConfig(part="accompaniment", window=1), corpus)
    assert err.field == "part" and str(err) == "part: this corpus has no accompaniment parts"
    held_out_only = toy_corpus()
    held_out_only.pieces[0] = dataclasses.replace(held_out_only.pieces[0], split="validation")
    err = refusal(TrainConfig(part="accompaniment", window=1), held_out_only)
    assert err.field == "part" and "only held-out pieces" in str(err)


def test_whole_batches_leave_out_the_partial_batch_unless_there_is_no_whole_one(corpus):
    config = TrainConfig(window=8, batch_size=64, objective="sequence").validate()
    windows = build_windows(corpus, config, corpus_vocabularies(corpus, config), "train")
    count = windows_per_epoch(windows, "sequence")
    assert count % 64 and batches_per_epoch(windows, config) == count // 64
    assert batches_per_epoch(windows, config, whole=False) == count // 64 + 1
    sizes = [len(y) for _, y in to_dataset(windows, config, "sequence", shuffle=True,
                                           whole_batches=True)]
    assert sizes == [64] * (count // 64)
    big = dataclasses.replace(config, batch_size=count + 1)
    assert batches_per_epoch(windows, big) == 1
    assert [len(y) for _, y in to_dataset(windows, big, "sequence", shuffle=True,
                                          whole_batches=True)] == [count]


def test_the_sequence_objective_trains_on_its_own_window_length(corpus):
    config = TrainConfig(window=8, sequence_window=4, objective="sequence").validate()
    assert config.train_window == 4 and TrainConfig(window=8).train_window == 8
    vocabs = corpus_vocabularies(corpus, config)
    short = build_windows(corpus, config, vocabs, "train", config.train_window)
    assert short.window == 4 and build_windows(corpus, config, vocabs, "train").window == 8
    (x, y), *_ = batches(config, short, "sequence")
    assert np.asarray(x[input_name("steps")]).shape[1] == 4 == np.asarray(y).shape[1]
    refused = refusal(TrainConfig(window=8, sequence_window=5000, objective="sequence"))
    assert refused is not None and refused.field == "sequence_window" and "5000" in str(refused)
