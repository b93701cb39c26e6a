# cargoscan: the two quick-start commands and their helpers.
#   make repro   set up a virtual environment and run the whole DVC pipeline offline (small profile)
#   make test    run the test suite (the full suite; CI runs it)
#   make test-fast  the suite without the tests marked `slow` (a quick lane for development)
SHELL := /bin/bash
PY ?= python3.11
VENV ?= .venv
BIN := $(VENV)/bin
export HF_HUB_OFFLINE := 1
export MLFLOW_TRACKING_URI ?= sqlite:///mlflow.db

.PHONY: setup repro test test-fast bench clean-data archive cpu-reference

$(BIN)/cargoscan: pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip setuptools wheel
	# torch 2.14.1 + torchvision 0.29.1 (the 2.13.0+cpu wheel breaks torchvision's import)
	$(BIN)/pip install -q torch==2.14.1 torchvision==0.29.1
	$(BIN)/pip install -q -e .
	# the scene-text networks of the OCR (PP-OCRv4 via RapidOCR, models inside the wheel; also the packaged
	# baseline); --no-deps: its opencv-python would clobber opencv-python-headless. six, tqdm, PyYAML, Pillow,
	# onnxruntime come with cargoscan's own dependencies.
	$(BIN)/pip install -q pyclipper==1.4.0 shapely==2.2.0 six tqdm
	$(BIN)/pip install -q --no-deps rapidocr-onnxruntime==1.4.4
	touch $@

setup: $(BIN)/cargoscan

# The main job: the archive (synthesised once; `make archive` re-synthesises it), committed to DVC through
# data.dvc, then the whole pipeline, then a push to the local default remote (.dvc/storage).
repro: setup data/raw/scans.csv
	source $(BIN)/activate && dvc commit -f -q data.dvc && dvc repro && dvc push -q

data/raw/scans.csv:
	$(MAKE) archive

test: setup
	$(BIN)/python -m pytest -q

# The quick lane: the same run less the tests marked `slow` (pyproject's pytest markers), on two workers.
test-fast: setup
	$(BIN)/python -m pytest -q -m "not slow" -n 2

bench: setup
	source $(BIN)/activate && for b in benchmarks/bench_*.py; do python $$b; done

# The `cpu` profile's reference run (issue #14): trained, evaluated, exported (operating point on data/bench/val)
# and benchmarked beside the default pipeline, outputs under data/models/cpu and reports/cpu. Resumable: run it
# again after a stop and training goes on from data/models/cpu/checkpoints. Needs `make repro` first (data/raw,
# data/prepared, data/bench).
CPU_PARAMS := data/tmp/params_cpu.yaml
cpu-reference: setup
	source $(BIN)/activate && python scripts/cpu_overlay.py params.yaml $(CPU_PARAMS) \
	  && cargoscan train --params $(CPU_PARAMS) && cargoscan evaluate --params $(CPU_PARAMS) \
	  && cargoscan export --params $(CPU_PARAMS) \
	  && cargoscan references data/raw --artifact data/models/cpu/export --out data/models/cpu/references \
	  && cargoscan benchmark --params $(CPU_PARAMS) --inspections data/bench/inspections-cpu/test \
	  && cp data/models/cpu/export/model_card.md reports/cpu/model_card.md

# The default synthetic archive (data/raw, tracked by data.dvc only): scans, labels, tables and camera frames.
archive: setup
	source $(BIN)/activate && cargoscan synth --out data/raw --force && cargoscan frames data/raw \
	  && dvc commit -f -q data.dvc
