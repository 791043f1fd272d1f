"""`python -m core`: every user error is one line without a traceback (`--debug` shows it),
seeds and steps are checked against their documented bounds, `generate` shows a progress
bar, `resume` continues a stopped run, and `report --out` never writes over or deletes files
it did not write."""
from __future__ import annotations

import errno
import json
import re
from pathlib import Path

import pytest

from core import cli
from core.cli import main, results
from core.outputs.destination import OutputFolderError
from core.outputs.report import report_folder
from core.runs.history import read_history
from core.runs.samples import list_samples
from core.runs.status import change_state
from core.runs.training import enqueue, run_training
from tests.tiny import tiny_config


def one_line_error(capsys, argv: list[str], code: int = 2) -> str:
    """Run the CLI; it must exit with `code` and say one line on stderr, no traceback."""
    try:
        returned = main(argv)
    except SystemExit as exit_:  # argparse refuses a flag by exiting
        returned = exit_.code
    err = capsys.readouterr().err
    lines = [line for line in err.splitlines() if line.strip()]
    assert returned == code and len(lines) == 1, err
    assert lines[0].startswith("error: ") and "Traceback" not in err
    return lines[0]


@pytest.mark.parametrize("flags, message", [
    (["--seed", "-1"], "argument --seed: must be in [0, 4294967295], got -1"),
    (["--seed", "4294967296"], "argument --seed: must be in [0, 4294967295], got 4294967296"),
    (["--seed", "x"], "argument --seed: 'x' is not a whole number"),
    (["--steps", "1000000"], "argument --steps: must be in [1, 2000], got 1000000"),
    (["--steps", "0"], "argument --steps: must be in [1, 2000], got 0"),
])
def test_generate_and_evaluate_check_seeds_and_steps_first(capsys, tmp_path, flags, message):
    for command in ("generate", "evaluate"):
        line = one_line_error(capsys, [command, "--lead", str(tmp_path), *flags])
        assert line == f"error: {message} (see python -m core {command} --help)"


@pytest.mark.parametrize("decoding, message", [
    ("beam:100000", "beam_width must be in [1, 16], got 100000"),  # was 2.5 GB and minutes
    ("greedy:3", "greedy takes no value, got 'greedy:3'"),
    ("temperature:inf", "temperature must be in [0, 2] (0 is greedy), got inf"),
    ("temperature:", "temperature takes a number in [0, 2] after ':', got 'temperature:'"),
])
def test_decodings_are_refused_outside_their_bounds_before_anything_loads(capsys, tmp_path,
                                                                          decoding, message):
    for command in ("generate", "evaluate"):
        line = one_line_error(capsys, [command, "--lead", str(tmp_path), "--decoding",
                                       "greedy", "--decoding", decoding])
        assert line == f"error: argument --decoding: {message} (see python -m core " \
                       f"{command} --help)"


def test_a_refused_training_setting_leaves_no_run_folder(capsys, tmp_path):
    line = one_line_error(capsys, ["train", "--seed", "-1", "--runs", str(tmp_path / "runs")])
    assert line == "error: seed: must be in [0, 4294967295], got -1"
    assert not (tmp_path / "runs").exists()


def test_generate_names_what_is_wrong_with_its_run_or_seed(capsys, run_bank, tmp_path):
    run = run_bank.copy(tmp_path, "lead_lstm")
    line = one_line_error(capsys, ["generate", "--lead", str(run / "config.json")])
    assert line == f"error: {run / 'config.json'} is a file, not a run folder: give a run's " \
                   "folder (runs/<run id>)"
    line = one_line_error(capsys, ["generate", "--lead", str(run), "--seed-piece", "nope",
                                   "--cache", str(run_bank.cache)])
    held_out = json.loads((run / "config.json").read_text())["corpus"]["held_out"]
    assert line == f"error: no piece 'nope' in corpus bach-chorales; its held-out pieces are " \
                   f"{', '.join(held_out)}"
    assert list_samples(run) == []


