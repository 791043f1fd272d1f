#!/usr/bin/env bash
# Idempotent set-up on Debian: system packages where missing, then a virtual environment in
# .venv with requirements.txt. A second run with nothing changed takes a second or two.
#
# TensorFlow's build follows TensorFlow's own install matrix: the GPU build
# (tensorflow[and-cuda], requirements-gpu.txt, with CUDA and cuDNN from pip) where
# `nvidia-smi -L` lists an NVIDIA GPU (so a driver is there), the CPU build
# (requirements.txt's tensorflow-cpu) elsewhere. GPU=1 or GPU=0 forces either
# (`make run GPU=1`). The venv's stamp covers the choice, so a switch reinstalls.
# `scripts/setup.sh --print-plan` prints the choice and installs nothing.
set -euo pipefail
cd "${0%/*}/.."

# The TensorFlow build to install, "gpu" or "cpu", then why, on one line (bash alone, so
# --print-plan runs anywhere).
tensorflow_build() {
  case "${GPU:-}" in
    1) echo "gpu (GPU=1)"; return ;;
    0) echo "cpu (GPU=0)"; return ;;
    "") ;;
    *) echo "setup: GPU must be 1, 0 or unset, got '${GPU}'" >&2; exit 2 ;;
  esac
  if ! command -v nvidia-smi >/dev/null 2>&1; then
    echo "cpu (no nvidia-smi: no NVIDIA driver)"
    return
  fi
  local listed
  listed=$(nvidia-smi -L 2>/dev/null) || listed=""
  if [[ "$listed" == GPU\ * ]]; then
    echo "gpu (nvidia-smi lists ${listed%%$'\n'*})"
  else
    echo "cpu (nvidia-smi lists no NVIDIA GPU)"
  fi
}

# The requirement lines of a build: requirements.txt, with tensorflow-cpu replaced by
# requirements-gpu.txt's TensorFlow for the GPU build.
requirements() {
  local line
  while IFS= read -r line || [ -n "$line" ]; do
    if [ "$1" = gpu ] && [[ "$line" == tensorflow-cpu==* ]]; then
      while IFS= read -r line || [ -n "$line" ]; do
        [[ "$line" == "#"* ]] || printf '%s\n' "$line"
      done < requirements-gpu.txt
    else
      printf '%s\n' "$line"
    fi
  done < requirements.txt
}

build=$(tensorflow_build)
if [ "${1:-}" = "--print-plan" ]; then
  echo "tensorflow build: $build"
  while IFS= read -r line || [ -n "$line" ]; do
    [[ "$line" != tensorflow* ]] || echo "installs $line"
  done < <(requirements "${build%% *}")
  exit 0
fi

need=()
command -v fluidsynth >/dev/null 2>&1 || need+=(fluidsynth)
[ -f /usr/share/sounds/sf2/FluidR3_GM.sf2 ] || need+=(fluid-soundfont-gm)
if [ "${1:-}" = "--tests" ]; then
  [ -x /usr/bin/chromium ] || need+=(chromium)
fi
if [ ${#need[@]} -gt 0 ]; then
  echo "setup: installing system packages: ${need[*]}"
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${need[@]}"
fi

PY="${PYTHON:-python3.11}"
command -v "$PY" >/dev/null 2>&1 || PY=python3
if [ ! -x .venv/bin/python ]; then
  echo "setup: creating .venv with $($PY --version)"
  "$PY" -m venv .venv
fi
stamp=.venv/.requirements.sha256
wanted=.venv/.requirements-${build%% *}.txt
requirements "${build%% *}" > "$wanted"
want=$(sha256sum "$wanted" | cut -d' ' -f1)
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  echo "setup: installing Python packages with TensorFlow's ${build%% *} build (${build#* (}; the first time takes a few minutes"
  .venv/bin/pip install -q --disable-pip-version-check --upgrade pip
  # The two builds install the same `tensorflow` package: the other one goes first.
  other=tensorflow; [ "${build%% *}" = cpu ] || other=tensorflow-cpu
  .venv/bin/pip uninstall -q -y "$other" >/dev/null 2>&1 || true
  .venv/bin/pip install -q --disable-pip-version-check -r "$wanted"
  echo "$want" > "$stamp"
fi
