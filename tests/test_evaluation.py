"""Evaluation on tiny real runs: reference and generated metrics, the comparison CSVs, the
conditioned-accompaniment comparison and the `evaluate` subcommand."""
import math

import pandas as pd
import pytest

from core.cli import main
from core.data.prepare import corpus_for
from core.evidence.conditioning import conditioning_comparison
from core.evidence.evaluation import (
    evaluate,
    evaluation_folder,
    generated_metrics,
    list_evaluations,
    read_evaluation,
    reference_metrics,
)
from core.evidence.measure import METRICS
from core.runs.record import open_run
from core.sampling.decoding import Decoding, GenerationError

GREEDY = Decoding("greedy")
WARM = Decoding("temperature", temperature=1.0)


@pytest.fixture(scope="module")
def runs(run_bank, tmp_path_factory):
    root = run_bank.folder(tmp_path_factory.mktemp("runs"), "lead_lstm", "accompaniment",
                           "conditioned", "model2")
    paths = {name: root / run_bank.path(name).name
             for name in ("accompaniment", "conditioned", "model2")}
    lead = root / run_bank.path("lead_lstm").name
    return {"cache": run_bank.cache, "lead": lead, **paths,
            "corpus": corpus_for(open_run(lead).config, run_bank.cache)}


def pair(runs, accompaniment="accompaniment"):
    return {"lead": runs["lead"], "accompaniment": runs[accompaniment]}


def in_unit_interval(values) -> bool:
    return all(math.isnan(v) or 0.0 <= v <= 1.0 for v in values)


def test_reference_has_one_row_per_held_out_piece(runs):
    held = runs["corpus"].split("validation")
    ref = reference_metrics(runs["lead"], cache_dir=runs["cache"])
    assert ref["piece"].tolist() == [p.name for p in held]
    assert ref["measured_symbols"].tolist() == [len(p.lead.steps) for p in held]
    assert in_unit_interval(ref["scale_consistency"]) and (ref["scale_consistency"] > 0.5).all()
    assert (ref["pitch_range"] > 0).all() and in_unit_interval(ref["consonance"])
    assert set(METRICS) <= set(ref.columns)
    from_corpus = reference_metrics(runs["corpus"])  # a bare corpus is measured in steps too
    pd.testing.assert_frame_equal(from_corpus, ref)
    excerpt = reference_metrics(runs["corpus"], skip=8, steps=16)
    assert excerpt["measured_symbols"].tolist() == [16] * len(held)
    assert excerpt["measured_quarters"].tolist() == [4.0] * len(held)


def test_training_pieces_are_fully_memorised(runs):
    ref = reference_metrics(runs["corpus"], split="train", parts=("lead",))
    assert len(ref) == len(runs["corpus"].split("train"))
    assert (ref["novelty_4"] == 0).all()
    assert (ref["memorisation"] == ref["measured_symbols"]).all()
    assert ref["consonance"].isna().all()  # no accompaniment measured


def test_generated_pieces_measure_only_the_continuation(runs):
    table = generated_metrics(pair(runs), [GREEDY, WARM], n_pieces=3, steps=16,
                              cache_dir=runs["cache"])
    assert table.groupby("decoding").size().to_dict() == {"greedy": 3, "temperature-t1": 3}
    assert table["piece_index"].tolist() == [0, 1, 2] * 2
    held = {p.name for p in runs["corpus"].split("validation")}
    assert set(table["seed_piece"]) <= held
    assert (table["lead_run"] == runs["lead"].name).all()
    assert (table["accompaniment_run"] == runs["accompaniment"].name).all()
    assert (table["measured_symbols"] == 16).all()  # the 8-symbol seed window is left out
    assert (table["measured_quarters"] == 4.0).all()
    for column in ("loop_share", "scale_consistency", "consonance", "novelty_4"):
        assert in_unit_interval(table[column]), column


def test_greedy_ignores_the_seed_and_sampling_repeats_with_it(runs):
    def metrics(decoding, seed):
        table = generated_metrics({"lead": runs["lead"]}, [decoding], n_pieces=2, steps=12,
                                  seed=seed, cache_dir=runs["cache"])
        return table.drop(columns="seed")

    pd.testing.assert_frame_equal(metrics(GREEDY, 0), metrics(GREEDY, 5))
    pd.testing.assert_frame_equal(metrics(WARM, 3), metrics(WARM, 3))


def test_model2_lead_with_beam_search_and_conditioned_accompaniment(runs):
    table = generated_metrics({"lead": runs["model2"]}, [Decoding("beam", beam_width=2)],
                              n_pieces=2, steps=6, cache_dir=runs["cache"])
    assert len(table) == 2 and (table["measured_symbols"] == 6).all()
    assert (table["measured_quarters"] > 0).all()
    alone = generated_metrics({"accompaniment": runs["conditioned"]}, [WARM], n_pieces=2,
                              steps=16, cache_dir=runs["cache"])
    assert (alone["measured_symbols"] == 16).all() and (alone["lead_run"] == "").all()


