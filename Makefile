# Two entry points: `make demo` (the main job) and `make test`.  Both create .venv on first
# use and install what they need.  torch is installed first, pinned, so that on a CPU-only
# machine with a local CPU wheel pip does not pull several GB of CUDA packages.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
TORCH_SPEC ?= torch==2.13.0
STAMP  := $(VENV)/.polyir-installed
OFFLINE := HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 HF_DATASETS_OFFLINE=1
PYTEST_ARGS ?=

.PHONY: demo test test-all bench install clean

install: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q "$(TORCH_SPEC)"
	$(BIN)/python -m pip install -q -e ".[test,faiss,parquet,translate]"
	touch $(STAMP)

demo: $(STAMP)
	$(OFFLINE) $(BIN)/polyir demo

test: $(STAMP)
	$(OFFLINE) $(BIN)/python -m pytest -n 2 -q $(PYTEST_ARGS)

test-all: $(STAMP)
	$(OFFLINE) $(BIN)/python -m pytest -n 2 -q -m "" $(PYTEST_ARGS)

clean:
	rm -rf $(VENV) build dist src/*.egg-info .pytest_cache .hypothesis
