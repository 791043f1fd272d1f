"""Corpus statistics on a hand-built corpus (no parsing), so every number is known."""
from __future__ import annotations

from core.data.statistics import (
    corpus_counts,
    duration_histogram,
    piece_table,
    report_table,
    symbol_frequencies,
)
from tests.fixtures import toy_corpus


def test_counts_per_part():
    counts = corpus_counts(toy_corpus()).set_index("part")
    lead = counts.loc["lead"]
    assert (lead["pieces"], lead["train pieces"], lead["held-out pieces"]) == (3, 2, 1)
    assert lead["steps (model 1)"] == 20 and lead["events (model 2)"] == 5
    assert lead["steps vocabulary"] == 5          # 60 _ r 62 64
    assert lead["pitch vocabulary"] == 4          # 60 r 62 64
    assert lead["duration vocabulary"] == 4       # 0.75 0.25 0.5 3.0
    acc = counts.loc["accompaniment"]
    assert acc["pieces"] == 1 and acc["steps vocabulary"] == 2


def test_symbol_frequencies_can_leave_out_holds():
    with_hold = symbol_frequencies(toy_corpus(), "lead", "steps", top=2)
    assert list(with_hold["symbol"]) == ["_", "60"]
    assert with_hold["count"].iloc[0] == 15
    without = symbol_frequencies(toy_corpus(), "lead", "steps", include_hold=False)
    assert "_" not in set(without["symbol"])
    assert abs(without["share"].sum() - 1.0) < 1e-9


def test_duration_histogram_sorted_by_length_not_text():
    hist = duration_histogram(toy_corpus(), "lead")
    assert list(hist["duration"]) == ["0.25", "0.5", "0.75", "3.0"]
    assert list(hist["count"]) == [1, 2, 1, 1]


def test_piece_table():
    table = piece_table(toy_corpus())
    assert list(table["lead steps"]) == [6, 12, 2]
    assert list(table["accompaniment steps"]) == [6, 0, 0]


def test_report_lists_skipped_files_first():
    report = report_table(toy_corpus())
    assert report.iloc[0].tolist()[:3] == ["x.mid", "skipped", "drums only"]
    assert "lead" in report and "moved_onsets" in report  # each file's roles and cleaning
    assert list(report["file"][1:]) == ["a.mid", "b.mid", "c.mid"]


def test_empty_part_gives_no_row_and_empty_tables():
    corpus = toy_corpus()
    corpus.pieces = [p for p in corpus.pieces if p.accompaniment is None]
    assert list(corpus_counts(corpus)["part"]) == ["lead"]
    assert symbol_frequencies(corpus, "accompaniment").empty
    assert duration_histogram(corpus, "accompaniment").empty