def test_generate_shows_a_progress_bar_on_a_terminal(capsys, run_bank, tmp_path, monkeypatch):
    monkeypatch.setenv("TTY_COMPATIBLE", "1")  # rich draws as on a terminal
    monkeypatch.setenv("TTY_INTERACTIVE", "1")
    run = run_bank.copy(tmp_path, "lead_lstm")
    assert main(["generate", "--lead", str(run), "--steps", "8", "--decoding", "greedy",
                 "--decoding", "temperature:1.0", "--cache", str(run_bank.cache)]) == 0
    out, err = capsys.readouterr()
    assert "8 steps per part" in err and "2/2" in err
    assert len(list_samples(run)) == 2 and out.count("greedy: ") == 1
    best = read_history(run)["val_loss"].idxmin() + 1  # the epoch generation says it used
    assert f"lead: the model of epoch {best} of run {run.name}\n" in out


def test_prepare_of_an_unreadable_folder_is_one_line(capsys, tmp_path):
    line = one_line_error(capsys, ["prepare", "--corpus", "/proc", "--cache", str(tmp_path)])
    assert line.startswith("error: permission denied: /proc/")


def test_errors_of_the_system_and_ctrl_c_are_one_line_and_debug_shows_them(capsys,
                                                                          monkeypatch):
    def full(args):
        raise OSError(errno.ENOSPC, "No space left on device", "/runs/x/model.keras")

    monkeypatch.setattr(results, "cmd_runs", full)
    assert one_line_error(capsys, ["runs"]) == \
        "error: no space left on the device: /runs/x/model.keras"
    with pytest.raises(OSError):
        main(["--debug", "runs"])

    def interrupted(args):
        raise KeyboardInterrupt

    monkeypatch.setattr(results, "cmd_runs", interrupted)
    assert one_line_error(capsys, ["runs"], code=130) == "error: interrupted"


def test_resume_continues_a_stopped_run_and_refuses_what_it_cannot(capsys, run_bank,
                                                                  tmp_path):
    finished = run_bank.copy(tmp_path / "a", "lead_lstm")
    assert one_line_error(capsys, ["resume", str(finished), "--cache", str(run_bank.cache)]) \
        == f"error: run {finished.name} has finished all its epochs: nothing to resume"
    lines = (finished / "history.csv").read_text().splitlines(keepends=True)
    (finished / "history.csv").write_text("".join(lines[:-1]))  # a row lost, model kept
    change_state(finished, "killed", ("finished",))
    refusal = re.fullmatch(
        rf"error: run {finished.name} cannot resume: its model\.keras has trained (\d+) steps, "
        r"not the 1 epoch\(s\) of (\d+) its history\.csv records",
        one_line_error(capsys, ["resume", str(finished), "--cache", str(run_bank.cache)]))
    assert refusal and int(refusal[1]) == 2 * int(refusal[2])  # two epochs trained, one kept

    def ctrl_c(row):
        raise KeyboardInterrupt

    run = enqueue(tiny_config(), tmp_path / "runs", run_bank.cache)
    with pytest.raises(KeyboardInterrupt):  # Ctrl-C after epoch 1
        run_training(run, run_bank.cache, on_epoch=ctrl_c)
    capsys.readouterr()
    assert main(["resume", run.name, "--runs", str(tmp_path / "runs"),
                 "--cache", str(run_bank.cache)]) == 0
    out = capsys.readouterr().out
    assert "epoch 2:" in out and out.strip().endswith("finished, resumed at epoch 2")
    assert read_history(run)["epoch"].tolist() == [1, 2]
    change_state(run, "queued", ("finished",))
    assert one_line_error(capsys, ["train-run", str(run), "--cache", str(run_bank.cache)]) \
        == f"error: run {run.name} already has epochs: resume it (python -m core resume " \
           f"{run.name}) rather than train it again"


def test_report_out_refuses_a_file_or_a_folder_of_other_files(capsys, run_bank, tmp_path):
    run = str(run_bank.copy(tmp_path / "runs", "lead_lstm"))
    afile = tmp_path / "notes.txt"
    afile.write_text("mine")
    assert one_line_error(capsys, ["report", "--run", run, "--out", str(afile)]) == \
        f"error: {afile} is a file: give a folder for the output"
    mine = tmp_path / "home"
    mine.mkdir()
    for name in ("report.pdf", "thesis.tex"):
        (mine / name).write_text("mine")
    line = one_line_error(capsys, ["report", "--run", run, "--out", str(mine)])
    assert line.startswith(f"error: {mine} holds files this output does not write "
                           "(thesis.tex)")
    assert sorted(p.name for p in mine.iterdir()) == ["report.pdf", "thesis.tex"]
    with pytest.raises(OutputFolderError, match="holds files"):
        report_folder("/")  # refused before anything is written there
    only_pdf = tmp_path / "pdf"
    only_pdf.mkdir()
    (only_pdf / "report.pdf").write_text("mine")  # not a report of ours: no report.html
    with pytest.raises(OutputFolderError, match="has no report.html"):
        report_folder(only_pdf)


