"""A GPU where there is one: the set-up picks TensorFlow's GPU build where `nvidia-smi -L`
lists an NVIDIA GPU (a stand-in nvidia-smi here: this machine has none), the CPU build
elsewhere, GPU=1 / GPU=0 force either; and a sweep's --gpus-per-trial is refused where
TensorFlow cannot see a GPU. (End to end on a cluster with a pretend GPU node:
tests/test_sweeps_ray.py.)"""
from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from core.sweeps.runtime import gpu_problem, tensorflow_gpus

REPO = Path(__file__).resolve().parents[1]
LISTED = "GPU 0: NVIDIA H100 80GB HBM3 (UUID: GPU-5f4e3d2c-0000-1111-2222-333344445555)"
NO_DRIVER = ("NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver. "
             "Make sure that the latest NVIDIA driver is installed and running.")


def plan(tmp_path: Path, nvidia_smi: str | None, gpu: str | None = None) -> list[str]:
    """scripts/setup.sh --print-plan with only a stand-in nvidia-smi on PATH (`nvidia_smi`:
    the script's body; None: no nvidia-smi at all). It installs nothing."""
    stand_in = tmp_path / "bin"
    stand_in.mkdir(exist_ok=True)
    if nvidia_smi is not None:
        (stand_in / "nvidia-smi").write_text(f"#!/bin/bash\n{nvidia_smi}\n")
        (stand_in / "nvidia-smi").chmod(0o755)
    env = {"PATH": str(stand_in), **({"GPU": gpu} if gpu is not None else {})}
    done = subprocess.run(["/bin/bash", str(REPO / "scripts" / "setup.sh"), "--print-plan"],
                          env=env, capture_output=True, text=True, timeout=30)
    assert done.returncode == 0 and done.stderr == "", done.stderr
    return done.stdout.splitlines()


@pytest.mark.parametrize("nvidia_smi, gpu, build", [
    (f"echo '{LISTED}'", None, f"gpu (nvidia-smi lists {LISTED})"),
    (f"echo '{NO_DRIVER}'; exit 9", None, "cpu (nvidia-smi lists no NVIDIA GPU)"),
    ("exit 0", None, "cpu (nvidia-smi lists no NVIDIA GPU)"),
    (None, None, "cpu (no nvidia-smi: no NVIDIA driver)"),
    (f"echo '{LISTED}'", "0", "cpu (GPU=0)"),
    (f"echo '{NO_DRIVER}'; exit 9", "1", "gpu (GPU=1)"),
])
def test_the_set_up_installs_the_gpu_build_where_nvidia_smi_lists_a_gpu(tmp_path, nvidia_smi,
                                                                        gpu, build):
    tensorflow = "tensorflow[and-cuda]==2.21.0" if build.startswith("gpu") else \
        "tensorflow-cpu==2.21.0"
    assert plan(tmp_path, nvidia_smi, gpu) == [f"tensorflow build: {build}",
                                               f"installs {tensorflow}"]


def test_the_gpu_build_is_the_cpu_pin_s_version_and_the_only_difference():
    cpu = (REPO / "requirements.txt").read_text().splitlines()
    gpu = [line for line in (REPO / "requirements-gpu.txt").read_text().splitlines()
           if not line.startswith("#")]
    (pin,) = [line for line in cpu if line.startswith("tensorflow")]
    assert gpu == [pin.replace("tensorflow-cpu", "tensorflow[and-cuda]")]


def test_a_wrong_switch_is_refused(tmp_path):
    done = subprocess.run(["/bin/bash", str(REPO / "scripts" / "setup.sh"), "--print-plan"],
                          env={"PATH": "/usr/bin:/bin", "GPU": "yes"}, capture_output=True,
                          text=True, timeout=30)
    assert done.returncode == 2 and done.stderr == "setup: GPU must be 1, 0 or unset, got " \
                                                   "'yes'\n"


def test_gpus_per_trial_is_refused_where_tensorflow_cannot_see_a_gpu():
    """What a node says about its TensorFlow: the CPU build (this machine's), a GPU build
    without a driver, and one that sees a GPU, which alone is not refused."""
    version, cuda, seen = tensorflow_gpus()
    assert (gpu_problem(version, cuda, seen) == "") == (cuda and seen > 0)
    assert gpu_problem("2.21.0", False, 0) == (
        "TensorFlow 2.21.0 is the CPU build (tensorflow-cpu): install the GPU build there "
        "with `make setup GPU=1`")
    assert gpu_problem("2.21.0", True, 0) == (
        "TensorFlow 2.21.0 sees no GPU: check the NVIDIA driver there (`nvidia-smi -L`)")
    assert gpu_problem("2.21.0", True, 1) == ""
