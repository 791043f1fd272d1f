# The two commands of the README: `make run` (set up, start the dashboard) and `make test`.
# GPU=1 / GPU=0 force TensorFlow's GPU / CPU build (default: the GPU build where nvidia-smi
# lists an NVIDIA GPU; scripts/setup.sh --print-plan says which).
PY := .venv/bin/python
HOST ?= 127.0.0.1
PORT ?= 8501
GPU ?=

.PHONY: setup setup-tests run test test-fast bench

setup:
	@GPU=$(GPU) bash scripts/setup.sh

setup-tests:
	@GPU=$(GPU) bash scripts/setup.sh --tests

run: setup
	$(PY) -m streamlit run app.py --server.address $(HOST) --server.port $(PORT)

test: setup-tests
	$(PY) -m pytest -q

# While developing: everything but the slow end-to-end and browser checks (CI runs `test`).
test-fast: setup-tests
	$(PY) -m pytest -q -m "not slow and not browser"

bench: setup
	$(PY) -m core bench