def test_report_out_reuses_an_earlier_report_folder(tmp_path):
    assert report_folder(tmp_path / "new").is_dir()
    earlier = tmp_path / "earlier"
    (earlier / "report_files").mkdir(parents=True)
    for name in ("report.html", "report.pdf"):
        (earlier / name).write_text("an earlier report")
    assert report_folder(earlier) == earlier


def test_no_runs_is_no_error(capsys, tmp_path):
    assert main(["runs", "--runs", str(tmp_path / "none")]) == 0
    assert capsys.readouterr().out == "no runs yet\n"


def test_a_file_given_as_the_runs_folder_is_an_error(capsys, tmp_path):
    """It read as "no runs yet" with exit 0."""
    afile = tmp_path / "runs.txt"
    afile.write_text("not runs")
    for argv in (["runs"], ["verdict"], ["train"]):
        assert one_line_error(capsys, [*argv, "--runs", str(afile)]) == \
            f"error: argument --runs: {afile} is a file, not a folder (see python -m core " \
            f"{argv[0]} --help)"
    assert afile.read_text() == "not runs"


def test_an_oversized_sequence_window_is_named_by_its_own_flag(capsys, run_bank, tmp_path):
    line = one_line_error(capsys, ["train", "--objective", "sequence", "--sequence-window",
                                   "5000", "--max-pieces", "6", "--cache", str(run_bank.cache),
                                   "--runs", str(tmp_path / "runs")])
    assert line.startswith("error: sequence_window: sequence_window 5000 needs a training "
                           "piece of 5001 symbols")
    assert "choose a sequence_window of at most" in line
    assert not (tmp_path / "runs").exists()


@pytest.mark.slow
def test_tensorflow_start_up_lines_are_held_back(tmp_path):
    """TensorFlow writes its start-up lines straight to file descriptor 2; a command that
    needs it shows only its own output (the lines come back with --verbose, which imports
    TensorFlow plainly)."""
    import subprocess
    import sys

    def stderr(*argv: str) -> str:
        return subprocess.run([sys.executable, *argv], capture_output=True, text=True,
                              cwd=Path(cli.__file__).resolve().parents[2], timeout=120).stderr

    assert "oneDNN" in stderr("-c", "import tensorflow")  # what there is to hold back
    assert stderr("-c", "from core.cli import import_tensorflow_quietly as q; q()") == ""
    line = stderr("-m", "core", "generate", "--lead", str(tmp_path / "no-run"))
    assert line == f"error: there is no run folder {tmp_path / 'no-run'}\n"


def test_the_folders_are_the_dashboards_unless_a_flag_says_otherwise(capsys, tmp_path,
                                                                    monkeypatch):
    from core.cli import build_parser
    from tests.fixtures import LOW, melody, write_score

    for variable, name in (("MUSIC_RUNS_DIR", "r"), ("MUSIC_CACHE_DIR", "c"),
                           ("MUSIC_UPLOADS_DIR", "u"), ("MUSIC_SWEEPS_DIR", "s"),
                           ("MUSIC_REPORTS_DIR", "p")):
        monkeypatch.setenv(variable, str(tmp_path / name))
    parse = build_parser().parse_args
    assert parse(["runs"]).runs == tmp_path / "r"
    assert parse(["train"]).cache == tmp_path / "c"
    assert parse(["sweeps"]).sweeps == tmp_path / "s"
    assert parse(["runs", "--runs", str(tmp_path / "mine")]).runs == tmp_path / "mine"
    write_score(tmp_path / "u" / "my-upload" / "a.mid", [("Flute", melody(LOW))])
    assert main(["prepare", "--corpus", "my-upload"]) == 0          # an upload, by its name
    assert "my-upload: 1 kept" in capsys.readouterr().out
    assert len(list((tmp_path / "c").glob("my-upload-*.npz"))) == 1  # in the dashboard's cache
