# Everything runs inside .venv, created on first use with the first Python 3.10+ on PATH (override: make PYTHON=...).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
DEMO_ARGS ?= --dataset digits --epochs 30 --seeds 3
# The test environment gets all three Keras backends, Ray and the export tools, so that no test is skipped (CI relies on it);
# TEST_EXTRAS=test keeps it to JAX without Ray. torch is pinned and installed first: with Python 3.11 on our machines pip takes
# the CPU build of torch 2.13.0 kept on their disk, while a plain 'torch' (or a Python without such a file) fetches
# PyPI's build, several GB with CUDA on Linux x86_64. Elsewhere pass TORCH='torch==2.13.0 --index-url URL' with
# PyTorch's CPU-only index, or another version that your Python has.
TEST_EXTRAS ?= test,tensorflow,torch,ray,export
TORCH ?= torch==2.13.0

.PHONY: install install-test demo test lint format typecheck check clean

$(BIN)/python:
	$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 10) else "rnnbench needs Python 3.10 or newer; run make PYTHON=python3.X")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml Makefile | $(BIN)/python
	$(if $(findstring torch,$(TEST_EXTRAS)),$(BIN)/python -m pip install --quiet $(TORCH))
	$(BIN)/python -m pip install --quiet -e '.[$(TEST_EXTRAS)]'
	touch $(VENV)/.installed $@

install: $(VENV)/.installed

install-test: $(VENV)/.installed-test

## demo: set up, compare SimpleRNN, LSTM and GRU on the bundled digits data set (offline), print the report's path
demo: install
	$(BIN)/rnnbench compare $(DEMO_ARGS)

## test: set up and run the test suite
test: install-test
	$(BIN)/python -m pytest -rs

lint: install-test
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks

format: install-test
	$(BIN)/ruff format src tests benchmarks
	$(BIN)/ruff check --fix src tests benchmarks

typecheck: install-test
	$(BIN)/mypy

check: lint typecheck test

clean:
	rm -rf $(VENV) build dist src/*.egg-info .pytest_cache .mypy_cache .ruff_cache
