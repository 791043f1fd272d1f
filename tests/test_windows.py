"""Windows and targets: stride 1, never across pieces, both objectives' targets."""
import numpy as np
import pytest

from core.data.prepare import prepare_corpus
from core.nets.config import ConfigError, TrainConfig
from core.nets.windows import (
    build_windows,
    check_windows,
    corpus_vocabularies,
    input_name,
    to_dataset,
    windows_per_epoch,
)


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    return prepare_corpus(max_pieces=6, cache_dir=tmp_path_factory.mktemp("cache"), workers=1)


def batches(config, windows, objective, seed=0):
    return [(x, y) for x, y in to_dataset(windows, config, objective, shuffle=True, seed=seed)]


def test_windows_never_cross_pieces_and_targets_follow(corpus):
    config = TrainConfig(window=8, batch_size=100_000).validate()
    vocabs = corpus_vocabularies(corpus, config)
    windows = build_windows(corpus, config, vocabs, "train")
    lengths = [len(p.lead.steps) for p in corpus.split("train")]
    assert len(windows) == sum(max(0, n - 8) for n in lengths)
    (x, y), = batches(config, windows, "window")
    x, y = np.asarray(x[input_name("steps")]), np.asarray(y)
    pieces = [vocabs["steps"].encode(p.lead.steps) for p in corpus.split("train")]
    text = {tuple(p[i:i + 9]) for p in pieces for i in range(len(p) - 8)}
    for row, target in zip(x[:50], y[:50]):
        assert (*row, target) in text  # a real 9-symbol stretch of one piece


def test_sequence_objective_draws_a_fresh_nth_of_the_windows_each_epoch(corpus):
    config = TrainConfig(window=8, batch_size=10_000, objective="sequence").validate()
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
    vocabs = corpus_vocabularies(corpus, config)
    with pytest.raises(ConfigError) as err:
        check_windows(build_windows(corpus, config, vocabs, "train"), corpus, config)
    assert err.value.field == "window"