def test_evaluate_writes_tables_that_read_back(runs, tmp_path):
    folder = evaluation_folder(tmp_path)
    steps = []
    generated, comparison = evaluate(pair(runs), [GREEDY, WARM], n_pieces=2, steps=16,
                                     cache_dir=runs["cache"], out_dir=folder,
                                     progress=lambda *step: steps.append(step))
    assert [s[:2] for s in steps] == [(0, 2), (1, 2), (2, 2)]     # a step per decoding
    assert "temperature t=1" in steps[1][2]
    saved = read_evaluation(folder)
    assert list_evaluations(tmp_path) == [folder]
    pd.testing.assert_frame_equal(saved["generated"], generated, check_dtype=False)
    pd.testing.assert_frame_equal(saved["comparison"], comparison, check_dtype=False)
    assert saved["settings"]["runs"] == {"lead": runs["lead"].name,
                                         "accompaniment": runs["accompaniment"].name}
    assert (saved["reference"]["measured_symbols"] <= 16).all()  # excerpts, not whole pieces
    assert comparison["decoding"].unique().tolist() == ["greedy", "temperature-t1"]
    assert comparison["metric"].tolist() == list(METRICS) * 2
    assert in_unit_interval(comparison["overlapping_area"])


def test_conditioning_comparison_reports_both_pairs(runs):
    table = conditioning_comparison(pair(runs), pair(runs, "conditioned"), WARM, n_pieces=2,
                                    steps=16, cache_dir=runs["cache"])
    assert table["pair"].tolist() == ["unconditioned", "conditioned"]
    assert table["conditioned"].tolist() == [False, True]
    assert in_unit_interval(table["consonance_mean"]) and (table["pieces"] == 2).all()
    for name, loss in zip(("accompaniment", "conditioned"), table["best_val_loss"]):
        history = pd.read_csv(runs[name] / "history.csv")
        assert loss == pytest.approx(history["val_loss"].min())
    with pytest.raises(GenerationError, match="conditioned"):
        conditioning_comparison(pair(runs, "conditioned"), pair(runs), cache_dir=runs["cache"])


def test_requests_that_cannot_be_met_are_refused(runs):
    with pytest.raises(GenerationError, match="trained on the lead"):
        generated_metrics({"accompaniment": runs["lead"]}, [GREEDY], 1, 8,
                          cache_dir=runs["cache"])
    with pytest.raises(GenerationError, match="steps"):
        generated_metrics({"lead": runs["lead"]}, [GREEDY], 1, 0, cache_dir=runs["cache"])


def test_cli_prints_the_comparison_and_the_folder(runs, capsys):
    code = main(["evaluate", "--lead", str(runs["lead"]), "--accompaniment",
                 str(runs["accompaniment"]), "--conditioned", str(runs["conditioned"]),
                 "--decoding", "temperature:1.0", "--pieces", "2", "--steps", "8",
                 "--cache", str(runs["cache"])])
    out = capsys.readouterr().out
    assert code == 0 and "scale_consistency" in out and "unconditioned" in out
    folder = list_evaluations(runs["lead"])[0]
    assert f"CSV files in {folder}" in out
    assert {"generated", "reference", "comparison", "conditioning"} <= set(read_evaluation(folder))
    assert main(["evaluate", "--cache", str(runs["cache"])]) == 2


def _pairs(u_mean, u_std, u_loss, c_mean, c_std, c_loss):
    return pd.DataFrame([{"pair": "unconditioned", "consonance_mean": u_mean,
                          "consonance_std": u_std, "best_val_loss": u_loss},
                         {"pair": "conditioned", "consonance_mean": c_mean,
                          "consonance_std": c_std, "best_val_loss": c_loss}])


def test_describe_conditioning_reads_the_numbers():
    from core.evidence.conditioning import describe_conditioning

    text = describe_conditioning(_pairs(0.60, 0.01, 2.5, 0.75, 0.02, 2.1))
    assert text.startswith("The conditioned pair is more consonant (0.750 vs 0.600")
    assert "the conditioned accompaniment has the lower best held-out loss (2.100 vs 2.500)" in text
    assert "spread" not in text
    text = describe_conditioning(_pairs(0.70, 0.20, 1.9, 0.65, 0.10, 2.0))
    assert text.startswith("The unconditioned pair is more consonant (0.700 vs 0.650")
    assert "smaller than the spread between pieces (std 0.200)" in text
    assert "the unconditioned accompaniment has the lower best held-out loss (1.900 vs 2.000)" in text
    text = describe_conditioning(_pairs(math.nan, math.nan, math.nan, 0.5, 0.1, 2.0))
    assert "could not be measured for the unconditioned pair" in text
    assert "cannot be compared" in text
    assert describe_conditioning(_pairs(0.5, 0, 2.0, 0.5, 0, 2.0)).startswith(
        "Both pairs are equally consonant (0.500); both accompaniments reach the same")
    with pytest.raises(ValueError):
        describe_conditioning(_pairs(0.5, 0, 2.0, 0.5, 0, 2.0).iloc[:1])
