# cargoscan: the two quick-start commands and their helpers.
#   make repro   set up a virtual environment and run the whole DVC pipeline offline (small profile)
#   make test    run the test suite
SHELL := /bin/bash
PY ?= python3.11
VENV ?= .venv
BIN := $(VENV)/bin
export HF_HUB_OFFLINE := 1
export MLFLOW_TRACKING_URI ?= sqlite:///mlflow.db

.PHONY: setup repro test bench clean-data archive

$(BIN)/cargoscan: pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip setuptools wheel
	# torch 2.14.1 + torchvision 0.29.1 (the 2.13.0+cpu wheel breaks torchvision's import)
	$(BIN)/pip install -q torch==2.14.1 torchvision==0.29.1
	$(BIN)/pip install -q -e .
	touch $@

setup: $(BIN)/cargoscan

repro: setup
	source $(BIN)/activate && dvc repro

test: setup
	$(BIN)/python -m pytest -q

bench: setup
	source $(BIN)/activate && for b in benchmarks/bench_*.py; do python $$b; done

# the default synthetic archive (data/raw, tracked by data.dvc); profile from params.yaml
archive: setup
	source $(BIN)/activate && cargoscan synth --out data/raw --force && dvc add data/raw
